"""Normalization: machine paths, numbers, assets and secrets; mocks for offline plans."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pulumi

from mlops_infra.plan.mocks import GATE_PENDING, PlanMocks
from mlops_infra.plan.normalize import Normalizer


def test_paths_numbers_and_internal_inputs(tmp_path: Path) -> None:
    normalizer = Normalizer(project_dir=tmp_path, python="/opt/venv/bin/python")
    site = sysconfig.get_paths()["purelib"]
    value = {
        "path": f"{tmp_path}/data/x.csv",
        "python": "/opt/venv/bin/python",
        "data": f"{site}/sklearn/data.csv",
        "env": f"{sys.prefix}/bin/tool",
        "count": 3.0,
        "ratio": 0.5,
        "flag": True,
        "__provider": "pickled",
        "items": [1.0, None],
    }
    assert normalizer.value(value) == {
        "path": "<project>/data/x.csv",
        "python": "<python>",
        "data": "<site-packages>/sklearn/data.csv",
        "env": "<environment>/bin/tool",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "items": [1, None],
    }


def test_known_secret_values_are_masked_wherever_they_appear(tmp_path: Path) -> None:
    normalizer = Normalizer(project_dir=tmp_path, secret_values=("s3cr3t-value",))
    assert normalizer.value({"url": "https://u:s3cr3t-value@host"}) == {"url": "[secret]"}


def test_assets_are_hashed_not_copied(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("print(1)\n", encoding="utf-8")
    normalizer = Normalizer(project_dir=tmp_path)
    file_asset = normalizer.value(pulumi.FileAsset(str(tmp_path / "pkg" / "a.py")))
    assert file_asset["asset"] == "file"
    assert file_asset["path"] == "<project>/pkg/a.py"
    assert len(file_asset["sha256"]) == 64
    assert normalizer.value(pulumi.StringAsset("secret text"))["asset"] == "string"
    assert "secret text" not in str(normalizer.value(pulumi.StringAsset("secret text")))
    archive = normalizer.value(pulumi.AssetArchive({"b": pulumi.RemoteAsset("https://x/y")}))
    assert archive == {"archive": {"b": {"asset": "remote", "uri": "https://x/y"}}}
    folder = normalizer.value(pulumi.FileArchive("pkg"))
    assert folder["asset"] == "folder"
    assert folder["sha256"]


def test_mock_invokes_and_gate() -> None:
    mocks = PlanMocks(region="eu-west-1")  # every registered cloud answers its invokes
    zones = mocks._calls["aws:index/getAvailabilityZones:getAvailabilityZones"]
    assert zones["names"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert (
        mocks._calls["aws:index/getCallerIdentity:getCallerIdentity"]["accountId"] == "123456789012"
    )
    assert GATE_PENDING == "gate-pending"
