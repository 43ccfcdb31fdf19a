"""Loading pulumi_gcp submodules without their own import-time deprecation warnings.

``pulumi_gcp.storage`` and ``pulumi_gcp.compute`` import misspelled aliases
(``getTransferProjectServieAccount``, ``MangedSslCertificate``) that warn when the
module loads. A program, or a test suite that turns warnings into errors, would fail
on a warning about resources it never uses; the submodules are loaded lazily (on first
attribute access), so they are loaded here, once, with those warnings silenced.
"""

from __future__ import annotations

import warnings
from types import ModuleType

__all__ = ["load_quietly"]


def load_quietly(*modules: ModuleType) -> None:
    """Finishes loading ``modules`` (lazy pulumi_gcp submodules) without their warnings.

    Only ``DeprecationWarning`` raised by pulumi_gcp's own modules is ignored, and only
    while they load.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi_gcp\.")
        for module in modules:
            getattr(module, "__all__", None)  # any attribute access runs the lazy import
