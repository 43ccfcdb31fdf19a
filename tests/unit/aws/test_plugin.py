"""Registration: every concept has a default AWS flavor; options are validated with paths."""

from __future__ import annotations

import pytest

from mlops_infra.backends.aws.plugin import FLAVORS
from mlops_infra.errors import SpecValidationError
from mlops_infra.registry import BUILTIN_KINDS
from mlops_infra.specs.loading import spec_from_config

from .helpers import aws_registry


def test_every_kind_has_one_default_flavor() -> None:
    registry = aws_registry()
    for kind in BUILTIN_KINDS:
        flavor = registry.flavor("aws", kind)
        assert flavor.default, kind
        assert flavor.requires == ("pulumi_aws",)
        assert flavor.extra == "aws"


def test_flavor_names() -> None:
    registry = aws_registry()
    assert {(f.kind, f.name) for f in registry.flavors("aws")} == {
        ("foundation", "standard"),
        ("artifact_store", "s3"),
        ("tracking_server", "sagemaker"),
        ("tracking_server", "self-hosted"),
        ("training_cluster", "sagemaker"),
        ("training_cluster", "batch"),
        ("training_job", "sagemaker"),
        ("training_job", "batch"),
        ("pipeline", "sagemaker"),
        ("serving_endpoint", "sagemaker"),
    }
    assert len(FLAVORS) == 10


@pytest.mark.parametrize(("kind", "name"), [(f.kind, f.name) for f in FLAVORS])
def test_every_flavor_loads(kind: str, name: str) -> None:
    registry = aws_registry()
    assert registry.load(registry.flavor("aws", kind, name))


@pytest.mark.parametrize(
    ("tracking", "message"),
    [
        ({"flavor": "self-hosted", "options": {"allowed_cidrs": ["8.8.8.0/24"]}},
         "is public; allowed: private ranges only"),
        ({"options": {"deployment": "somewhere"}}, "deployment"),
        ({"options": {"maintenance_window": "Funday:03:00"}}, "maintenance_window"),
    ],
)  # fmt: skip
def test_options_are_validated(tracking: dict[str, object], message: str) -> None:
    with pytest.raises(SpecValidationError, match=message):
        spec_from_config(
            {
                "mlops:cloud": "aws",
                "mlops:environment": "dev",
                "mlops:stack": {"tracking": tracking},
            },
            registry=aws_registry(),
        )
