"""Pure logic of the Azure backend: names, durations, URIs, rules, traffic, entry point."""

from __future__ import annotations

import re

import pytest
from azure_mocks import azure_run

from mlops_infra.backends.azure._naming import (
    compact,
    iso_duration,
    parse_blob_uri,
    parse_workspace_uri,
    short_name,
    unique_suffix,
)
from mlops_infra.backends.azure.container_entry import build_context, decode_context, encode_context
from mlops_infra.errors import BackendError
from mlops_infra.specs import ArtifactStoreSpec, LifecycleRule, ScheduleSpec


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "PT0S"),
        (59, "PT59S"),
        (60, "PT1M"),
        (600, "PT10M"),
        (3600, "PT1H"),
        (3661, "PT1H1M1S"),
        (86400, "P1D"),
        (90061, "P1DT1H1M1S"),
        (28 * 86400, "P28D"),
    ],
)
def test_iso_duration(seconds: int, expected: str) -> None:
    assert iso_duration(seconds) == expected


def test_iso_duration_rejects_negative() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        iso_duration(-1)


@pytest.mark.parametrize(
    ("prefix", "base", "suffix", "max_length", "expected"),
    [
        ("st", "mlops-store", "abcd1234", 24, "stmlopsstoreabcd1234"),
        ("st", "Very-Long_Component.Name-x", "abcd1234", 24, "stverylongcomponabcd1234"),
        ("kv", "mlopsprod", "0123abcd", 24, "kvmlopsprod0123abcd"),
        ("cr", "a-b", "ff", 50, "crabff"),
    ],
)
def test_compact(prefix: str, base: str, suffix: str, max_length: int, expected: str) -> None:
    name = compact(prefix, base, suffix, max_length)
    assert name == expected
    assert len(name) <= max_length
    assert name.isalnum()
    assert name == name.lower()


def test_compact_without_room() -> None:
    with pytest.raises(ValueError, match="no room"):
        compact("prefix", "x", "suffix", 10)


@pytest.mark.parametrize(
    ("name", "max_length"), [("gpu", 16), ("a-very-long-cluster-name", 16), ("x" * 40, 33)]
)
def test_short_name(name: str, max_length: int) -> None:
    short = short_name(name, max_length)
    assert len(short) <= max_length
    assert not short.endswith("-")
    if len(name) <= max_length:
        assert short == name
    else:
        assert short != short_name(name + "y", max_length)


def test_unique_suffix_is_stable_and_differs() -> None:
    assert unique_suffix("sub", "rg") == unique_suffix("sub", "rg")
    assert unique_suffix("sub", "rg") != unique_suffix("sub2", "rg")
    assert len(unique_suffix("a", length=16)) == 16
    assert unique_suffix(None, "rg") == unique_suffix("", "rg")


def test_parse_workspace_uri() -> None:
    uri = (
        "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/sub-1/resourceGroups/"
        "rg-1/providers/Microsoft.MachineLearningServices/workspaces/ws-1"
    )
    location = parse_workspace_uri(uri)
    assert location is not None
    assert (location.subscription_id, location.resource_group_name, location.workspace_name) == (
        "sub-1",
        "rg-1",
        "ws-1",
    )
    assert location.workspace_id.endswith("/workspaces/ws-1")
    assert parse_workspace_uri("https://mlflow.example.com") is None
    assert parse_workspace_uri(None) is None


def test_parse_blob_uri() -> None:
    location = parse_blob_uri("https://acct1.blob.core.windows.net/artifacts")
    assert location is not None
    assert (location.account_name, location.container_name) == ("acct1", "artifacts")
    assert parse_blob_uri("s3://bucket") is None


def test_subnet_ranges() -> None:
    from mlops_infra.backends.azure._network import subnet_ranges

    assert subnet_ranges("10.40.0.0/16") == ("10.40.0.0/18", "10.40.64.0/18")
    assert subnet_ranges("10.1.2.0/24") == ("10.1.2.0/26", "10.1.2.64/26")


def test_lifecycle_rules_translate_prefixes_and_versions() -> None:
    from mlops_infra.backends.azure.artifact_store import lifecycle_rules

    spec = ArtifactStoreSpec(
        lifecycle=(
            LifecycleRule(name="tmp-data", prefix="tmp/", expire_after_days=7),
            LifecycleRule(name="old", prefix="runs/", noncurrent_after_days=30),
        ),
        noncurrent_version_days=90,
    )
    rules = lifecycle_rules(spec, "artifacts")
    assert [rule.name for rule in rules] == ["tmpdata", "old", "noncurrentversions"]
    first = rules[0].definition
    assert first.filters is not None
    assert first.filters.prefix_match == ["artifacts/tmp/"]
    assert first.filters.blob_types == ["blockBlob"]
    assert first.actions.base_blob is not None
    assert first.actions.base_blob.delete is not None
    assert first.actions.base_blob.delete.days_after_creation_greater_than == 7
    assert first.actions.version is None
    second = rules[1].definition.actions
    assert second.base_blob is None
    assert second.version is not None
    assert second.version.delete is not None
    assert second.version.delete.days_after_creation_greater_than == 30
    last = rules[2].definition
    assert last.filters is not None
    assert last.filters.prefix_match == ["artifacts/"]


def test_lifecycle_rules_without_versioning_or_noncurrent() -> None:
    from mlops_infra.backends.azure.artifact_store import lifecycle_rules

    spec = ArtifactStoreSpec(lifecycle=(), versioning=False, noncurrent_version_days=None)
    assert lifecycle_rules(spec, "c") == []


def test_lifecycle_rule_names_that_collide_on_azure() -> None:
    from mlops_infra.backends.azure.artifact_store import lifecycle_rules

    spec = ArtifactStoreSpec(
        lifecycle=(
            LifecycleRule(name="a-b", expire_after_days=1),
            LifecycleRule(name="ab", expire_after_days=2),
        )
    )
    with pytest.raises(BackendError, match="both become 'ab'"):
        lifecycle_rules(spec, "c")


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", "UTC"),
        ("Europe/Paris", "Romance Standard Time"),
        ("America/New_York", "Eastern Standard Time"),
    ],
)
def test_schedule_time_zone(zone: str, expected: str) -> None:
    from mlops_infra.backends.azure.pipeline import schedule_time_zone

    assert schedule_time_zone(ScheduleSpec(cron="0 3 * * 1", timezone=zone)) == expected


def test_schedule_time_zone_unknown() -> None:
    from mlops_infra.backends.azure.pipeline import schedule_time_zone

    with pytest.raises(BackendError, match=r"'Pacific/Chatham' has no Azure ML"):
        schedule_time_zone(ScheduleSpec(cron="0 3 * * 1", timezone="Pacific/Chatham"))


@pytest.mark.parametrize(
    ("component", "step", "expected"),
    [("mlops-pipeline-churn", "train", "mlops_pipeline_churn_train"), ("A.b", "C-d", "a_b_c_d")],
)
def test_component_name(component: str, step: str, expected: str) -> None:
    from mlops_infra.backends.azure.pipeline import component_name

    assert component_name(component, step) == expected


@pytest.mark.parametrize(
    ("traffic", "expected"),
    [
        ({}, None),
        ({"v3": 100}, "3"),
        ({"v3": 90, "v4": 10}, "3"),
        ({"v3": 50, "v4": 50}, None),
        ({"v3": 0, "v4": 100}, "4"),
        ({"other": 100}, None),
    ],
)
def test_serving_version_is_what_takes_the_traffic(
    traffic: dict[str, int], expected: str | None
) -> None:
    from mlops_infra.backends.azure.online_release import serving_version

    assert serving_version(traffic, {"v3": "3", "v4": "4"}) == expected


def test_entry_context_round_trip() -> None:
    values = {"pipeline": "p", "step": "s", "version": "v", "model_name": "m", "params": {"c": 1}}
    encoded = encode_context(values)
    assert encoded.replace("-", "").replace("_", "").replace("=", "").isalnum()
    assert decode_context(encoded) == values


def test_entry_builds_the_step_context() -> None:
    static = {
        "pipeline": "diag",
        "step": "evaluate",
        "version": "abc",
        "model_name": "diag",
        "params": {"c": 1},
        "data": {"remote": "s3://b/k"},
        "tags": {"mlops.pipeline_version": "abc"},
    }
    argv = [
        "--context",
        encode_context(static),
        "--component",
        "diagnosis.evaluate",
        "--input",
        "train=/mnt/train",
        "--data",
        "breast_cancer=/mnt/data/bc.csv",
        "--output",
        "/mnt/out",
    ]
    context, component = build_context(
        argv, {"AZUREML_ROOT_RUN_ID": "diag-abc", "MLFLOW_RUN_ID": "child"}
    )
    assert component == "diagnosis.evaluate"
    assert context.run_id == "diag-abc"
    assert context.inputs == {"train": "/mnt/train"}
    assert context.data == {"remote": "s3://b/k", "breast_cancer": "/mnt/data/bc.csv"}
    assert context.output_dir == "/mnt/out"
    assert context.params == {"c": 1}


def test_entry_rejects_malformed_pairs() -> None:
    static = {"pipeline": "p", "step": "s", "version": "v", "model_name": "m"}
    argv = ["--context", encode_context(static), "--component", "x", "--input", "nopath"]
    with pytest.raises(ValueError, match="--input expects NAME=PATH"):
        build_context(argv, {})


def test_step_command_wires_inputs_data_and_output() -> None:
    from mlops_infra.backends.azure._workload import step_command

    command = step_command(
        "diagnosis.train", "CTX", ["featurize"], data={"bc": "data_bc"}, output=True
    )
    assert command == (
        "python -m mlops_infra.backends.azure.container_entry --component diagnosis.train --context CTX "
        "--input featurize=${{inputs.featurize}} --data bc=${{inputs.data_bc}} "
        "--output ${{outputs.output}}"
    )


@pytest.mark.parametrize(
    ("stack", "says"),
    [
        ({"clusters": [{"name": "gpu", "gpu": "v100"}]},
         "'v100' is not offered on azure for training; offered: a100-40gb (8), a100-80gb "
         "(1, 2, 4, 8), h100 (8), h200 (8), t4 (1, 4)"),
        ({"endpoints": [{"name": "e", "model": "m", "gpu": "h200", "gpu_count": 8}]},
         "'h200' is not offered on azure for serving; offered: a100-40gb (8), a100-80gb "
         "(1, 2, 4, 8), h100 (8), t4 (1, 4)"),
    ],
    ids=["v100-retired", "h200-not-a-serving-sku"],
)  # fmt: skip
def test_retired_and_unlisted_gpus_are_refused_with_what_is_offered(
    stack: dict[str, object], says: str
) -> None:
    """15.7: NCv3 (V100) sizes were retired on 30 September 2025; managed online endpoints
    list no H200 size (see backends/azure/gpus.py for the pages)."""
    with pytest.raises(Exception, match=re.escape(says)):
        azure_run(stack)
