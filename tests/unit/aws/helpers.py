"""Shared helpers: an isolated registry, AWS mocks, and the AWS-specific lookups (custom
resources, a component's children, policy documents) beyond ``ProgramRun.one``/``inputs``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlops_infra.backends.aws.plugin import register
from mlops_infra.backends.aws.testing import AwsMocks
from mlops_infra.offline import ProgramRun, Registration
from mlops_infra.registry import Registry
from mlops_infra.specs import StackSpec
from mlops_infra.testing import run_stack

REPO = Path(__file__).resolve().parents[3]
STACKS = REPO / "stacks"
PIPELINE: dict[str, Any] = {
    "name": "diagnosis",
    "data": {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
    "parameters": {"seed": 7},
    "steps": [
        {"name": "featurize", "component": "diagnosis.featurize"},
        {
            "name": "train",
            "component": "diagnosis.train",
            "depends_on": ["featurize"],
            "cluster": "gpu",
            "retries": 2,
        },
        {"name": "evaluate", "component": "diagnosis.evaluate", "depends_on": ["train"]},
    ],
}

EVERY_FLAVOR: dict[str, Any] = {
    "environment": "prod",
    "network": {"create": True},
    "artifact_store": {"access_logging": True},
    "tracking": {"flavor": "self-hosted", "options": {
        "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x",
        "domain": "mlflow.internal.example.com"}},
    "clusters": [
        {"name": "gpu", "gpu": "l4", "spot": True},
        {"name": "pool", "flavor": "batch", "gpu": "a10g", "max_nodes": 2},
    ],
    "jobs": [
        {"name": "fit", "component": "diagnosis.featurize", "cluster": "gpu",
         "data": {"remote": {"uri": "s3://other-bucket/data/x.csv", "version": "3"}}},
        {"name": "batch-fit", "flavor": "batch", "component": "diagnosis.featurize",
         "cluster": "pool"},
    ],
    "pipelines": [{**PIPELINE, "schedule": {"cron": "0 3 * * 1"}}],
    "endpoints": [{"name": "diagnosis", "model": "diagnosis",
                   "gate": {"conditions": [{"metric": "accuracy", "threshold": 0.9}]}}],
}  # fmt: skip
"""A prod stack using every AWS flavor (network, self-hosted MLflow, Batch, jobs, schedule)."""


def aws_registry() -> Registry:
    """A registry holding only the aws cloud (other installed plugins cannot interfere)."""
    registry = Registry(load_entry_points=False)
    registry.install("aws", register)
    return registry


def run_aws(
    spec: Mapping[str, Any] | StackSpec,
    *,
    stack: str | None = None,
    mocks: AwsMocks | None = None,
    secrets: Mapping[str, str] | None = None,
) -> ProgramRun:
    """Synthesizes ``spec`` (``cloud: aws``, default ``environment: dev``) under :class:`AwsMocks`.

    The stack is named after the environment unless ``stack`` is given.
    """
    registry = aws_registry()
    resolved = (
        spec
        if isinstance(spec, StackSpec)
        else StackSpec.model_validate(
            {"cloud": "aws", "environment": "dev", **spec}, context={"registry": registry}
        )
    )
    return run_stack(
        resolved,
        registry=registry,
        project_dir=REPO,
        stack=stack or resolved.environment,
        mocks=mocks or AwsMocks(),
        secrets=secrets,
    )


def custom(run: ProgramRun) -> list[Registration]:
    """The cloud resources (not components)."""
    return [r for r in run.registrations if r.custom]


def children(run: ProgramRun, component_type: str, name: str) -> set[tuple[str, str]]:
    """``(type, name)`` of every resource parented (directly) to the component."""
    parent = run.one(component_type, name)
    return {(r.type, r.name) for r in run.children_of(parent)}


POLICY_FIELDS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
}


def policy_documents(run: ProgramRun) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM/bucket policy document the program generated, parsed: ``(name, document)``."""
    for registration in custom(run):
        field = POLICY_FIELDS.get(registration.type)
        if field:
            document = registration.plain_inputs(parse_json=True)[field]
            assert isinstance(document, dict), (registration.name, document)
            yield registration.name, document
