"""Generated Azure ML specs checked with Microsoft's own offline loaders, and the shipped runtime.

``azure-ai-ml``'s ``load_component`` validates a command component against the schemas
``az ml component create`` uses (issue 15 item 3). The runtime slice of the code asset must
run with nothing but the standard library (issue 11 scope 6: no ``mlops-infra`` from an
index).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml
from azure_mocks import WORKSPACE_ID, azure_run

from mlops_infra.backends.azure._workload import runtime_files
from mlops_infra.backends.azure.container_entry import encode_context

PIPELINE = {
    "name": "diagnosis",
    "data": {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
    "steps": [
        {"name": "featurize", "component": "diagnosis.featurize"},
        {"name": "train", "component": "diagnosis.train", "depends_on": ["featurize"]},
    ],
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_component_specs_load_with_azure_ai_ml(tmp_path: Path) -> None:
    from azure.ai.ml import load_component

    run = azure_run(
        {
            "environment": "dev",
            "pipelines": [PIPELINE],
            "artifact_store": {"options": {"shared_key_access": True}},
        }
    )
    for step in ("featurize", "train"):
        spec = run.inputs(
            "azure-native:machinelearningservices:ComponentVersion",
            f"mlops-pipeline-diagnosis-component-{step}",
        )["properties"]["componentSpec"]
        path = tmp_path / f"{step}.yaml"
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        component = load_component(source=path)
        assert component.type == "command"
        assert component.name == f"mlops_pipeline_diagnosis_{step}"
        # The loader accepts the azureml: references (a bare ARM id fails its schema) and
        # resolves them to the assets' ARM ids.
        assert spec["code"].startswith("azureml:/subscriptions/")
        assert str(component.code).startswith(f"{WORKSPACE_ID}/codes/mlops-pipeline-diagnosis/")
        assert str(component.environment).startswith(f"{WORKSPACE_ID}/environments/")
        assert set(component.outputs) == {"output"}
    train = load_component(source=tmp_path / "train.yaml")
    assert set(train.inputs) == {"featurize", "data_breast_cancer"}


def test_the_shipped_runtime_runs_on_the_standard_library_alone(tmp_path: Path) -> None:
    """The code asset's runtime slice, copied as uploaded, runs a step with no site-packages."""
    for relative, asset in runtime_files().items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(asset, pulumi.FileAsset):
            shutil.copyfile(str(asset.path), target)
        else:
            assert isinstance(asset, pulumi.StringAsset)
            target.write_text(str(asset.text), encoding="utf-8")
    (tmp_path / "hello.py").write_text(
        "def run(ctx):\n    print('step', ctx.step, 'of', ctx.pipeline, 'at', ctx.version)\n",
        encoding="utf-8",
    )
    context = encode_context(
        {"pipeline": "p", "step": "s", "version": "v1", "model_name": "m", "params": {}}
    )
    # -S: no site-packages (no pulumi, pydantic, MLflow); -E: no PYTHONPATH to this checkout.
    entry = [sys.executable, "-S", "-E", "-m", "mlops_infra.backends.azure.container_entry"]
    done = subprocess.run(
        [*entry, "--component", "hello", "--context", context, "--output", str(tmp_path / "out")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "step s of p at v1" in done.stdout
