"""Data references: the datasets a pipeline or job reads, each with a version."""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, model_validator

from mlops_infra.specs._base import Spec

__all__ = ["LOCAL_SCHEMES", "DataRef"]

#: Schemes whose content we can read and hash ourselves; any other URI must carry a version.
LOCAL_SCHEMES = ("file", "pkg")
_SCHEME_RE = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://")
_REMOTE_SCHEMES = ("s3", "gs", "abfss", "https", "http", "dvc", "hf")


class DataRef(Spec):
    """A dataset: where it is, and which version of it.

    Local paths (relative to the project root, or ``file://``) and package resources
    (``pkg://package/path/in/package``) are hashed, so editing the data makes a new
    pipeline version. Remote data (``s3://``, ``gs://``, ``https://``, ...) cannot be
    hashed without downloading it, so it must name its version.
    """

    uri: str = Field(
        min_length=1, examples=["data/train.csv", "pkg://sklearn.datasets/data/iris.csv"]
    )
    """Where the data is."""

    version: str | None = Field(default=None, min_length=1, max_length=256)
    """Its version (object version id, dataset revision, content hash); required for remote data."""

    @property
    def scheme(self) -> str:
        """The URI scheme, ``file`` for plain paths."""
        match = _SCHEME_RE.match(self.uri)
        return match["scheme"] if match else "file"

    @property
    def is_local(self) -> bool:
        """Whether we hash the content ourselves."""
        return self.scheme in LOCAL_SCHEMES

    @model_validator(mode="after")
    def _versioned(self) -> Self:
        scheme = self.scheme
        if scheme not in LOCAL_SCHEMES and scheme not in _REMOTE_SCHEMES:
            msg = (
                f"{self.uri!r} has scheme {scheme!r}; allowed: a path, "
                f"{', '.join(s + '://' for s in (*LOCAL_SCHEMES, *_REMOTE_SCHEMES))}"
            )
            raise ValueError(msg)
        if not self.is_local and self.version is None:
            msg = (
                f"remote data {self.uri!r} needs a version (object version id, dataset "
                "revision or content hash) so that a new version of the data is a new "
                "pipeline version"
            )
            raise ValueError(msg)
        return self
