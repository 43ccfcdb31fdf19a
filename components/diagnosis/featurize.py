"""Step ``featurize``: split the dataset and compute features with the shared feature code."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from diagnosis.features import featurize, load_dataset
from mlops_infra.runtime import StepContext


def run(ctx: StepContext) -> dict[str, float]:
    """Writes ``train.npz``/``test.npz`` (features and targets) and the raw test rows."""
    frame, target = load_dataset(ctx.data_path("breast_cancer"))
    seed = int(ctx.params.get("seed", 7))
    test_size = float(ctx.params.get("test_size", 0.25))
    split = train_test_split(frame, target, test_size=test_size, random_state=seed, stratify=target)
    raw_train, raw_test = cast(pd.DataFrame, split[0]), cast(pd.DataFrame, split[1])
    y_train, y_test = cast(np.ndarray, split[2]), cast(np.ndarray, split[3])
    np.savez(ctx.output_path("train.npz"), x=featurize(raw_train), y=y_train)
    np.savez(ctx.output_path("test.npz"), x=featurize(raw_test), y=y_test)
    raw_test.head(5).to_json(ctx.output_path("sample.json"), orient="split", index=False)
    return {"rows_train": float(len(raw_train)), "rows_test": float(len(raw_test))}
