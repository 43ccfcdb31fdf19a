"""The GPU catalog, environment profiles and cron rules: pure, table-driven."""

from __future__ import annotations

import pytest

from mlops_infra.backends.aws.gpus import AWS_GPUS
from mlops_infra.backends.azure.gpus import AZURE_GPUS
from mlops_infra.backends.gcp.gpus import GCP_GPUS
from mlops_infra.catalog import GPU_MODELS, GpuNotOfferedError, GpuOffers
from mlops_infra.specs import profile_for
from mlops_infra.specs.schedule import check_cron


@pytest.mark.parametrize(
    ("offers", "gpu", "count", "purpose", "instance", "accelerator"),
    [
        (AWS_GPUS, "l4", 1, "training", "ml.g6.xlarge", None),
        (AWS_GPUS, "a10g", 4, "training", "ml.g5.12xlarge", None),
        (AWS_GPUS, "a100-40gb", 8, "training", "ml.p4d.24xlarge", None),
        (AWS_GPUS, "a100-80gb", 8, "serving", "ml.p4de.24xlarge", None),
        (AWS_GPUS, "h100", 8, "training", "ml.p5.48xlarge", None),
        (GCP_GPUS, "l4", 2, "training", "g2-standard-24", "NVIDIA_L4"),
        (GCP_GPUS, "a100-80gb", 1, "training", "a2-ultragpu-1g", "NVIDIA_A100_80GB"),
        (GCP_GPUS, "l4", 1, "serving", "cloud-run", "nvidia-l4"),
        (AZURE_GPUS, "t4", 1, "training", "Standard_NC4as_T4_v3", None),
        (AZURE_GPUS, "a100-80gb", 4, "serving", "Standard_NC96ads_A100_v4", None),
    ],
)
def test_portable_shapes_resolve_to_cloud_instances(
    offers: GpuOffers, gpu: str, count: int, purpose: str, instance: str, accelerator: str | None
) -> None:
    offer = offers.resolve(gpu, count, purpose)  # type: ignore[arg-type]
    assert offer is not None
    assert (offer.instance_type, offer.accelerator) == (instance, accelerator)


@pytest.mark.parametrize(
    ("offers", "gpu", "count", "purpose", "field", "message"),
    [
        (
            AWS_GPUS,
            "a10",
            1,
            "training",
            "gpu",
            "'a10' is not a known GPU; known: a100-40gb, a100-80gb, a10g, h100, h200, l4, l40s, t4, v100",
        ),
        (
            AWS_GPUS,
            "l4",
            2,
            "training",
            "gpu_count",
            "no aws training instance has 2 x 'l4'; offered counts: 1, 4, 8",
        ),
        (AWS_GPUS, "h100", 1, "training", "gpu_count", "offered counts: 8"),
        (
            GCP_GPUS,
            "a10g",
            1,
            "training",
            "gpu",
            "'a10g' is not offered on gcp for training; offered: a100-40gb (1, 2, 4, 8, 16)",
        ),
        (
            GCP_GPUS,
            "t4",
            1,
            "serving",
            "gpu",
            "'t4' is not offered on gcp for serving; offered: l4 (1)",
        ),
        (AZURE_GPUS, "l4", 1, "training", "gpu", "'l4' is not offered on azure for training"),
        (AZURE_GPUS, "v100", 0, "training", "gpu_count", "a GPU count must be at least 1; got 0"),
    ],
)
def test_unsupported_shapes_list_what_is_offered(
    offers: GpuOffers, gpu: str, count: int, purpose: str, field: str, message: str
) -> None:
    with pytest.raises(GpuNotOfferedError) as raised:
        offers.resolve(gpu, count, purpose)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert message in str(raised.value)


def test_every_cloud_table_only_names_known_gpus() -> None:
    for offers in (AWS_GPUS, GCP_GPUS, AZURE_GPUS):
        for purpose in ("training", "serving"):
            assert {o.gpu for o in offers.offers(purpose)} <= set(GPU_MODELS)  # type: ignore[arg-type]


def test_table_with_unknown_gpu_is_rejected() -> None:
    from mlops_infra.catalog import GpuOffer

    with pytest.raises(ValueError, match="offers unknown GPU 'b200'"):
        GpuOffers(cloud="x", training=(GpuOffer("b200", 8, "x.big"),))


def test_any_shape_cloud_accepts_known_gpus_only() -> None:
    local = GpuOffers(cloud="local", any_shape=True)
    assert local.resolve("t4", 3) is None
    with pytest.raises(GpuNotOfferedError):
        local.resolve("b200", 1)


@pytest.mark.parametrize(
    ("environment", "tier", "protect", "auth", "replicas", "gate"),
    [
        ("local", "local", False, False, 1, False),
        ("dev", "development", False, True, 1, False),
        ("perf", "development", False, True, 1, False),
        ("staging", "staging", False, True, 1, True),
        ("qa", "staging", False, True, 1, True),
        ("prod", "production", True, True, 2, True),
        ("production", "production", True, True, 2, True),
    ],
)
def test_environment_profiles(
    environment: str, tier: str, protect: bool, auth: bool, replicas: int, gate: bool
) -> None:
    profile = profile_for(environment)
    assert (profile.tier, profile.protect_stateful, profile.tracking_auth) == (tier, protect, auth)
    assert (profile.min_replicas, profile.require_gate) == (replicas, gate)


def test_tier_override() -> None:
    assert profile_for("eu-live", "production").protect_stateful


@pytest.mark.parametrize(
    "expression",
    [
        "0 3 * * 1",
        "*/15 * * * *",
        "0 0 1 jan *",
        "30 2 * * mon-fri",
        "0 0 * * 7",
        "0,30 8-18/2 * * *",
    ],
)
def test_valid_cron(expression: str) -> None:
    assert check_cron(expression) == " ".join(expression.split())


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "minute 61 is out of range; allowed: 0-59"),
        ("0 24 * * *", "hour 24 is out of range; allowed: 0-23"),
        ("0 0 0 * *", "day-of-month 0 is out of range; allowed: 1-31"),
        ("0 0 * 13 *", "month 13 is out of range; allowed: 1-12"),
        ("0 0 * * funday", "day-of-week 'funday' is not a number or a name"),
        ("*/0 * * * *", "step in '*/0' must be at least 1"),
        ("0 5-2 * * *", "range '5-2' runs backwards"),
        ("@daily", "has 1 fields; a cron expression has 5"),
    ],
)
def test_invalid_cron(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        check_cron(expression)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 3 * * 1", "2026-11-26T15:30", "2026-11-30T03:00"),
        ("*/15 * * * *", "2026-11-26T15:30", "2026-11-26T15:45"),
        ("*/15 * * * *", "2026-11-26T15:44", "2026-11-26T15:45"),
        ("0 0 1 jan *", "2026-11-26T15:30", "2027-01-01T00:00"),
        ("30 2 * * mon-fri", "2026-11-27T02:30", "2026-11-30T02:30"),
        ("0 0 29 2 *", "2026-11-26T00:00", "2028-02-29T00:00"),
        ("0 12 13 * 5", "2026-11-26T00:00", "2026-11-27T12:00"),  # day-of-month OR day-of-week
        ("5/20 8-9 * * *", "2026-11-26T08:50", "2026-11-26T09:05"),
        ("0 0 * * 7", "2026-11-26T00:00", "2026-11-29T00:00"),  # 7 is Sunday too
    ],
)
def test_next_fire(expression: str, after: str, expected: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from mlops_infra.specs.schedule import next_fire

    zone = ZoneInfo("Europe/Paris")
    fired = next_fire(expression, datetime.fromisoformat(after).replace(tzinfo=zone))
    assert fired == datetime.fromisoformat(expected).replace(tzinfo=zone)
