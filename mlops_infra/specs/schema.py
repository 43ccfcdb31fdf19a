"""JSON Schema of a stack file (``Pulumi.<stack>.yaml``), for editors and CI."""

from __future__ import annotations

import copy
from typing import Any

from mlops_infra.specs.loading import CONFIG_NAMESPACE, TOP_LEVEL_KEYS
from mlops_infra.specs.stack import StackSpec

__all__ = ["stack_file_schema"]

_SECURE_VALUE: dict[str, Any] = {
    "type": "object",
    "description": "An encrypted value, set with `pulumi config set --secret`.",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


def stack_file_schema(clouds: list[str] | None = None) -> dict[str, Any]:
    """Returns the JSON Schema (draft 2020-12) of a whole stack file.

    Args:
        clouds: Cloud names allowed for ``mlops:cloud`` (default: any string; the
            registered clouds are checked by ``mlops-infra validate``).
    """
    spec_schema = StackSpec.model_json_schema(mode="validation")
    definitions: dict[str, Any] = spec_schema.pop("$defs", {})
    properties: dict[str, Any] = spec_schema["properties"]
    top_level = {key: copy.deepcopy(properties.pop(key)) for key in TOP_LEVEL_KEYS}
    if clouds:
        top_level["cloud"]["enum"] = sorted(clouds)
    prefix = f"{CONFIG_NAMESPACE}:"
    config_properties: dict[str, Any] = {prefix + key: value for key, value in top_level.items()}
    config_properties[prefix + "stack"] = spec_schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlops-infra.dev/schema/stack-file.json",
        "title": "mlops-infra stack file",
        "description": (
            "A Pulumi stack file (stacks/Pulumi.<stack>.yaml) for an mlops-infra project: "
            "mlops:cloud, mlops:environment and the mlops:stack spec."
        ),
        "type": "object",
        "properties": {
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {"type": ["array", "object"]},
            "config": {
                "type": "object",
                "properties": config_properties,
                # Any other key of our namespace is a secret the spec names by key.
                "patternProperties": {
                    f"^{prefix}(?!({'|'.join((*TOP_LEVEL_KEYS, 'stack'))})$)": _SECURE_VALUE
                },
                "additionalProperties": True,
            },
        },
        "$defs": definitions,
    }
