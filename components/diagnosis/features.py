"""Feature code shared by training and serving: the one definition of the model's inputs.

The served model calls :func:`featurize` on each request with the same code that
prepared the training data (it is packaged with the model), so training and serving
cannot disagree on what a feature is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FEATURE_NAMES", "featurize", "load_dataset"]

FEATURE_NAMES = [
    f"{stat} {measure}"
    for stat in ("mean", "error", "worst")
    for measure in (
        "radius",
        "texture",
        "perimeter",
        "area",
        "smoothness",
        "compactness",
        "concavity",
        "concave points",
        "symmetry",
        "fractal dimension",
    )
]
"""The 30 raw measurements a request carries, in order."""

_SKEWED = [
    i for i, name in enumerate(FEATURE_NAMES) if name.endswith(("area", "radius", "perimeter"))
]


def load_dataset(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Reads scikit-learn's ``breast_cancer.csv`` (its first line holds sizes and class names).

    Returns the raw measurements and the target (1 = malignant).
    """
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
        samples, features = int(header[0]), int(header[1])
        values = np.loadtxt(handle, delimiter=",")
    if values.shape != (samples, features + 1):
        msg = f"{path}: expected {samples} rows of {features + 1} values, got {values.shape}"
        raise ValueError(msg)
    frame = pd.DataFrame(values[:, :features], columns=FEATURE_NAMES)
    # In the file 0 is malignant; predict malignancy as the positive class.
    target = (values[:, features] == 0).astype(int)
    return frame, target


def featurize(frame: pd.DataFrame) -> np.ndarray:
    """Turns raw measurements into model features: log-scaled sizes, plus two growth terms."""
    missing = [name for name in FEATURE_NAMES if name not in frame.columns]
    if missing:
        msg = f"missing measurements: {missing}"
        raise ValueError(msg)
    values = np.array(frame.loc[:, FEATURE_NAMES], dtype=float)  # a writable copy
    values[:, _SKEWED] = np.log1p(np.maximum(values[:, _SKEWED], 0.0))
    mean_area = values[:, FEATURE_NAMES.index("mean area")]
    worst_area = values[:, FEATURE_NAMES.index("worst area")]
    # Areas are log-scaled above: their ratio becomes a difference.
    area_growth = worst_area - mean_area
    concavity_growth = (
        values[:, FEATURE_NAMES.index("worst concavity")]
        - values[:, FEATURE_NAMES.index("mean concavity")]
    )
    return np.column_stack([values, area_growth, concavity_growth])
