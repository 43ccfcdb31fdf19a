"""A component's registered inputs: JSON text on the wire, data for every reader."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.resources import decode_component_inputs


@pytest.mark.parametrize(
    ("type_token", "inputs", "expected"),
    [
        (
            "mlops:index:Pipeline",
            {"spec": '{"name":"p","wait_for_run":true}', "version_manifest": '{"version":"v"}'},
            {"spec": {"name": "p", "wait_for_run": True}, "version_manifest": {"version": "v"}},
        ),
        # Text that is not JSON (a masked secret, an unknown in a preview) stays as it is.
        ("mlops:index:TrackingServer", {"spec": "[secret]"}, {"spec": "[secret]"}),
        # Only the registered keys are decoded, and only on components.
        ("mlops:index:Foundation", {"name": '{"a":1}'}, {"name": '{"a":1}'}),
        ("aws:s3/bucket:Bucket", {"spec": '{"a":1}'}, {"spec": '{"a":1}'}),
    ],
)
def test_decode_component_inputs(
    type_token: str, inputs: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert decode_component_inputs(type_token, inputs) == expected
