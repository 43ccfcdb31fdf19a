"""The scoring script rehearse gives Azure ML's inference server for an MLflow model.

A stand-in for the script Azure ML generates for no-code MLflow deployments: ``init`` loads
the pyfunc model under ``AZUREML_MODEL_DIR``; ``run`` takes Azure's request format
(``{"input_data": {"columns", "index", "data"}}``) and returns the predictions.
https://learn.microsoft.com/azure/machine-learning/how-to-deploy-mlflow-models-online-endpoints
"""

SCORE_SCRIPT = """
import json, os
from pathlib import Path

import mlflow.pyfunc
import pandas as pd

model = None


def init():
    global model
    root = Path(os.environ["AZUREML_MODEL_DIR"])
    folder = next(p.parent for p in root.rglob("MLmodel"))
    model = mlflow.pyfunc.load_model(str(folder))


def run(raw_data):
    data = json.loads(raw_data)["input_data"]
    frame = pd.DataFrame(data["data"], columns=data.get("columns"), index=data.get("index"))
    predictions = model.predict(frame)
    return predictions.tolist() if hasattr(predictions, "tolist") else predictions
"""
"""The script's source (it runs in the serving image's environment, not this package)."""
