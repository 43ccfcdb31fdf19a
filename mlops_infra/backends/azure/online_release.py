"""``<endpoint>-deployment``: the gated model version on a managed online endpoint.

A dynamic resource that acts at ``pulumi up`` through the Azure ML REST API, because the
version to serve is known only then (the gate decides it) and may be none yet:

* **Nothing passed the gate** (``version`` is ``None``): it does nothing and reports
  ``deployed_version: None``; the endpoint shell exists, pending.
* **A version to serve**: blue/green by version. The deployment ``v<version>`` is created
  (``PUT .../onlineEndpoints/{ep}/deployments/v<version>``) and polled until its
  provisioning state is ``Succeeded``; only then does traffic move to it (a ``PUT`` of the
  endpoint with its traffic, the way ``az ml online-endpoint update --traffic`` does it),
  and the endpoint is read back: ``deployed_version`` is the version Azure confirms takes
  the traffic. Deployments left without traffic are deleted (nothing idles at 0 %).
* **Failed deployment**: traffic stays where it was, ``up`` fails with Azure's reason, and
  nothing depending on this resource (the registry alias) moves.
* **canary_percent**: a new version first takes that share, the previous one the rest
  (``deployed_version`` stays the previous one); the next ``up`` gives it all traffic.
* Autoscale (``max_replicas`` above ``min_replicas``): an Azure Monitor autoscale setting on
  CPU for the serving deployment, replaced with it.

https://learn.microsoft.com/en-us/rest/api/azureml/online-deployments/create-or-update
https://learn.microsoft.com/en-us/rest/api/azureml/online-endpoints/create-or-update
https://learn.microsoft.com/en-us/azure/machine-learning/how-to-safely-rollout-online-endpoints
https://learn.microsoft.com/en-us/rest/api/monitor/autoscale-settings/create-or-update
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = [
    "AUTOSCALE_API_VERSION",
    "AzureMlOnlineRelease",
    "deployment_name",
    "serving_version",
]

AUTOSCALE_API_VERSION = "2022-10-01"
"""API version of Microsoft.Insights/autoscalesettings."""

_INPUTS = (
    "endpoint_path", "version", "model_id", "deployment", "canary_percent", "autoscale",
)  # fmt: skip
_OUTPUTS = ("deployed_version", "traffic")


def deployment_name(version: str) -> str:
    """The deployment serving model version ``version`` (``v3``; letters, digits, ``-``)."""
    return "v" + "".join(c if c.isalnum() else "-" for c in version)[:31]


def serving_version(traffic: Mapping[str, int], names: Mapping[str, str]) -> str | None:
    """The version taking most of the traffic (all of it outside a canary), else ``None``.

    ``names`` maps deployments to the versions they serve; a tie names none.
    """
    shares = sorted(((share, name) for name, share in traffic.items() if share > 0), reverse=True)
    if not shares or (len(shares) > 1 and shares[0][0] == shares[1][0]):
        return None
    return names.get(shares[0][1])


def _props(body: Mapping[str, Any] | None) -> dict[str, Any]:
    return cast(dict[str, Any], (body or {}).get("properties") or {})


class _ReleaseProvider(EngineBoundProvider):
    """Deploys, confirms and moves traffic (see the module docstring)."""

    clock: Callable[[], float] = time.monotonic

    def _client(self, props: Mapping[str, Any]) -> Any:
        from mlops_infra.backends.azure._api import ArmClient  # noqa: PLC0415

        return ArmClient(str(props["arm_endpoint"]))

    def _release(self, props: dict[str, Any], olds: Mapping[str, Any] | None) -> dict[str, Any]:
        from mlops_infra.backends.azure._api import ML_API_VERSION, progress  # noqa: PLC0415

        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        names: dict[str, str] = dict(cast(Mapping[str, str], (olds or {}).get("names") or {}))
        version = props.get("version")
        if not version:
            progress("no model version has passed the gate yet: nothing is deployed")
            return {
                **outs,
                "deployed_version": (olds or {}).get("deployed_version"),
                "traffic": (olds or {}).get("traffic") or {},
                "names": names,
            }
        client = self._client(props)
        endpoint_path = str(props["endpoint_path"])
        endpoint = client.get(endpoint_path, ML_API_VERSION)
        if endpoint is None:
            msg = f"online endpoint {endpoint_path} does not exist (refresh, then up)"
            raise RuntimeError(msg)
        traffic = {k: int(v) for k, v in dict(_props(endpoint).get("traffic") or {}).items()}
        target = deployment_name(str(version))
        names[target] = str(version)
        path = f"{endpoint_path}/deployments/{target}"
        current = client.get(path, ML_API_VERSION)
        state = str(_props(current).get("provisioningState") or "")
        if state != "Succeeded" or _props(current).get("model") != props["model_id"]:
            progress(f"deploying model version {version} as {target}")
            body: dict[str, Any] = dict(props["deployment"])
            body["properties"] = {**dict(body["properties"]), "model": props["model_id"]}
            client.put(path, ML_API_VERSION, body)
            state = self._provisioned(client, path, float(props["timeout_s"]), target)
        if state != "Succeeded":
            served = serving_version(traffic, names)
            msg = (
                f"deployment {target} of model version {version} ended {state}; traffic "
                f"stays on {served or 'nothing'} and the alias does not move (see the "
                f"deployment's logs in Azure ML studio)"
            )
            raise RuntimeError(msg)
        canary = props.get("canary_percent")
        others = [name for name, share in traffic.items() if share > 0 and name != target]
        if canary and others and traffic.get(target, 0) == 0:
            previous = max(others, key=lambda name: traffic[name])
            wanted = {previous: 100 - int(canary), target: int(canary)}
        else:
            wanted = {target: 100}
        if wanted != {k: v for k, v in traffic.items() if v}:
            progress(f"traffic: {wanted}")
            _put_traffic(client, endpoint_path, endpoint, wanted)
        confirmed = client.get(endpoint_path, ML_API_VERSION)
        traffic = {k: int(v) for k, v in dict(_props(confirmed).get("traffic") or {}).items()}
        autoscale = cast(Mapping[str, Any] | None, props.get("autoscale"))
        for name in [n for n in names if not traffic.get(n)]:
            progress(f"deleting deployment {name} (no traffic)")
            _delete_autoscale(client, endpoint_path, name)
            client.delete(f"{endpoint_path}/deployments/{name}", ML_API_VERSION)
            del names[name]
        if autoscale:
            _put_autoscale(client, endpoint_path, target, dict(autoscale))
        deployed = serving_version(traffic, names)
        progress(f"serving model version {deployed} (traffic {traffic})")
        return {**outs, "deployed_version": deployed, "traffic": traffic, "names": names}

    def _provisioned(self, client: Any, path: str, timeout_s: float, name: str) -> str:
        from mlops_infra.backends.azure._api import ML_API_VERSION, progress  # noqa: PLC0415

        deadline = self.clock() + timeout_s
        while True:
            state = str(_props(client.get(path, ML_API_VERSION)).get("provisioningState"))
            if state in ("Succeeded", "Failed", "Canceled"):
                return state
            if self.clock() >= deadline:
                return f"still {state} after {timeout_s:g} s"
            progress(f"{name}: {state}")
            client.sleep(15.0)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props["endpoint_path"]), outs=self._release(props, None))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _INPUTS if olds.get(key) != news.get(key)]
        # A canary in progress is completed by the next up.
        canary = bool(news.get("version")) and olds.get("deployed_version") != news.get("version")
        return DiffResult(changes=bool(changed or canary), replaces=[])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._release(news, olds))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from mlops_infra.backends.azure._api import ML_API_VERSION  # noqa: PLC0415

        endpoint = self._client(props).get(str(props["endpoint_path"]), ML_API_VERSION)
        traffic = {k: int(v) for k, v in dict(_props(endpoint).get("traffic") or {}).items()}
        names = cast(Mapping[str, str], props.get("names") or {})
        return ReadResult(
            id_,
            {**props, "traffic": traffic, "deployed_version": serving_version(traffic, names)},
        )

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from mlops_infra.backends.azure._api import ML_API_VERSION  # noqa: PLC0415

        client = self._client(props)
        endpoint_path = str(props["endpoint_path"])
        endpoint = client.get(endpoint_path, ML_API_VERSION)
        if endpoint is None:
            return
        _put_traffic(client, endpoint_path, endpoint, {})
        for name in cast(Mapping[str, str], props.get("names") or {}):
            _delete_autoscale(client, endpoint_path, name)
            client.delete(f"{endpoint_path}/deployments/{name}", ML_API_VERSION)


def _put_traffic(
    client: Any, endpoint_path: str, endpoint: Mapping[str, Any], traffic: Mapping[str, int]
) -> None:
    """PUTs the endpoint back with ``traffic`` (its writable fields unchanged)."""
    from mlops_infra.backends.azure._api import ML_API_VERSION  # noqa: PLC0415

    props = _props(endpoint)
    identity = cast(dict[str, Any], endpoint.get("identity") or {})
    body: dict[str, Any] = {
        "location": endpoint.get("location"),
        "kind": endpoint.get("kind", "Managed"),
        "tags": endpoint.get("tags") or {},
        "properties": {
            key: props[key]
            for key in ("authMode", "publicNetworkAccess", "description")
            if key in props
        }
        | {"traffic": dict(traffic)},
    }
    if identity.get("type"):
        body["identity"] = {"type": identity["type"]}
    client.put(endpoint_path, ML_API_VERSION, body)


def _group_of(endpoint_path: str) -> str:
    """``/subscriptions/<s>/resourceGroups/<g>`` of an ARM path."""
    return "/".join(endpoint_path.split("/")[:5])


def _autoscale_path(endpoint_path: str, deployment: str) -> str:
    endpoint = endpoint_path.rsplit("/", 1)[-1]
    return (
        f"{_group_of(endpoint_path)}/providers/Microsoft.Insights/autoscalesettings/"
        f"{endpoint}-{deployment}"
    )


def _put_autoscale(
    client: Any, endpoint_path: str, deployment: str, autoscale: Mapping[str, Any]
) -> None:
    """CPU-based autoscale of ``deployment`` between ``minimum`` and ``maximum`` instances."""
    target = f"{endpoint_path}/deployments/{deployment}"
    threshold = float(autoscale["cpu_percent"])

    def rule(direction: str, operator: str, limit: float) -> dict[str, Any]:
        return {
            "metricTrigger": {
                "metricName": "CpuUtilizationPercentage",
                "metricResourceUri": target,
                "operator": operator,
                "statistic": "Average",
                "threshold": limit,
                "timeAggregation": "Average",
                "timeGrain": "PT1M",
                "timeWindow": "PT5M",
            },
            "scaleAction": {
                "cooldown": "PT5M",
                "direction": direction,
                "type": "ChangeCount",
                "value": "1",
            },
        }

    minimum, maximum = str(autoscale["minimum"]), str(autoscale["maximum"])
    client.put(
        _autoscale_path(endpoint_path, deployment),
        AUTOSCALE_API_VERSION,
        {
            "location": autoscale["location"],
            "tags": autoscale.get("tags") or {},
            "properties": {
                "enabled": True,
                "targetResourceUri": target,
                "profiles": [
                    {
                        "name": "cpu",
                        "capacity": {"minimum": minimum, "maximum": maximum, "default": minimum},
                        "rules": [
                            rule("Increase", "GreaterThan", threshold),
                            rule("Decrease", "LessThan", threshold / 2),
                        ],
                    }
                ],
            },
        },
    )


def _delete_autoscale(client: Any, endpoint_path: str, deployment: str) -> None:
    client.delete(_autoscale_path(endpoint_path, deployment), AUTOSCALE_API_VERSION)


class AzureMlOnlineRelease(Resource, module="mlops", name="AzureMlOnlineRelease"):
    """The served model version of one managed online endpoint (see the module docstring)."""

    deployed_version: pulumi.Output[str | None]
    """The model version Azure confirms takes the traffic; ``None`` while pending.

    While a canary has its share, the previous version.
    """

    traffic: pulumi.Output[dict[str, int]]
    """Share of traffic per deployment, as Azure reports it."""

    def __init__(
        self,
        name: str,
        *,
        endpoint_path: pulumi.Input[str],
        version: pulumi.Input[str | None],
        model_id: pulumi.Input[str | None],
        deployment: pulumi.Input[Mapping[str, Any]],
        canary_percent: int | None,
        autoscale: pulumi.Input[Mapping[str, Any]] | None,
        timeout_s: int = 3600,
        arm_endpoint: str = "https://management.azure.com",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the release ``name`` (``deployment``: the deployment body but the model)."""
        props: dict[str, Any] = {
            "endpoint_path": endpoint_path,
            "version": version,
            "model_id": model_id,
            "deployment": deployment,
            "canary_percent": canary_percent,
            "autoscale": autoscale,
            "timeout_s": timeout_s,
            "arm_endpoint": arm_endpoint,
            "names": None,
            **dict.fromkeys(_OUTPUTS),
        }
        super().__init__(_ReleaseProvider(), name, props, opts)
