"""ML changes in plain words: pipeline versions, components, models, endpoints, gates, GPUs.

Reads the ``ml`` section of two plans (see :mod:`~mlops_infra.plan.ml`), so two plan files
are enough: "pipeline `churn` `3f2a…` → `9c1d…`: component `churn.train` of step `train`
changed: `churn/train.py`".
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_infra.plan.model import Plan

__all__ = ["MlChange", "ml_changes", "short_version"]

Data = Mapping[str, Any]


@dataclass(frozen=True)
class MlChange:
    """One ML object's change.

    Attributes:
        kind: ``pipeline``, ``job``, ``endpoint``, ``cluster``, ``stack`` or ``secret``.
        name: The object's name.
        summary: What happened to it as a whole (``added``, a version change...), or empty.
        details: Each change, in words.
    """

    kind: str
    name: str
    summary: str = ""
    details: tuple[str, ...] = ()

    def text(self) -> str:
        """Returns the change as one Markdown line (without the list marker)."""
        head = f"{self.kind} `{self.name}`" + (f" {self.summary}" if self.summary else "")
        return f"{head}: {'; '.join(self.details)}" if self.details else head


def short_version(version: object) -> str:
    """Returns a version as reviewers read it: its first 8 hex digits and an ellipsis."""
    text = str(version)
    return f"{text[:8]}…" if len(text) > 8 else text


def _code(value: object) -> str:
    return f"`{value}`"


def _names(values: object) -> str:
    items = typing.cast(list[Any], values) if isinstance(values, list) else []
    return ", ".join(_code(v) for v in items) if items else "nothing"


def _scalar(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "unset" if value is None else str(value)


def _mapping(data: Data, key: str) -> Data:
    value: object = data.get(key)
    return typing.cast(Data, value) if isinstance(value, Mapping) else {}


def _parameters(label: str, old: Data, new: Data) -> list[str]:
    details: list[str] = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            details.append(f"{label} parameter `{key}` removed (was {_scalar(old[key])})")
        elif key not in old:
            details.append(f"{label} parameter `{key}` added: {_scalar(new[key])}")
        elif old[key] != new[key]:
            details.append(f"{label} parameter `{key}`: {_scalar(old[key])} → {_scalar(new[key])}")
    return details


def _changed_files(old: Data, new: Data) -> set[str]:
    return {path for path in set(old) | set(new) if old.get(path) != new.get(path)}


def _order(pipeline: Data) -> list[str]:
    """Step names in run order (JSON plan files sort keys, so the order is stored apart)."""
    steps = _mapping(pipeline, "steps")
    order = [name for name in typing.cast(list[str], pipeline.get("order") or []) if name in steps]
    return order + sorted(name for name in steps if name not in order)


def _step_details(old_pipeline: Data, new_pipeline: Data, changed_files: set[str]) -> list[str]:
    old_steps, new_steps = _mapping(old_pipeline, "steps"), _mapping(new_pipeline, "steps")
    details: list[str] = []
    for name in _order(new_pipeline):
        if name not in old_steps:
            component = _mapping(new_steps, name).get("component")
            details.append(f"step `{name}` added (component `{component}`)")
    details += [f"step `{name}` removed" for name in _order(old_pipeline) if name not in new_steps]
    for name in _order(new_pipeline):
        if name not in old_steps:
            continue
        old, new = _mapping(old_steps, name), _mapping(new_steps, name)
        if old.get("component") != new.get("component"):
            details.append(
                f"step `{name}` now runs `{new.get('component')}` (was `{old.get('component')}`)"
            )
        files = sorted(changed_files & set(typing.cast(list[str], new.get("files") or [])))
        if files and old.get("component") == new.get("component"):
            details.append(
                f"component `{new.get('component')}` of step `{name}` changed: "
                + ", ".join(_code(f) for f in files)
            )
        for key, words in (("depends_on", "depends on"), ("cluster", "runs on cluster")):
            if old.get(key) != new.get(key):
                before = _names(old.get(key)) if key == "depends_on" else _code(old.get(key))
                after = _names(new.get(key)) if key == "depends_on" else _code(new.get(key))
                details.append(f"step `{name}` {words} {after} (was {before})")
        for key in ("image", "nodes"):
            if old.get(key) != new.get(key):
                details.append(
                    f"step `{name}` {key}: {_scalar(old.get(key))} → {_scalar(new.get(key))}"
                )
        details += _parameters(
            f"step `{name}`", _mapping(old, "parameters"), _mapping(new, "parameters")
        )
    return details


def _data_details(old: Data, new: Data) -> list[str]:
    details: list[str] = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            details.append(f"data `{name}` added")
        elif name not in new:
            details.append(f"data `{name}` removed")
        elif old[name] != new[name]:
            details.append(f"data `{name}` changed")
    return details


def _version_change(old: Data, new: Data) -> str:
    before, after = short_version(old.get("version")), short_version(new.get("version"))
    return f"{_code(before)} → {_code(after)}"


def _pipeline(old: Data, new: Data) -> tuple[str, list[str]]:
    summary = ""
    if old.get("version") != new.get("version"):
        summary = _version_change(old, new)
    files = _changed_files(_mapping(old, "code"), _mapping(new, "code"))
    details = _step_details(old, new, files)
    details += _data_details(_mapping(old, "data"), _mapping(new, "data"))
    if old.get("model_name") != new.get("model_name"):
        details.append(f"registers model `{new.get('model_name')}` (was `{old.get('model_name')}`)")
    if old.get("schedule") != new.get("schedule"):
        details.append(f"schedule: {_scalar(old.get('schedule'))} → {_scalar(new.get('schedule'))}")
    if new.get("deployed_version") != new.get("version") and (
        old.get("deployed_version") != new.get("deployed_version")
    ):
        details.append(
            f"deploys pinned version {_code(short_version(new.get('deployed_version')))} "
            "(rollback: nothing is retrained)"
        )
    return summary, details


def _job(old: Data, new: Data) -> tuple[str, list[str]]:
    summary = ""
    if old.get("version") != new.get("version"):
        summary = _version_change(old, new)
    details: list[str] = []
    if old.get("component") != new.get("component"):
        details.append(f"now runs `{new.get('component')}` (was `{old.get('component')}`)")
    files = sorted(_changed_files(_mapping(old, "code"), _mapping(new, "code")))
    if files:
        details.append(
            f"component `{new.get('component')}` changed: " + ", ".join(_code(f) for f in files)
        )
    details += _parameters("job", _mapping(old, "parameters"), _mapping(new, "parameters"))
    details += _data_details(_mapping(old, "data"), _mapping(new, "data"))
    if old.get("output_model") != new.get("output_model"):
        details.append(
            f"registers model {_code(new.get('output_model'))} "
            f"(was {_code(old.get('output_model'))})"
        )
    return summary, details


def _condition(condition: object) -> str:
    data: Data = typing.cast(Data, condition) if isinstance(condition, Mapping) else {}
    return f"{data.get('metric')} {data.get('op')} {_scalar(data.get('threshold'))}"


def _gate_details(old: Data | None, new: Data | None) -> list[str]:
    if old is None and new is None:
        return []
    if old is None:
        return [f"gate added: {_gate_words(typing.cast(Data, new))}"]
    if new is None:
        return ["gate removed: any registered version will be served"]
    details: list[str] = []
    before = {
        (c["metric"], c["op"]): c for c in typing.cast(list[Data], old.get("conditions") or [])
    }
    after = {
        (c["metric"], c["op"]): c for c in typing.cast(list[Data], new.get("conditions") or [])
    }
    for key, condition in after.items():
        if key not in before:
            details.append(f"gate condition `{_condition(condition)}` added")
        elif before[key] != condition:
            details.append(f"gate `{_condition(before[key])}` → `{_condition(condition)}`")
    details += [
        f"gate condition `{_condition(c)}` removed" for k, c in before.items() if k not in after
    ]
    if old.get("beat_champion") != new.get("beat_champion"):
        details.append(
            f"gate champion rule: {_scalar(old.get('beat_champion'))} → "
            f"{_scalar(new.get('beat_champion'))}"
        )
    if old.get("passed_in") != new.get("passed_in"):
        details.append(
            f"gate requires passing in {_names(new.get('passed_in'))} "
            f"(was {_names(old.get('passed_in'))})"
        )
    return details


def _gate_words(gate: Data) -> str:
    parts = [f"`{_condition(c)}`" for c in typing.cast(list[Any], gate.get("conditions") or [])]
    if gate.get("beat_champion"):
        parts.append(str(gate["beat_champion"]))
    if gate.get("passed_in"):
        parts.append(f"passed in {_names(gate['passed_in'])}")
    return ", ".join(parts)


def _shape(data: Data) -> str:
    if data.get("gpu"):
        return f"{data.get('gpu_count')} x {data.get('gpu')}"
    return str(data.get("instance_type") or "cpu")


def _endpoint(old: Data, new: Data) -> tuple[str, list[str]]:
    details: list[str] = []
    if old.get("model") != new.get("model"):
        details.append(f"serves model `{new.get('model')}` (was `{old.get('model')}`)")
    if old.get("alias") != new.get("alias"):
        details.append(f"follows alias `{new.get('alias')}` (was `{old.get('alias')}`)")
    if old.get("model_version") != new.get("model_version"):
        pinned = new.get("model_version")
        details.append(
            f"pinned to model version {pinned}" if pinned else "no longer pinned to a model version"
        )
    details += _gate_details(
        typing.cast(Data | None, old.get("gate")), typing.cast(Data | None, new.get("gate"))
    )
    if _shape(old) != _shape(new):
        details.append(f"node: {_shape(old)} → {_shape(new)}")
    replicas = (old.get("min_replicas"), old.get("max_replicas"))
    if replicas != (new.get("min_replicas"), new.get("max_replicas")):
        details.append(
            f"replicas {replicas[0]}-{replicas[1]} → "
            f"{new.get('min_replicas')}-{new.get('max_replicas')}"
        )
    if old.get("public") != new.get("public"):
        details.append("now PUBLIC" if new.get("public") else "now private")
    if old.get("canary_percent") != new.get("canary_percent"):
        details.append(
            f"canary: {_scalar(old.get('canary_percent'))}% → {_scalar(new.get('canary_percent'))}%"
        )
    return "", details


def _cluster(old: Data, new: Data) -> tuple[str, list[str]]:
    details: list[str] = []
    if _shape(old) != _shape(new):
        details.append(f"{_shape(old)} → {_shape(new)} per node")
    nodes = (old.get("min_nodes"), old.get("max_nodes"))
    if nodes != (new.get("min_nodes"), new.get("max_nodes")):
        details.append(
            f"nodes {nodes[0]}-{nodes[1]} → {new.get('min_nodes')}-{new.get('max_nodes')}"
        )
    if old.get("spot") != new.get("spot"):
        details.append("now on spot capacity" if new.get("spot") else "now on on-demand capacity")
    return "", details


_Describer = Callable[[Data, Data], tuple[str, list[str]]]
_SECTIONS: tuple[tuple[str, str, _Describer], ...] = (
    ("pipelines", "pipeline", _pipeline),
    ("jobs", "job", _job),
    ("endpoints", "endpoint", _endpoint),
    ("clusters", "cluster", _cluster),
)


def _added(kind: str, data: Data) -> str:
    if kind in ("pipeline", "job"):
        return f"added (version {_code(short_version(data.get('version')))})"
    if kind == "endpoint":
        gate = typing.cast(Data | None, data.get("gate"))
        return f"added: serves `{data.get('model')}` alias `{data.get('alias')}`, " + (
            f"gate {_gate_words(gate)}" if gate else "no gate"
        )
    return f"added ({_shape(data)}, up to {data.get('max_nodes')} nodes)"


def _facts(base: Plan, head: Plan) -> list[str]:
    old, new = base.facts, head.facts
    details: list[str] = []
    for label, before, after in (
        ("environment", old.environment, new.environment),
        ("tier", old.tier, new.tier),
        ("protect stateful resources", old.protect_stateful, new.protect_stateful),
        ("max GPUs per node", old.limits.max_gpus_per_node, new.limits.max_gpus_per_node),
        ("max total GPUs", old.limits.max_total_gpus, new.limits.max_total_gpus),
        ("max hourly cost (USD)", old.limits.max_hourly_usd, new.limits.max_hourly_usd),
        ("tracking server authentication", old.tracking_auth, new.tracking_auth),
    ):
        if before != after:
            details.append(f"{label}: {_scalar(before)} → {_scalar(after)}")
    return details


def _secrets(base: Plan, head: Plan) -> list[MlChange]:
    changes: list[MlChange] = []
    old, new = base.secret_config, head.secret_config
    for key in sorted(set(old) | set(new)):
        if key not in old:
            changes.append(MlChange("secret", key, "added (value not shown)"))
        elif key not in new:
            changes.append(MlChange("secret", key, "no longer used"))
        elif old[key] != new[key]:
            changes.append(MlChange("secret", key, "changed (value not shown)"))
    return changes


def ml_changes(base: Plan, head: Plan) -> list[MlChange]:
    """Returns the ML changes from ``base`` to ``head``, in a stable order."""
    changes: list[MlChange] = []
    facts = _facts(base, head)
    if facts:
        changes.append(MlChange("stack", head.stack, details=tuple(facts)))
    for section, kind, describe in _SECTIONS:
        old, new = _mapping(base.ml, section), _mapping(head.ml, section)
        for name in sorted(set(old) | set(new)):
            if name not in old:
                changes.append(MlChange(kind, name, _added(kind, _mapping(new, name))))
            elif name not in new:
                changes.append(MlChange(kind, name, "removed"))
            else:
                summary, details = describe(_mapping(old, name), _mapping(new, name))
                if summary or details:
                    changes.append(MlChange(kind, name, summary, tuple(details)))
    return changes + _secrets(base, head)
