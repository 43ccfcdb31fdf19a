"""Pure helpers: physical names, instance storage, S3 URIs, image repositories, step entry."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from mlops_infra.backends.aws._contract import (
    HP_COMPONENT,
    HP_DATA,
    HP_INPUTS,
    HP_MODEL,
    HP_PARAMS,
    HP_PIPELINE,
    HP_STEP,
    HP_TAGS,
    HP_VERSION,
)
from mlops_infra.backends.aws._iam import repository_of
from mlops_infra.backends.aws._naming import bucket_prefix, has_instance_storage, physical_name
from mlops_infra.backends.aws._store import split_s3_uri
from mlops_infra.backends.aws.container_entry import build_context


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("prod", "mlops-tracking"), "prod-mlops-tracking"),
        (("Prod_EU", "My Model"), "prod-eu-my-model"),
        (("a" * 70,), "a" * 54 + "-" + "8d4b2a2c"[:8]),
    ],
)
def test_physical_name(parts: tuple[str, ...], expected: str) -> None:
    name = physical_name(*parts)
    assert len(name) <= 63
    if len(expected) > 60:
        assert name.startswith("a" * 54 + "-")
        assert len(name) == 63
    else:
        assert name == expected


def test_bucket_prefix_fits_s3() -> None:
    assert bucket_prefix("dev", "mlops-store") == "dev-mlops-store-"
    assert len(bucket_prefix("a-very-long-stack-name", "an-even-longer-component-name")) <= 37


@pytest.mark.parametrize(
    ("instance_type", "local"),
    [("ml.g5.xlarge", True), ("ml.p4d.24xlarge", True), ("ml.m5.large", False),
     ("g6.xlarge", True), ("ml.c5.2xlarge", False)],
)  # fmt: skip
def test_instance_storage(instance_type: str, local: bool) -> None:
    assert has_instance_storage(instance_type) is local


@pytest.mark.parametrize(
    ("uri", "expected"),
    [("s3://b", ("b", "")), ("s3://b/ml/", ("b", "ml/")), ("s3://b/a/b", ("b", "a/b/"))],
)
def test_split_s3_uri(uri: str, expected: tuple[str, str]) -> None:
    assert split_s3_uri(uri) == expected


@pytest.mark.parametrize(
    ("image", "arn"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod-mlops:mlops-runtime",
         "arn:aws:ecr:eu-west-1:123456789012:repository/prod-mlops"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/img@sha256:" + "a" * 64,
         "arn:aws:ecr:us-east-1:123456789012:repository/team/img"),
        ("ghcr.io/mlflow/mlflow:v3.11.0", None),
    ],
)  # fmt: skip
def test_repository_of(image: str, arn: str | None) -> None:
    assert repository_of(image, "aws") == arn


def test_container_entry_builds_the_context(tmp_path: Path) -> None:
    upstream = tmp_path / "input" / "data" / "step-featurize"
    upstream.mkdir(parents=True)
    payload = tmp_path / "train.npz"
    payload.write_text("x", encoding="utf-8")
    with tarfile.open(upstream / "model.tar.gz", "w:gz") as bundle:
        bundle.add(payload, arcname="train.npz")
    hp = {
        HP_PIPELINE: "diagnosis",
        HP_STEP: "train",
        HP_VERSION: "abc",
        HP_MODEL: "diagnosis",
        HP_COMPONENT: "diagnosis.train",
        HP_PARAMS: json.dumps({"c": 1}),
        HP_DATA: json.dumps({"table": "channel:data-table", "remote": "hf://org/data"}),
        HP_INPUTS: json.dumps(["featurize"]),
        HP_TAGS: json.dumps({"mlops.pipeline": "diagnosis"}),
    }
    context = build_context(hp, tmp_path, "run-1")
    assert context["run_id"] == "run-1"
    assert context["params"] == {"c": 1}
    assert context["data"] == {
        "table": str(tmp_path / "input" / "data" / "data-table"),
        "remote": "hf://org/data",
    }
    unpacked = Path(context["inputs"]["featurize"])
    assert (unpacked / "train.npz").read_text(encoding="utf-8") == "x"
    assert context["output_dir"] == str(tmp_path / "model")
