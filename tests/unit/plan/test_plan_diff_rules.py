"""Diff classification: update vs replace vs delete + create, stateful flags, paths."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.plan import Op, Plan, PlannedResource, StackFacts, diff_plans
from mlops_infra.plan.paths import changed_paths, matches, top_level
from mlops_infra.plan.provider_rules import is_stateful_type, replace_reasons


def _resource(type_: str, name: str, inputs: dict[str, Any], **options: Any) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:dev::mlops::{type_}::{name}",
        type=type_,
        name=name,
        inputs=inputs,
        **options,
    )


def _plan(*resources: PlannedResource) -> Plan:
    return Plan(project="mlops", stack="dev", facts=StackFacts(), resources=resources)


@pytest.mark.parametrize(
    ("old", "new", "paths"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, ["a"]),
        ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}}, ["a.b[1]"]),
        ({"a": [1]}, {"a": [1, 2]}, ["a[1]"]),
        ({"a": 1}, {"b": 1}, ["a", "b"]),
        ({"x.y": 1}, {"x.y": 2}, ['["x.y"]']),
        ({"rules": [{"k": "aws:kms"}]}, {"rules": [{"k": "AES256"}]}, ["rules[0].k"]),
    ],
)
def test_changed_paths(old: dict[str, Any], new: dict[str, Any], paths: list[str]) -> None:
    assert changed_paths(old, new) == paths


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("bucket", ["bucket"], True),
        ("bucketPrefix", ["bucket"], False),
        ("rules[3].x", ["rules[*]"], True),
        ("rules[3].x", ["rules[0].x"], True),
        ("tags.a", ["*"], True),
        ("versioning.enabled", ["versioning"], True),
        ("other", [], False),
    ],
)
def test_matches(path: str, patterns: list[str], expected: bool) -> None:
    assert matches(path, patterns) is expected


def test_top_level() -> None:
    assert top_level("rules[0].a") == "rules"
    assert top_level("a.b") == "a"


@pytest.mark.parametrize(
    ("type_", "changed", "option", "reasons"),
    [
        ("aws:s3/bucket:Bucket", ["bucket", "tags.team"], [], ["bucket"]),
        ("aws:s3/bucket:Bucket", ["forceDestroy"], [], []),
        (
            "aws:sagemaker/model:Model",
            ["primaryContainer.image", "tags.a"],
            [],
            ["primaryContainer.image"],
        ),
        (
            "pulumi-python:dynamic/mlops:SageMakerTrainingRun",
            ["request.HyperParameters.lr", "tags.a", "timeout_s"],
            [],
            ["request.HyperParameters.lr"],
        ),
        ("fake:index:Job", ["version", "trackingUri"], ["version"], ["version"]),
        ("pulumi-python:dynamic/mlops:LocalStoreDirectory", ["path", "lifecycle[0]"], [], ["path"]),
        ("gcp:storage/bucket:Bucket", ["location"], [], ["location"]),
        ("azure-native:storage:StorageAccount", ["accountName", "sku.name"], [], ["accountName"]),
    ],
)
def test_replace_reasons(
    type_: str, changed: list[str], option: list[str], reasons: list[str]
) -> None:
    assert replace_reasons(type_, changed, option) == reasons


def test_stateful_types_cover_our_components_and_buckets() -> None:
    for type_ in (
        "mlops:index:ArtifactStore",
        "mlops:index:TrackingServer",
        "aws:s3/bucket:Bucket",
        "gcp:storage/bucket:Bucket",
        "azure-native:storage:StorageAccount",
        "pulumi-python:dynamic/mlops:LocalStoreDirectory",
    ):
        assert is_stateful_type(type_)


def test_update_versus_replace_of_an_aws_bucket() -> None:
    old = _resource("aws:s3/bucket:Bucket", "store", {"bucket": "a", "forceDestroy": False})
    renamed = _resource("aws:s3/bucket:Bucket", "store", {"bucket": "b", "forceDestroy": False})
    retagged = _resource("aws:s3/bucket:Bucket", "store", {"bucket": "a", "forceDestroy": True})
    replace = diff_plans(_plan(old), _plan(renamed)).changes[0]
    update = diff_plans(_plan(old), _plan(retagged)).changes[0]
    assert (replace.op, replace.replace_reasons, replace.loud) == (Op.REPLACE, ("bucket",), True)
    assert (update.op, update.changed, update.loud) == (Op.UPDATE, ("forceDestroy",), False)


def test_a_changed_name_is_delete_plus_create_and_a_deleted_bucket_is_loud() -> None:
    old = _resource("aws:s3/bucket:Bucket", "store", {"bucket": "a"}, protect=True)
    new = _resource("aws:s3/bucket:Bucket", "store-v2", {"bucket": "a"})
    diff = diff_plans(_plan(old), _plan(new))
    assert [(c.name, c.op) for c in diff.changes] == [("store", Op.DELETE), ("store-v2", Op.CREATE)]
    deleted = diff.changes[0]
    assert deleted.loud
    assert deleted.protected
    assert diff.count(Op.CREATE) == 1
    assert diff.count(Op.DELETE) == 1


def test_a_protected_resource_of_any_type_counts_as_stateful() -> None:
    old = _resource("custom:index:Thing", "t", {"size": 1}, protect=True)
    new = _resource(
        "custom:index:Thing", "t", {"size": 2}, protect=True, replace_on_changes=("size",)
    )
    change = diff_plans(_plan(old), _plan(new)).changes[0]
    assert change.op == Op.REPLACE
    assert change.loud


def test_option_changes_and_ignored_inputs() -> None:
    old = _resource("aws:kms/key:Key", "k", {"description": "a"})
    new = _resource(
        "aws:kms/key:Key", "k", {"description": "b"}, protect=True, ignore_changes=("description",)
    )
    change = diff_plans(_plan(old), _plan(new)).changes[0]
    assert (change.op, change.changed) == (Op.UPDATE, ("options.protect",))


def test_nothing_changed() -> None:
    same = _resource("aws:kms/key:Key", "k", {"description": "a"})
    diff = diff_plans(_plan(same), _plan(same))
    assert diff.empty
    assert diff.unchanged == 1
