"""`mlops-infra schema` is a valid JSON Schema and every stack file in stacks/ satisfies it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from mlops_infra.cli.main import main
from mlops_infra.specs.schema import stack_file_schema

STACKS = sorted((Path(__file__).resolve().parents[3] / "stacks").glob("Pulumi.*.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    return stack_file_schema(["aws", "azure", "gcp", "local"])


def test_schema_is_valid_draft_2020_12(schema: dict[str, object]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)


def test_cli_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed["properties"]["config"]["properties"]["mlops:cloud"]["enum"] == sorted(
        printed["properties"]["config"]["properties"]["mlops:cloud"]["enum"]
    )


@pytest.mark.parametrize("path", STACKS, ids=[p.name for p in STACKS])
def test_every_stack_file_satisfies_the_schema(schema: dict[str, object], path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"mlops:cloud": "mars"}, "'mars' is not one of"),
        ({"mlops:stack": {"clusters": [{"name": "g", "gpuu": "l4"}]}}, "'gpuu' was unexpected"),
        (
            {"mlops:stack": {"clusters": [{"name": "g", "disk_gib": -1}]}},
            "-1 is less than the minimum",
        ),
        ({"mlops:stack": {"cloud": "aws"}}, "'cloud' was unexpected"),
        ({"mlops:trackingPassword": "plaintext"}, "is not of type 'object'"),
    ],
)
def test_schema_rejects_what_validate_rejects(
    schema: dict[str, object], config: dict[str, object], fragment: str
) -> None:
    with pytest.raises(jsonschema.ValidationError, match=fragment):
        jsonschema.Draft202012Validator(schema).validate({"config": config})
