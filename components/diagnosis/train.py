"""Step ``train``: fit the classifier and log the served model (feature code included)."""

from __future__ import annotations

from pathlib import Path

import joblib
import mlflow
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from diagnosis.features import FEATURE_NAMES
from diagnosis.model import DiagnosisModel
from mlops_infra.runtime import StepContext


def run(ctx: StepContext) -> dict[str, float]:
    """Fits scaling + logistic regression; logs the pyfunc model under ``model``."""
    train = np.load(ctx.input_path("featurize", "train.npz"))
    c = float(ctx.params.get("c", 1.0))
    max_iter = int(ctx.params.get("max_iter", 1000))
    estimator = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    estimator.fit(train["x"], train["y"])
    ctx.log_params({"c": c, "max_iter": max_iter})
    estimator_path = ctx.output_path("estimator.joblib")
    joblib.dump(estimator, estimator_path)
    sample = pd.read_json(ctx.input_path("featurize", "sample.json"), orient="split")
    ctx.log_model(
        mlflow.pyfunc.save_model,
        python_model=DiagnosisModel(),
        artifacts={"estimator": str(estimator_path)},
        code_paths=[str(Path(__file__).parent)],
        input_example=sample.loc[:, FEATURE_NAMES],
        pip_requirements=["scikit-learn", "pandas", "numpy", "joblib"],
    )
    return {"train_accuracy": float(estimator.score(train["x"], train["y"]))}
