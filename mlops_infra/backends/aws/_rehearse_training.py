"""A SageMaker training job run here, with SageMaker's container contract.

What the container sees, as SageMaker documents it
(https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-running-container.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html):

* each input channel's ``S3Prefix`` objects under ``/opt/ml/input/data/<channel>``;
* ``/opt/ml/input/config/hyperparameters.json`` (every value a string),
  ``inputdataconfig.json`` and ``resourceconfig.json``;
* ``ContainerEntrypoint`` + ``ContainerArguments`` as the command, ``Environment`` plus
  ``TRAINING_JOB_NAME`` and ``TRAINING_JOB_ARN`` as the environment, and the ``SM_*``
  variables of the SageMaker training toolkit (``SM_MODEL_DIR``, ``SM_CHANNELS``,
  ``SM_CHANNEL_<NAME>``, ``SM_HPS``...);
* afterwards ``/opt/ml/model`` compressed to ``<S3OutputPath>/<job>/output/model.tar.gz``
  (the step's ``ModelArtifacts.S3ModelArtifacts``), ``/opt/ml/output/failure`` as the
  failure reason.

Remapped here: ``/opt/ml`` is a folder of the run, passed as ``MLOPS_ROOT`` (which the
step entry point honours); ``python`` in the entry point is the runtime image's
virtualenv interpreter; ``MLFLOW_TRACKING_URI`` is the local tracking server.
"""

from __future__ import annotations

import importlib
import json
import os
import tarfile
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_infra.backends.aws._rehearse_s3 import EmulatedS3
from mlops_infra.rehearse.errors import RehearsalError, unsupported

__all__ = ["TrainingJob", "validate_request"]

_CONTRACT = "SageMaker training container"
_JOB_ARN_PREFIX = "arn:aws:sagemaker:rehearse:000000000000:training-job/"


def validate_request(step: str, request: Mapping[str, Any]) -> None:
    """Checks a CreateTrainingJob request against botocore's SageMaker service model.

    Raises:
        RehearsalError: the request does not match the API's shapes (every problem listed).
    """
    # Any: botocore ships no types; imported on use (AWS rehearse only).
    session: Any = importlib.import_module("botocore.session")
    validate: Any = importlib.import_module("botocore.validate")
    model: Any = session.get_session().get_service_model("sagemaker")
    shape: Any = model.operation_model("CreateTrainingJob").input_shape
    report: Any = validate.ParamValidator().validate(dict(request), shape)
    if report.has_errors():
        raise RehearsalError(step, "SageMaker CreateTrainingJob request", report.generate_report())


@dataclass(frozen=True)
class TrainingJob:
    """One training job: its resolved request and where it runs.

    Attributes:
        step: Step (or job) name, for errors.
        name: Training job name.
        request: The resolved CreateTrainingJob arguments.
        root: The folder standing for ``/opt/ml``.
    """

    step: str
    name: str
    request: Mapping[str, Any]
    root: Path

    def stage(self, s3: EmulatedS3) -> dict[str, Path]:
        """Downloads every channel and writes the config files; returns channel → folder.

        Raises:
            RehearsalError: a channel is not a ``File``-mode ``S3Prefix``, or holds nothing.
        """
        channels: dict[str, Path] = {}
        config = self.root / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        raw_channels = typing.cast(list[dict[str, Any]], self.request.get("InputDataConfig", []))
        for channel in raw_channels:
            name = str(channel["ChannelName"])
            source = typing.cast(dict[str, Any], channel["DataSource"]).get("S3DataSource")
            if source is None:
                raise unsupported(self.step, "DataSource", f"channel {name!r}")
            if source.get("S3DataType") != "S3Prefix":
                raise unsupported(self.step, f"S3DataType {source.get('S3DataType')}", name)
            mode = channel.get("InputMode", self._input_mode())
            if mode != "File":
                raise unsupported(self.step, f"InputMode {mode}", f"channel {name!r}")
            target = self.root / "input" / "data" / name
            target.mkdir(parents=True, exist_ok=True)
            if not s3.download_prefix(str(source["S3Uri"]), target):
                msg = f"input channel {name!r}: no S3 objects found under {source['S3Uri']}"
                raise RehearsalError(self.step, _CONTRACT, msg)
            channels[name] = target
        hyperparameters = typing.cast(dict[str, Any], self.request.get("HyperParameters", {}))
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters), "utf-8")
        (config / "inputdataconfig.json").write_text(
            json.dumps({c: {"TrainingInputMode": "File"} for c in channels}), "utf-8"
        )
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}), "utf-8"
        )
        for folder in ("model", "output/data", "checkpoints"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        return channels

    def _input_mode(self) -> str:
        algorithm = typing.cast(dict[str, Any], self.request.get("AlgorithmSpecification", {}))
        return str(algorithm.get("TrainingInputMode", "File"))

    def command(self, python: Path) -> list[str]:
        """The container's command, ``python`` being the image environment's interpreter.

        Raises:
            RehearsalError: the job has no entry point (an image's own ``ENTRYPOINT`` is
                not known here).
        """
        algorithm = typing.cast(dict[str, Any], self.request.get("AlgorithmSpecification", {}))
        entry = [str(a) for a in typing.cast(list[Any], algorithm.get("ContainerEntrypoint") or [])]
        if not entry:
            msg = "no ContainerEntrypoint: the image's own entry point cannot be rehearsed"
            raise RehearsalError(self.step, _CONTRACT, msg)
        if entry[0] in {"python", "python3"}:
            entry[0] = str(python)
        return [
            *entry,
            *(str(a) for a in typing.cast(list[Any], algorithm.get("ContainerArguments") or [])),
        ]

    def environment(self, channels: Mapping[str, Path]) -> dict[str, str]:
        """The container's environment: the job's ``Environment`` and SageMaker's own."""
        hyperparameters = typing.cast(dict[str, Any], self.request.get("HyperParameters", {}))
        values = {str(k): str(v) for k, v in dict(self.request.get("Environment") or {}).items()}
        values.update(
            {
                "TRAINING_JOB_NAME": self.name,
                "TRAINING_JOB_ARN": f"{_JOB_ARN_PREFIX}{self.name}",
                "MLOPS_ROOT": str(self.root),
                "SM_MODEL_DIR": str(self.root / "model"),
                "SM_INPUT_DIR": str(self.root / "input"),
                "SM_INPUT_CONFIG_DIR": str(self.root / "input" / "config"),
                "SM_OUTPUT_DIR": str(self.root / "output"),
                "SM_OUTPUT_DATA_DIR": str(self.root / "output" / "data"),
                "SM_CHANNELS": json.dumps(sorted(channels)),
                "SM_HPS": json.dumps(hyperparameters),
                "SM_CURRENT_HOST": "algo-1",
                "SM_HOSTS": json.dumps(["algo-1"]),
                "SM_NUM_GPUS": "0",
                "SM_NUM_CPUS": str(os.cpu_count() or 1),
                **{
                    f"SM_CHANNEL_{c.upper().replace('-', '_')}": str(p) for c, p in channels.items()
                },
            }
        )
        return values

    def failure_reason(self) -> str | None:
        """What the container wrote to ``/opt/ml/output/failure``, if anything."""
        path = self.root / "output" / "failure"
        return path.read_text(encoding="utf-8", errors="replace").strip() if path.exists() else None

    def upload_model(self, s3: EmulatedS3) -> str:
        """Compresses ``/opt/ml/model`` to ``model.tar.gz`` in the output path; returns its URI."""
        output = typing.cast(dict[str, Any], self.request["OutputDataConfig"])
        uri = f"{str(output['S3OutputPath']).rstrip('/')}/{self.name}/output/model.tar.gz"
        archive = self.root / "output" / "model.tar.gz"
        with tarfile.open(archive, "w:gz") as bundle:
            for path in sorted((self.root / "model").iterdir()):
                bundle.add(path, arcname=path.name)
        s3.upload(archive, uri)
        return uri
