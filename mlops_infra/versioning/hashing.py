r"""Stable content hashes of files, folders and JSON values.

The same content hashes the same on every machine: paths are relative and use ``/``,
folders are walked in sorted order, text files hash with ``\\n`` line endings (a
checkout that converts line endings keeps its version), JSON is canonical (sorted
keys, no whitespace), and no timestamp, owner or absolute path ever enters a hash.

Deliberate choices:

* Symbolic links inside a hashed folder hash as their (relative) target, not the
  content behind it; a link leading outside the folder is an error, since its content
  could differ between machines without the hash noticing.
* Large files are streamed in 1 MiB blocks (constant memory). Hashes of files of
  :data:`CACHE_MIN_BYTES` or more are cached in :class:`HashCache`, keyed by path,
  size, modification time and inode, so a 10 GiB dataset is read once, not on every
  ``pulumi preview``.
* Smaller files (component code, bundled datasets) have their hash remembered for the
  life of the process, keyed the same way plus the change time: a program that builds
  many pipelines over the same code, or a test session, reads each file once.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_infra.errors import MlopsError

__all__ = [
    "CACHE_MIN_BYTES",
    "HashCache",
    "HashingError",
    "canonical_json",
    "file_identity",
    "hash_file",
    "hash_json",
    "hash_tree",
]

_BLOCK = 1 << 20
CACHE_MIN_BYTES = 8 << 20
"""Files at least this large have their hash cached."""

_TEXT_PROBE = 8192


class HashingError(MlopsError):
    """A file or folder cannot be hashed reproducibly."""


def canonical_json(value: Any) -> str:
    """Returns ``value`` as canonical JSON: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def hash_json(value: Any) -> str:
    """Returns the SHA-256 of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


@dataclass
class HashCache:
    """Remembers hashes of large files between runs, keyed by (path, size, mtime, inode).

    Args:
        path: JSON file the cache is kept in; ``None`` keeps it in memory only.
    """

    path: Path | None = None
    _entries: dict[str, list[Any]] = field(default_factory=dict[str, list[Any]])
    _loaded: bool = False
    _dirty: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.path is not None and self.path.is_file():
            try:
                data: object = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return  # a corrupt cache is only a slower run
            if isinstance(data, dict):
                self._entries = {str(k): v for k, v in data.items() if isinstance(v, list)}  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]

    def get(self, path: Path, info: os.stat_result) -> str | None:
        """Returns the cached hash of ``path`` if the file is unchanged since it was stored."""
        with self._lock:
            self._load()
            entry = self._entries.get(str(path))
        if entry and len(entry) == 4 and entry[:3] == [info.st_size, info.st_mtime_ns, info.st_ino]:
            return str(entry[3])
        return None

    def put(self, path: Path, info: os.stat_result, digest: str) -> None:
        """Stores the hash of ``path`` as of ``info``."""
        with self._lock:
            self._load()
            self._entries[str(path)] = [info.st_size, info.st_mtime_ns, info.st_ino, digest]
            self._dirty = True

    def save(self) -> None:
        """Writes the cache file (atomically), if anything changed."""
        with self._lock:
            if self.path is None or not self._dirty:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(canonical_json(self._entries), encoding="utf-8")
            temporary.replace(self.path)
            self._dirty = False


def _is_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the probe's end is still text.
        return error.start >= len(head) - 3
    return True


def file_identity(info: os.stat_result) -> tuple[int, int, int, int, int]:
    """What changes whenever a file's content may have: size, inode, device, mtime, ctime."""
    return (info.st_size, info.st_ino, info.st_dev, info.st_mtime_ns, info.st_ctime_ns)


# path -> (identity, hash) of files under CACHE_MIN_BYTES, for the life of the process.
_RECENT: dict[str, tuple[tuple[int, int, int, int, int], str]] = {}


def hash_file(path: Path, cache: HashCache | None = None) -> str:
    """Returns the SHA-256 of a file's content, with CRLF read as LF in text files."""
    try:
        info = path.stat()
    except OSError as error:
        msg = f"cannot read {path}: {error.strerror}"
        raise HashingError(msg) from None
    if info.st_size < CACHE_MIN_BYTES:
        identity = file_identity(info)
        recent = _RECENT.get(str(path))
        if recent is not None and recent[0] == identity:
            return recent[1]
        result = _digest(path)
        _RECENT[str(path)] = (identity, result)
        return result
    cached = cache.get(path, info) if cache is not None else None
    if cached is not None:
        return cached
    result = _digest(path)
    if cache is not None:
        cache.put(path, info, result)
    return result


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        head = handle.read(_TEXT_PROBE)
        text = _is_text(head)
        block = head
        carry = b""
        while block:
            if text:
                block = carry + block
                # Keep a trailing CR for the next block: it may start with LF.
                carry = b"\r" if block.endswith(b"\r") else b""
                block = block[:-1] if carry else block
                block = block.replace(b"\r\n", b"\n")
            digest.update(block)
            block = handle.read(_BLOCK)
        digest.update(carry)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue  # .git, .DS_Store, editor files: never data, never code
        if entry.is_symlink():
            yield path
        elif entry.is_dir():
            if entry.name == "__pycache__":
                continue
            yield from _walk(path)
        elif entry.is_file() and not entry.name.endswith((".pyc", ".pyo")):
            yield path


def hash_tree(root: Path, cache: HashCache | None = None) -> str:
    """Returns a hash of a file, or of a folder's files by relative path.

    Hidden entries and Python bytecode are skipped; symbolic links hash as their target.
    """
    if not root.exists():
        msg = f"cannot hash {root}: no such file or folder"
        raise HashingError(msg)
    if root.is_file():
        return hash_file(root, cache)
    manifest: dict[str, str] = {}
    resolved_root = root.resolve()
    for path in _walk(root):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            manifest[relative] = "link:" + _link_target(path, resolved_root)
        else:
            manifest[relative] = hash_file(path, cache)
    return hash_json(manifest)


def _link_target(link: Path, root: Path) -> str:
    target = link.resolve()
    if not target.is_relative_to(root):
        msg = (
            f"{link} links to {target}, outside {root}; its content could differ between "
            "machines without changing the version. Copy the file in, or reference it as data."
        )
        raise HashingError(msg)
    if not target.exists():
        msg = f"{link} is a dangling link"
        raise HashingError(msg)
    return target.relative_to(root).as_posix()
