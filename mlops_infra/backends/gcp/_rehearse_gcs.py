"""Objects on the emulated GCS, and Cloud Storage FUSE (``/gcs/<bucket>``) over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["EmulatedGcs", "FuseMount"]


class EmulatedGcs:
    """Buckets and objects of the emulator, through ``google-cloud-storage``.

    Args:
        client: A storage client of the emulator (``Any``: the library is partly typed).
    """

    def __init__(self, client: Any) -> None:
        """Wraps the client."""
        self._client: Any = client
        self._buckets: dict[str, Any] = {}

    def bucket(self, name: str) -> Any:
        """The bucket ``name``, created on first use."""
        if name not in self._buckets:
            found: Any = self._client.lookup_bucket(name)
            self._buckets[name] = found or self._client.create_bucket(name)
        return self._buckets[name]

    def put(self, bucket: str, key: str, body: bytes) -> None:
        """Writes one object."""
        self.bucket(bucket).blob(key).upload_from_string(body)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Object names under ``prefix``."""
        return [str(b.name) for b in self._client.list_blobs(self.bucket(bucket), prefix=prefix)]

    def download(self, bucket: str, key: str, target: Path) -> None:
        """Copies one object to ``target``."""
        target.parent.mkdir(parents=True, exist_ok=True)
        self.bucket(bucket).blob(key).download_to_filename(str(target))

    def upload(self, path: Path, bucket: str, key: str) -> None:
        """Uploads one file."""
        self.bucket(bucket).blob(key).upload_from_filename(str(path))


class FuseMount:
    """``/gcs/<bucket>`` as Vertex AI mounts it, mapped onto ``root``.

    Before a job every object of the mounted buckets is copied under ``root``; after it,
    every file the job created or changed there is written back to the emulator (what
    Cloud Storage FUSE does as the job writes).
    https://cloud.google.com/vertex-ai/docs/training/cloud-storage-file-system

    Args:
        gcs: The emulated store.
        root: The folder standing for ``/gcs``.
        buckets: The buckets the job's paths name.
    """

    def __init__(self, gcs: EmulatedGcs, root: Path, buckets: set[str]) -> None:
        """Prepares the mount (nothing is copied until :meth:`mount`)."""
        self._gcs = gcs
        self.root = root
        self._buckets = sorted(buckets)
        self._seen: dict[Path, tuple[int, int]] = {}

    def mount(self) -> None:
        """Copies the buckets' objects under ``root``."""
        for bucket in self._buckets:
            for key in self._gcs.keys(bucket):
                if not key.endswith("/"):
                    self._gcs.download(bucket, key, self.root / bucket / key)
        self._seen = self._state()

    def unmount(self) -> list[str]:
        """Writes back what changed; returns the ``gs://`` URIs written."""
        written: list[str] = []
        for path, state in sorted(self._state().items()):
            if self._seen.get(path) != state:
                bucket, _, key = path.relative_to(self.root).as_posix().partition("/")
                self._gcs.upload(path, bucket, key)
                written.append(f"gs://{bucket}/{key}")
        return written

    def _state(self) -> dict[Path, tuple[int, int]]:
        return {
            path: (path.stat().st_size, path.stat().st_mtime_ns)
            for path in self.root.rglob("*")
            if path.is_file()
        }
