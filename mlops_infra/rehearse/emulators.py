"""Object-store emulators and the tracking server a rehearsal runs against.

* S3: ``moto``'s ``ThreadedMotoServer`` in this process, on 127.0.0.1.
* The MLflow tracking server: ``mlflow server`` with its artifact root in the emulated
  bucket, so MLflow's own S3/GCS/Azure artifact code moves every artifact.

Each is a context manager; leaving it stops what it started.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_infra.rehearse.errors import RehearsalError
from mlops_infra.rehearse.network import LOOPBACK, free_port, wait_http
from mlops_infra.rehearse.processes import Processes

__all__ = [
    "AWS_TEST_CREDENTIALS",
    "AZURITE_COMMAND",
    "AZURITE_KEY",
    "AzuriteEmulator",
    "GcsEmulator",
    "S3Emulator",
    "TrackingServer",
    "azurite_emulator",
    "gcs_emulator",
    "s3_emulator",
    "tracking_server",
]

AWS_TEST_CREDENTIALS: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
"""Credentials moto accepts (https://docs.getmoto.org/en/latest/docs/getting_started.html)."""


@dataclass(frozen=True)
class S3Emulator:
    """A running S3 emulator.

    Attributes:
        endpoint: Its ``http://127.0.0.1:<port>`` URL.
        region: Region clients use.
    """

    endpoint: str
    region: str

    def environment(self) -> dict[str, str]:
        """Variables pointing boto3 and MLflow at the emulator."""
        return {
            **AWS_TEST_CREDENTIALS,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
        }

    def client(self) -> Any:
        """A boto3 S3 client of the emulator."""
        # Any: boto3 ships no types; imported on use (rehearse of AWS only).
        boto3: Any = importlib.import_module("boto3")
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=AWS_TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=AWS_TEST_CREDENTIALS["AWS_SESSION_TOKEN"],
        )


@contextlib.contextmanager
def s3_emulator(region: str) -> Generator[S3Emulator]:
    """Runs moto's S3 (and every other moto service) on a free loopback port."""
    try:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415
    except ImportError as error:
        msg = "moto is not installed (pip install 'mlops-infra[dev]')"
        raise RehearsalError("emulator s3", "emulator", msg) from error
    # werkzeug logs every request moto answers: keep the rehearsal's output readable.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Emulator(endpoint=f"http://{host}:{port}", region=region)
    finally:
        server.stop()


@dataclass(frozen=True)
class TrackingServer:
    """A running MLflow server.

    Attributes:
        url: Its ``http://127.0.0.1:<port>`` URL.
        artifact_root: Where it stores artifacts (the emulated bucket).
    """

    url: str
    artifact_root: str


@contextlib.contextmanager
def tracking_server(
    processes: Processes,
    *,
    workdir: Path,
    artifact_root: str,
    environment: Mapping[str, str],
    proxy_artifacts: bool = True,
) -> Generator[TrackingServer]:
    """Runs ``mlflow server`` (SQLite store) with its artifacts in ``artifact_root``.

    With ``proxy_artifacts`` the server moves artifacts itself (``--artifacts-destination``);
    otherwise clients write to ``artifact_root`` directly (``--default-artifact-root``,
    ``--no-serve-artifacts``), as the cloud's own server is configured.
    """
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable, "-m", "mlflow", "server",
        "--host", LOOPBACK, "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
    ]  # fmt: skip
    if proxy_artifacts:
        argv += ["--artifacts-destination", artifact_root]
    else:
        argv += ["--default-artifact-root", artifact_root, "--no-serve-artifacts"]
    # MLflow 3 starts a dozen job consumers (GenAI jobs, trace rollups) beside the server by
    # default; nothing here uses them, and on two cores their start-up slowed every step.
    # The stacks' own servers turn them off too.
    env = {**environment, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    child = processes.start(argv, env=env, cwd=workdir, log=workdir / "mlflow.log")
    url = f"http://{LOOPBACK}:{port}"
    try:
        if wait_http(f"{url}/health", timeout_s=300, process=child) != 200:
            tail = (workdir / "mlflow.log").read_text(encoding="utf-8", errors="replace")
            raise RehearsalError(
                "tracking server", "MLflow server", f"did not start:\n{tail[-2000:]}"
            )
        yield TrackingServer(url=url, artifact_root=artifact_root)
    finally:
        processes.stop(child)


@dataclass(frozen=True)
class GcsEmulator:
    """A running GCS emulator.

    Attributes:
        endpoint: Its ``http://127.0.0.1:<port>`` URL.
    """

    endpoint: str

    def environment(self) -> dict[str, str]:
        """Variables pointing ``google-cloud-storage`` (and MLflow's GCS code) at it."""
        return {"STORAGE_EMULATOR_HOST": self.endpoint, "GOOGLE_CLOUD_PROJECT": "rehearse"}

    def client(self) -> Any:
        """A ``google.cloud.storage`` client of the emulator (anonymous)."""
        storage: Any = importlib.import_module("google.cloud.storage")
        credentials: Any = importlib.import_module("google.auth.credentials")
        return storage.Client(
            project="rehearse",
            credentials=credentials.AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )


@contextlib.contextmanager
def gcs_emulator() -> Generator[GcsEmulator]:
    """Runs ``gcp-storage-emulator`` (in memory) on a free loopback port."""
    try:
        server_module: Any = importlib.import_module("gcp_storage_emulator.server")
    except ImportError as error:
        msg = "gcp-storage-emulator is not installed (pip install 'mlops-infra[dev]')"
        raise RehearsalError("emulator gcs", "emulator", msg) from error
    logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
    port = free_port()
    server: Any = server_module.create_server(LOOPBACK, port, in_memory=True)
    server.start()
    try:
        yield GcsEmulator(endpoint=f"http://{LOOPBACK}:{port}")
    finally:
        server.stop()


AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""Azurite's documented development key
(https://learn.microsoft.com/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key),
used here for every storage account the stack names."""

AZURITE_COMMAND = Path(".tools") / "azurite" / "node_modules" / ".bin" / "azurite-blob"
"""Where ``make azurite`` installs Azurite's blob service (npm ``azurite``), per project
(``AZURITE_BLOB`` names another one)."""


@dataclass(frozen=True)
class AzuriteEmulator:
    """A running Azurite blob service.

    Attributes:
        endpoint: Its ``http://127.0.0.1:<port>`` URL.
        accounts: The storage accounts it serves (all with :data:`AZURITE_KEY`).
    """

    endpoint: str
    accounts: tuple[str, ...]

    def connection_string(self, account: str) -> str:
        """The connection string of ``account`` on the emulator."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={self.endpoint}/{account};"
        )

    def environment(self) -> dict[str, str]:
        """Variables pointing MLflow's Azure Blob code at the first account."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string(self.accounts[0])}


@contextlib.contextmanager
def azurite_emulator(
    processes: Processes, *, project_dir: Path, workdir: Path, accounts: tuple[str, ...]
) -> Generator[AzuriteEmulator]:
    """Runs Azurite's blob service (in memory) on a free loopback port for ``accounts``."""
    command = Path(os.environ.get("AZURITE_BLOB") or project_dir / AZURITE_COMMAND)
    if not command.exists():
        msg = f"{command} is missing: run `make azurite` (npm install into .tools/azurite)"
        raise RehearsalError("emulator azurite", "emulator", msg)
    port = free_port()
    argv = [
        str(command), "--blobHost", LOOPBACK, "--blobPort", str(port),
        "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--silent",
    ]  # fmt: skip
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(workdir)),
        "AZURITE_ACCOUNTS": ";".join(f"{a}:{AZURITE_KEY}" for a in accounts),
    }
    workdir.mkdir(parents=True, exist_ok=True)
    child = processes.start(argv, env=env, cwd=workdir, log=workdir / "azurite.log")
    endpoint = f"http://{LOOPBACK}:{port}"
    try:
        # Any answer (400 to an anonymous GET) means it listens.
        if wait_http(f"{endpoint}/{accounts[0]}?comp=list", timeout_s=60, process=child) is None:
            log = (workdir / "azurite.log").read_text(encoding="utf-8", errors="replace")
            raise RehearsalError("emulator azurite", "emulator", f"did not start:\n{log[-2000:]}")
        yield AzuriteEmulator(endpoint=endpoint, accounts=accounts)
    finally:
        processes.stop(child)
