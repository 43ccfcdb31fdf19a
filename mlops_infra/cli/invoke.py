"""``mlops-infra invoke``: call a deployed endpoint with its model's own serving example."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mlops_infra.cli.outputs import read_stack_outputs
from mlops_infra.errors import MlopsError

__all__ = ["invoke"]


def _serving_example(tracking_url: str, model: str, version: str) -> str:
    import os  # noqa: PLC0415

    os.environ.setdefault("MLFLOW_TRACKING_URI", tracking_url)
    import mlflow.artifacts  # noqa: PLC0415 - MLflow is heavy; import on use

    try:
        path = mlflow.artifacts.download_artifacts(  # pyright: ignore[reportUnknownMemberType]
            artifact_uri=f"models:/{model}/{version}/serving_input_example.json"
        )
    except Exception as error:  # MLflow raises several types for a missing artifact
        msg = (
            f"model {model} version {version} has no serving input example ({error}); pass --input"
        )
        raise MlopsError(msg) from error
    return Path(str(path)).read_text(encoding="utf-8")


def _post(url: str, payload: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the endpoint URL comes from the stack outputs
        url, data=payload.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        msg = f"{url} answered {error.code}: {error.read().decode(errors='replace')[:500]}"
        raise MlopsError(msg) from error
    except urllib.error.URLError as error:
        msg = f"{url} did not answer: {error.reason}"
        raise MlopsError(msg) from error


def invoke(
    *, stack: str | None, outputs_file: Path | None, endpoint: str | None, input_file: Path | None
) -> int:
    """Prints the tracking URL, the endpoint and its gate decision, and one prediction."""
    outputs = read_stack_outputs(stack=stack, outputs_file=outputs_file)
    tracking_url = str(outputs.get("tracking_url", ""))
    endpoints: dict[str, Any] = dict(outputs.get("endpoints") or {})
    if not endpoints:
        print("the stack has no endpoints", file=sys.stderr)
        return 1
    name = endpoint or sorted(endpoints)[0]
    if name not in endpoints:
        msg = f"no endpoint {name!r}; endpoints: {', '.join(sorted(endpoints))}"
        raise MlopsError(msg)
    details: dict[str, Any] = endpoints[name]
    decision: dict[str, Any] = details.get("decision") or {}
    print(f"tracking server : {tracking_url}")
    print(f"endpoint        : {name} -> {details.get('url') or 'not deployed'}")
    print(f"model           : {details.get('model')} version {details.get('model_version')}")
    print(f"gate            : {decision.get('outcome')}: {decision.get('reason')}")
    if not details.get("url") or not details.get("model_version"):
        return 1
    payload = (
        input_file.read_text(encoding="utf-8")
        if input_file
        else _serving_example(tracking_url, str(details["model"]), str(details["model_version"]))
    )
    prediction = _post(str(details["url"]), payload)
    print(f"prediction      : {json.dumps(prediction)}")
    return 0
