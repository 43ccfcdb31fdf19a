"""Import cost: the plugin imports no SDK; a stack loads only the pulumi_aws submodules it uses."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from .helpers import REPO

_PROBE = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("error")
    from tests.unit.aws.helpers import run_aws
    run_aws(json.loads(sys.argv[1]))
    loaded = sorted({m.split(".")[1] for m in sys.modules
                     if m.startswith("pulumi_aws.") and m.count(".") >= 2})
    print(json.dumps(loaded))
    """
)


def _loaded_submodules(spec: dict[str, object]) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(spec)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_plugin_imports_no_sdk() -> None:
    code = (
        "import sys; import mlops_infra.backends.aws.plugin as p; from mlops_infra.registry import "
        "Registry; r = Registry(load_entry_points=False); r.install('aws', p.register); "
        "r.flavors('aws'); print(sorted(m for m in sys.modules if m.startswith('pulumi_aws')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"registry": {"create": False}}, {"iam", "kms", "s3", "sagemaker"}),
        (
            {"clusters": [{"name": "gpu", "gpu": "l4"}],
             "jobs": [{"name": "fit", "component": "diagnosis.featurize", "cluster": "gpu"}]},
            # codebuild: the job's runtime image is built by the stack.
            {"iam", "kms", "s3", "sagemaker", "ecr", "codebuild"},
        ),
        ({"network": {"create": True}}, {"iam", "kms", "s3", "sagemaker", "ecr", "ec2", "vpc"}),
    ],
)  # fmt: skip
def test_only_the_submodules_a_stack_uses_are_imported(
    spec: dict[str, object], expected: set[str]
) -> None:
    loaded = _loaded_submodules(spec)
    assert loaded == expected


def test_the_provider_floor_has_every_resource_the_backend_uses() -> None:
    """13.1: `pulumi-aws>=7.0` admitted releases without sagemaker.MlflowApp (7.22) and
    sagemaker.TrainingJob (7.25), found by listing those wheels; `make floor` runs the AWS
    tests against the floor itself."""
    import re
    import tomllib

    from .helpers import REPO

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["aws"]
    (requirement,) = [r for r in extras if r.startswith("pulumi-aws")]
    found = re.search(r">=(\d+)\.(\d+)", requirement)
    assert found is not None
    assert (int(found[1]), int(found[2])) >= (7, 25)
