"""Step ``evaluate``: score the trained estimator on the held-out rows."""

from __future__ import annotations

import joblib
import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from mlops_infra.runtime import StepContext


def run(ctx: StepContext) -> dict[str, float]:
    """Returns accuracy, F1 and ROC AUC on the test split (logged to the run)."""
    test = np.load(ctx.input_path("featurize", "test.npz"))
    estimator = joblib.load(ctx.input_path("train", "estimator.joblib"))
    probabilities = estimator.predict_proba(test["x"])[:, 1]
    predictions = (probabilities >= 0.5).astype(int)
    return {
        "accuracy": float(accuracy_score(test["y"], predictions)),
        "f1": float(f1_score(test["y"], predictions)),
        "roc_auc": float(roc_auc_score(test["y"], probabilities)),
    }
