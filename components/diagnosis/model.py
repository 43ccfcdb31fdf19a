"""The served model: shared feature code in front of the trained estimator."""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from diagnosis.features import featurize


class DiagnosisModel(PythonModel):
    """Raw measurements in, probability of malignancy out, with the training feature code.

    Takes a DataFrame of :data:`~diagnosis.features.FEATURE_NAMES` columns.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Loads the fitted estimator."""
        self._estimator: Any = joblib.load(context.artifacts["estimator"])

    # MLflow's base method is untyped, so its return type is inferred as None.
    def predict(  # pyright: ignore[reportIncompatibleMethodOverride]
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> np.ndarray:
        """Returns P(malignant) for each row."""
        del context, params
        probabilities: np.ndarray = self._estimator.predict_proba(featurize(model_input))[:, 1]
        return probabilities
