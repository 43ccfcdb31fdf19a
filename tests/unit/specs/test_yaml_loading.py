"""Stack files are parsed by libyaml when PyYAML has it, with PyYAML's own values and errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_infra.errors import SpecValidationError
from mlops_infra.specs import loading

REPO = Path(__file__).resolve().parents[3]
STACK_FILES = sorted((REPO / "stacks").glob("Pulumi.*.yaml"))


def _python_parse(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loading._UniqueKeyLoader)  # noqa: S506


def test_libyaml_is_used_when_installed() -> None:
    assert (loading._fast_loader is not None) == yaml.__with_libyaml__


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_every_stack_file_reads_the_same_with_both_parsers(path: Path) -> None:
    document = _python_parse(path)
    assert loading.read_stack_file(path) == document["config"]
    assert repr(loading.read_stack_file(path)) == repr(document["config"])  # types and order


@pytest.mark.parametrize(
    "text",
    [
        "config:\n  mlops:cloud: local\n  mlops:cloud: aws\n",
        "config:\n  mlops:cloud: [\n",
        "config:\n\t- tab\n",
        "config: {a: 1\n",
        "config:\n  x: 'unterminated\n",
        "config:\n  - a\n  b: c\n",
        "config: !!python/object:os.system {}\n",
        "config:\n  a: 1\n  &x b: *y\n",
    ],
)
def test_errors_are_those_of_the_python_parser(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(yaml.YAMLError) as expected:
        _python_parse(path)
    with pytest.raises(SpecValidationError) as found:
        loading.read_stack_file(path)
    assert found.value.issues[0].message == loading._yaml_problem(expected.value)
