"""Put an equivalent function in place of one of the Pulumi SDK's, only where verified.

The SDK functions mlops-infra replaces (:mod:`~mlops_infra.offline.stack_traces`,
:mod:`~mlops_infra.offline.unknowns`) are private or internal: their replacements
reproduce what they do, and that is only known for the SDK source they were compared
with. Each replacement is therefore listed with the SHA-256 prefix of that source
(:func:`source_digest`) and put in place only where the installed SDK's source has it;
otherwise the SDK's own function stays, and a change in the SDK only turns the speed-up
off until someone compares the new source and lists its digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
from collections.abc import Callable, Generator, Mapping
from types import ModuleType
from typing import Any

import pulumi._version as sdk_version

__all__ = ["SdkSwap", "listed_sdk", "source_digest"]


def source_digest(module: ModuleType, names: tuple[str, ...]) -> str:
    """SHA-256 prefix of the source of ``module``'s functions ``names``, in that order.

    ``"missing"`` or ``"unreadable"`` (never a listed digest) where one is absent or its
    source cannot be read.
    """
    digest = hashlib.sha256()
    for name in names:
        function = getattr(module, name, None)
        if function is None:
            return "missing"
        try:
            digest.update(inspect.getsource(function).encode())
        except (OSError, TypeError):
            return "unreadable"
    return digest.hexdigest()[:12]


def listed_sdk(listed: Mapping[str, str], digest: Callable[[], str]) -> bool:
    """Whether the installed SDK's version is ``listed`` (version -> digest), or its digest.

    A released version's source does not change, so a listed version is taken as is;
    any other is checked by ``digest()``, which reads the SDK's source.
    """
    if getattr(sdk_version, "_VERSION", None) in listed:
        return True
    return digest() in listed.values()


class SdkSwap:
    """One SDK function (``module.attribute``) and the replacement put in its place.

    :meth:`block` replaces it for a block (nested blocks share one replacement) and
    :meth:`install` for the rest of the process, both only where ``verified()`` is true.
    """

    def __init__(
        self,
        module: ModuleType,
        attribute: str,
        replacement: Callable[..., Any],
        verified: Callable[[], bool],
    ) -> None:
        """Pairs ``module.attribute`` with ``replacement``.

        ``verified()`` tells whether the installed SDK's function is the one
        ``replacement`` was compared with; it is asked at each :meth:`block` and
        :meth:`install`.
        """
        self._module = module
        self._attribute = attribute
        self.replacement = replacement
        """The function put in place (read at each :meth:`block` and :meth:`install`)."""
        self._verified = verified
        self._blocks = 0

    def in_place(self) -> bool:
        """Whether the replacement is what the SDK calls now."""
        return getattr(self._module, self._attribute) is self.replacement

    def install(self) -> bool:
        """Puts the replacement in place for the rest of the process, if verified.

        For the program's own process. Inside a :meth:`block` it changes nothing: the
        block puts back what it replaced. Returns whether the replacement is in place.
        """
        if self._blocks or not self._verified():
            return self.in_place()
        setattr(self._module, self._attribute, self.replacement)
        return True

    @contextlib.contextmanager
    def block(self) -> Generator[bool]:
        """Puts the replacement in place for the block, if verified; yields whether it is.

        Where it is in place already (installed for the process, or an outer block), it
        stays.
        """
        if self.in_place() or not self._verified():
            yield self.in_place()
            return
        previous = getattr(self._module, self._attribute)
        setattr(self._module, self._attribute, self.replacement)
        self._blocks += 1
        try:
            yield True
        finally:
            self._blocks -= 1
            setattr(self._module, self._attribute, previous)
