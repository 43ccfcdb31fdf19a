"""Make recorded inputs safe and stable: secrets masked, machine paths and numbers normalized.

The same commit must give byte-identical plans on any machine, and no plan may carry a
secret. So, for every value that goes into a plan:

* RPC secrets become ``[secret]`` (done by :meth:`Registration.masked_inputs`), inputs
  named in ``additional_secret_outputs`` too, and any string containing a known secret
  value (one handed to the program) is masked as a last line of defence;
* the project folder becomes ``<project>``, the Python interpreter ``<python>``, its
  site-packages ``<site-packages>`` and its environment ``<environment>`` (the local
  backend records absolute paths, and packaged data resolves into site-packages);
* engine-internal inputs (``__provider``: the pickled dynamic provider) are dropped;
* integral floats become ints (the RPC layer sends every number as a double);
* assets and archives become their kind, path and content hash (never their content).
"""

from __future__ import annotations

import functools
import hashlib
import sys
import sysconfig
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from mlops_infra.offline import Registration
from mlops_infra.resources import decode_component_inputs
from mlops_infra.versioning import HashingError, hash_tree

__all__ = [
    "ENVIRONMENT_PLACEHOLDER",
    "PROJECT_PLACEHOLDER",
    "PYTHON_PLACEHOLDER",
    "SECRET_MASK",
    "SITE_PACKAGES_PLACEHOLDER",
    "Normalizer",
]

SECRET_MASK = "[secret]"  # noqa: S105 - the mask, not a password
"""What a secret value reads as in a plan."""

PROJECT_PLACEHOLDER = "<project>"
"""What the absolute project folder reads as in a plan."""

PYTHON_PLACEHOLDER = "<python>"
"""What the absolute path of the Python interpreter reads as in a plan."""

SITE_PACKAGES_PLACEHOLDER = "<site-packages>"
"""What the interpreter's site-packages folder reads as in a plan."""

ENVIRONMENT_PLACEHOLDER = "<environment>"
"""What the interpreter's environment (``sys.prefix``) reads as in a plan."""

_MIN_SECRET_LENGTH = 4  # masking shorter strings everywhere would garble unrelated text


@dataclass(frozen=True)
class Normalizer:
    """Normalizes values for a plan made in ``project_dir``.

    Attributes:
        project_dir: The project folder (replaced by ``<project>``).
        secret_values: Plain secret values the program was given (masked wherever found).
        python: The interpreter path (replaced by ``<python>``).
    """

    project_dir: Path
    secret_values: tuple[str, ...] = ()
    python: str = sys.executable

    @functools.cached_property
    def _replacements(self) -> list[tuple[str, str]]:
        # Computed once per normalizer: sysconfig.get_paths() is slow, and a plan calls
        # text() for every string it holds.
        pairs = [(self.python, PYTHON_PLACEHOLDER)]
        # Packaged data (pkg://) resolves into the environment, wherever it is installed.
        for folder in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
            pairs.append((folder, SITE_PACKAGES_PLACEHOLDER))
        pairs.append((sys.prefix, ENVIRONMENT_PLACEHOLDER))
        for folder in {str(self.project_dir), str(self.project_dir.resolve())}:
            pairs.append((folder, PROJECT_PLACEHOLDER))
        # Longest first: the interpreter usually lives inside the project (.venv).
        return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)

    def text(self, value: str) -> str:
        """Returns ``value`` with secrets masked and machine paths replaced."""
        for secret in self.secret_values:
            if len(secret) >= _MIN_SECRET_LENGTH and secret in value:
                return SECRET_MASK
        for old, new in self._replacements:
            value = value.replace(old, new)
        return value

    def value(self, value: Any) -> Any:
        """Returns ``value`` (any JSON-like data) normalized, recursively."""
        if value is None or isinstance(value, (bool, int, float)):
            return int(value) if isinstance(value, float) and value.is_integer() else value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            mapping = typing.cast(Mapping[Any, Any], value)
            return {
                self.text(str(k)): self.value(v)
                for k, v in mapping.items()
                if not str(k).startswith("__")
            }
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in typing.cast(Iterable[Any], value)]
        if isinstance(value, (pulumi.Asset, pulumi.Archive)):
            return self.asset(value)
        return self.text(str(value))

    def asset(self, value: pulumi.Asset | pulumi.Archive) -> dict[str, Any]:
        """Returns an asset or archive as data: its kind, where it is, and a content hash.

        The hash makes a changed file show in a diff; a file's text is never copied in.
        """
        if isinstance(value, pulumi.StringAsset):
            return {"asset": "string", "sha256": hashlib.sha256(value.text.encode()).hexdigest()}
        if isinstance(value, (pulumi.RemoteAsset, pulumi.RemoteArchive)):
            return {"asset": "remote", "uri": self.text(str(value.uri))}
        if isinstance(value, pulumi.AssetArchive):
            assets = typing.cast(Mapping[str, Any], value.assets)
            return {"archive": {name: self.value(item) for name, item in sorted(assets.items())}}
        path = Path(str(getattr(value, "path", "")))
        try:
            digest = hash_tree(path if path.is_absolute() else self.project_dir / path)
        except (HashingError, OSError):
            digest = None
        kind = "file" if isinstance(value, pulumi.FileAsset) else "folder"
        return {"asset": kind, "path": self.text(str(path)), "sha256": digest}

    def inputs(self, registration: Registration) -> dict[str, Any]:
        """Returns the registration's inputs as a plan shows them."""
        masked = decode_component_inputs(registration.type, registration.masked_inputs())
        for key in registration.additional_secret_outputs:
            if key in masked and masked[key] is not None:
                masked[key] = SECRET_MASK
        normalized: dict[str, Any] = self.value(masked)
        return normalized
