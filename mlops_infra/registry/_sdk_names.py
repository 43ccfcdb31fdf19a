"""Cloud SDK subpackages that import, name by name, only the modules a program uses.

A subpackage of a Pulumi SDK, such as Google Cloud's ``compute``, is a lazy module: the first
attribute looked up on it runs its ``__init__``, which imports every module of that
service (about 290 for ``compute``, 0.3-0.7 s on a 2-CPU machine) when a stack uses a
handful of resources. :func:`resolve_sdk_names_on_demand` turns each subpackage that has
not loaded yet into one that answers a missing name by importing only the module that
defines it:

* a resource or function from the module named after it, as Pulumi's code generator
  lays SDKs out (``RouterNat`` from ``router_nat``, ``get_project`` and
  ``get_project_output`` from ``get_project``);
* a resource's arguments class from the resource's module (``NetworkArgs``), a nested
  input type from ``_inputs``, an enum from ``_enums``;
* a submodule (``outputs``).

A name is taken from a module only if that module's ``__all__`` lists it: the package's
``__init__`` star-imports exactly those. A name found nowhere that way (``__all__`` itself,
any other dunder) loads the whole subpackage, as before, and is looked up there. So every
lookup answers what a fully loaded subpackage would, with the same objects; only what
``dir()`` and ``vars()`` list is partial until then, as with the lazy module.

Loading a subpackage whole imports resources the program never named, and some SDK
modules warn when they load (``MangedSslCertificate has been deprecated in favor of
ManagedSslCertificate``): a suite that turns warnings into errors would fail on them. So
that load ignores ``DeprecationWarning`` raised by the SDK's own modules, and only that.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import types
import warnings
from pathlib import Path

__all__ = ["module_name_of", "resolve_sdk_names_on_demand"]

_LAZY_CLASS = "pulumi._utils._LazyModule"
"""The class of a Pulumi SDK subpackage that is not loaded yet (``pulumi._utils.lazy_import``)."""

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SUFFIXES = ("ArgsDict", "Args", "_output")
_SHARED_MODULES = ("_inputs", "_enums")

_lazy_classes: dict[str, type[types.ModuleType]] = {}
_lock = threading.Lock()


def module_name_of(name: str) -> str:
    """The module Pulumi's Python code generator writes ``name`` into.

    ``RouterNat`` → ``router_nat``, ``CryptoKeyIAMMember`` → ``crypto_key_iam_member``.
    """
    return _WORD_BOUNDARY.sub("_", name).lower()


def resolve_sdk_names_on_demand() -> int:
    """Makes every Pulumi SDK subpackage not loaded yet import only what is looked up on it.

    Idempotent and cheap (one pass over ``sys.modules``); call it after importing modules
    that import SDK subpackages. Returns how many subpackages it changed.
    """
    changed = 0
    with _lock:
        for name, module in list(sys.modules.items()):
            kind = type(module)
            if f"{kind.__module__}.{kind.__qualname__}" != _LAZY_CLASS:
                continue
            _lazy_classes[name] = kind
            module.__class__ = _NameByName
            changed += 1
    return changed


class _NameByName(types.ModuleType):
    """A Pulumi SDK subpackage that imports the module of each name looked up on it."""

    def __getattr__(self, name: str) -> object:
        # Only called for a name the module does not have yet.
        value = _from_own_module(self, name)
        if value is not _MISSING:
            setattr(self, name, value)
            return value
        return _load_whole(self, name)


_MISSING = object()


def _from_own_module(package: types.ModuleType, name: str) -> object:
    if name.startswith("__"):
        return _MISSING
    candidates = [module_name_of(name)]
    candidates += [module_name_of(name[: -len(s)]) for s in _SUFFIXES if name.endswith(s)]
    candidates += _SHARED_MODULES
    folders = [Path(folder) for folder in getattr(package, "__path__", ())]
    for candidate in dict.fromkeys(candidates):
        if not any(
            (folder / f"{candidate}.py").is_file() or (folder / candidate / "__init__.py").is_file()
            for folder in folders
        ):
            continue
        module = importlib.import_module(f"{package.__name__}.{candidate}")
        if candidate == name:
            return module  # a submodule looked up by name (``compute.outputs``)
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    return _MISSING


def _load_whole(package: types.ModuleType, name: str) -> object:
    with _lock:
        lazy = _lazy_classes.pop(package.__name__, None)
        if lazy is not None and type(package) is _NameByName:
            # The lazy module's own first lookup runs the package's __init__ and keeps
            # what was set on it since (the submodules imported name by name).
            object.__setattr__(package, "__class__", lazy)
    sdk = re.escape(package.__name__.partition(".")[0])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=rf"{sdk}\.")
        return getattr(package, name)
