"""The example workload: the shared feature code and the featurize step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from diagnosis import featurize as featurize_step
from diagnosis.features import FEATURE_NAMES, featurize, load_dataset

from mlops_infra.runtime import StepContext
from mlops_infra.specs import DataRef
from mlops_infra.versioning import resolve_data_path

DATA = resolve_data_path(DataRef(uri="pkg://sklearn.datasets/data/breast_cancer.csv"), Path.cwd())


def test_dataset_loads_with_named_columns() -> None:
    frame, target = load_dataset(DATA)
    assert list(frame.columns) == FEATURE_NAMES
    assert frame.shape == (569, 30)
    assert int(target.sum()) == 212  # malignant cases


def test_featurize_is_deterministic_and_shaped() -> None:
    frame, _ = load_dataset(DATA)
    features = featurize(frame)
    assert features.shape == (569, 32)
    assert np.array_equal(features, featurize(frame.copy()))
    assert np.isfinite(features).all()


def test_featurize_rejects_missing_measurements() -> None:
    frame, _ = load_dataset(DATA)
    with pytest.raises(ValueError, match="missing measurements: \\['mean radius'\\]"):
        featurize(frame.drop(columns=["mean radius"]))


def test_featurize_step_writes_its_outputs(tmp_path: Path) -> None:
    ctx = StepContext(
        pipeline="diagnosis",
        step="featurize",
        version="0" * 16,
        run_id="run",
        model_name="diagnosis",
        params={"seed": 7, "test_size": 0.25},
        data={"breast_cancer": str(DATA)},
        output_dir=str(tmp_path),
    )
    metrics = featurize_step.run(ctx)
    assert metrics == {"rows_train": 426.0, "rows_test": 143.0}
    train = np.load(tmp_path / "train.npz")
    assert train["x"].shape == (426, 32)
    sample = pd.read_json(tmp_path / "sample.json", orient="split")
    assert list(sample.columns) == FEATURE_NAMES
