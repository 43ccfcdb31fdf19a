"""Blobs on Azurite, addressed by their ``https://<account>.blob.core.windows.net`` URLs."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

__all__ = ["EmulatedBlob", "split_url"]


def split_url(url: str) -> tuple[str, str, str]:
    """``https://<account>.blob.core.windows.net/<container>/<path>`` → its three parts."""
    parsed = urlparse(url)
    account = parsed.netloc.split(".", 1)[0]
    container, _, path = parsed.path.lstrip("/").partition("/")
    return account, container, path


class EmulatedBlob:
    """Containers and blobs of the emulator, through ``azure-storage-blob``.

    Args:
        connection_strings: Storage account → its connection string on the emulator.
    """

    def __init__(self, connection_strings: dict[str, str]) -> None:
        """Creates one client per account."""
        blob: Any = importlib.import_module("azure.storage.blob")
        self._clients: dict[str, Any] = {
            account: blob.BlobServiceClient.from_connection_string(value)
            for account, value in connection_strings.items()
        }
        self._containers: set[tuple[str, str]] = set()

    def _container(self, account: str, container: str) -> Any:
        client: Any = self._clients[account].get_container_client(container)
        if (account, container) not in self._containers:
            if not client.exists():
                client.create_container()
            self._containers.add((account, container))
        return client

    def put(self, account: str, container: str, path: str, body: bytes) -> None:
        """Writes one blob."""
        self._container(account, container).upload_blob(path, body, overwrite=True)

    def download_prefix(self, url: str, target: Path) -> list[Path]:
        """Copies the blob at ``url``, or every blob under it, into ``target``."""
        account, container, prefix = split_url(url)
        client: Any = self._container(account, container)
        written: list[Path] = []
        for item in client.list_blobs(name_starts_with=prefix):
            name = str(item.name)
            relative = name[len(prefix) :].lstrip("/") or name.rsplit("/", 1)[-1]
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(client.download_blob(name).readall())
            written.append(destination)
        return written

    def upload_tree(self, folder: Path, url: str) -> None:
        """Uploads every file under ``folder`` below ``url``."""
        account, container, prefix = split_url(url)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = f"{prefix.rstrip('/')}/{path.relative_to(folder).as_posix()}"
            self.put(account, container, name, path.read_bytes())
