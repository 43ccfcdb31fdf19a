"""ProgramRun lookups: the one test-helper API every cloud's tests use."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mlops_infra.offline import ProgramRun, Registration

BUCKET = "aws:s3/bucket:Bucket"
POLICY = "aws:iam/rolePolicy:RolePolicy"


def _registration(type_token: str, name: str, inputs: dict[str, Any]) -> Registration:
    return Registration(
        urn=f"urn:pulumi:test::mlops::{type_token}::{name}",
        type=type_token,
        name=name,
        parent=None,
        custom=True,
        inputs=inputs,
    )


RUN = ProgramRun(
    registrations=[
        _registration(BUCKET, "mlops-store", {"bucket": "store"}),
        _registration(BUCKET, "mlops-logs", {"bucket": "logs"}),
        _registration(
            POLICY,
            "mlops-store",  # a name the bucket has too: the type tells them apart
            {"policy": '{"Statement": []}', "note": "[not json", "name": "p"},
        ),
    ]
)


def test_one_finds_by_type_and_name() -> None:
    assert RUN.one(BUCKET, "mlops-store").inputs == {"bucket": "store"}
    assert RUN.one(POLICY, "mlops-store").type == POLICY


@pytest.mark.parametrize(
    ("type_token", "name", "message"),
    [
        (BUCKET, "mlops-other", "0 aws:s3/bucket:Bucket named 'mlops-other'"),
        ("aws:s3/bucketPolicy:BucketPolicy", "mlops-store", "names of that type: []"),
    ],
)
def test_one_says_what_exists(type_token: str, name: str, message: str) -> None:
    with pytest.raises(KeyError, match=re.escape(message)):
        RUN.one(type_token, name)


def test_missing_one_lists_the_names_of_its_type() -> None:
    with pytest.raises(KeyError, match=r"\['mlops-logs', 'mlops-store'\]"):
        RUN.one(BUCKET, "mlops-other")


def test_inputs_are_plain_and_json_documents_parse_on_request() -> None:
    assert RUN.inputs(POLICY, "mlops-store")["policy"] == '{"Statement": []}'
    parsed = RUN.inputs(POLICY, "mlops-store", parse_json=True)
    assert parsed == {"policy": {"Statement": []}, "note": "[not json", "name": "p"}


def test_names_are_sorted_per_type() -> None:
    assert RUN.names(BUCKET) == ["mlops-logs", "mlops-store"]
    assert RUN.names("aws:s3/bucketPolicy:BucketPolicy") == []
