"""Importing ``pulumi_aws`` submodules without the SDK's import-time deprecation noise.

``pulumi_aws`` 7.51.1 warns, when ``pulumi_aws.s3`` or ``pulumi_aws.ec2`` is first loaded,
about resources that this backend never uses (``BucketV2``, ``BucketVersioningV2``,
``EncryptionControl`` ...): the warnings are raised at module level, so merely importing
the package fails under ``-W error``. Only those "X has been deprecated in favor of Y"
messages are silenced, and only while the submodule loads; deprecation warnings for
arguments we pass (none, by design) still surface.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Generator

__all__ = ["quiet_sdk_import"]

_RESOURCE_DEPRECATED = r".* has been deprecated in favor of .*"


@contextlib.contextmanager
def quiet_sdk_import() -> Generator[None]:
    """Silences the SDK's import-time "resource deprecated in favor of" warnings.

    ``pulumi_aws`` submodules load lazily, on first attribute access: touch one attribute
    inside the block so the module body runs while the filter is active.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_RESOURCE_DEPRECATED, category=DeprecationWarning)
        yield
