"""A cloud is one plugin: nothing outside ``mlops_infra/backends/<cloud>/`` knows that cloud.

Every file under ``mlops_infra/`` is read as text (docstrings included, so a dotted path
built from a string is caught as well as an import): outside its own package, no file
names a cloud SDK (``pulumi_aws``, ``pulumi_gcp``, ``pulumi_azure_native``), a resource
or invoke type token of those providers (``aws:s3/bucket:Bucket``), or a built-in cloud
package (``mlops_infra.backends.aws``). Everything cloud-specific is reached through the
cloud's descriptor (:class:`mlops_infra.registry.CloudInfo`). ruff's banned-api rule
(``TID251`` in pyproject.toml) enforces the SDK part at lint time too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "mlops_infra"
CLOUDS = ("aws", "gcp", "azure", "local")

# What names each cloud: its SDK, its provider's type tokens, its package.
_MARKS: dict[str, re.Pattern[str]] = {
    "aws": re.compile(r"pulumi_aws|\baws:[a-z][A-Za-z0-9]*(/[A-Za-z0-9]+)?:[A-Za-z]"),
    "gcp": re.compile(r"pulumi_gcp|\bgcp:[a-z][A-Za-z0-9]*(/[A-Za-z0-9]+)?:[A-Za-z]"),
    "azure": re.compile(r"pulumi_azure_native|\bazure-native:[a-z][A-Za-z0-9]*:[A-Za-z]"),
}
_PACKAGES = {
    cloud: re.compile(rf"mlops_infra[./]backends[./]{cloud}\b|backends\.{cloud}\.")
    for cloud in CLOUDS
}


def _owner(path: Path) -> str | None:
    """The cloud whose package holds ``path`` (``None``: core)."""
    parts = path.relative_to(PACKAGE).parts
    if len(parts) > 1 and parts[0] == "backends" and parts[1] in CLOUDS:
        return parts[1]
    return None


def _files() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix in {".py", ".md", ".json", ".yaml", ".txt", ".typed"}
    )


def _violations(path: Path) -> list[str]:
    owner = _owner(path)
    text = path.read_text(encoding="utf-8")
    found: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for cloud, pattern in (*_MARKS.items(), *_PACKAGES.items()):
            if cloud != owner and (match := pattern.search(line)):
                found.append(f"{path.relative_to(REPO)}:{number}: {match.group(0)!r} ({cloud})")
    return found


def test_only_a_clouds_own_package_names_it() -> None:
    found = [line for path in _files() for line in _violations(path)]
    assert found == []


@pytest.mark.parametrize(
    ("relative", "text", "expected"),
    [
        ("plan/x.py", "import pulumi_aws", ["pulumi_aws"]),
        ("plan/x.py", 'T = "aws:s3/bucket:Bucket"', ["aws:s3/b"]),
        ("plan/x.py", 'I = "aws:index/getRegion:getRegion"', ["aws:index/g"]),
        ("policies/x.py", 'T = "gcp:storage/bucket:Bucket"', ["gcp:storage/b"]),
        ("testing/x.py", 'T = "azure-native:storage:StorageAccount"', ["azure-native:storage:S"]),
        ("resources/x.py", "from mlops_infra.backends.local import runner", ["backends.local"]),
        ("policies/x.py", 'importlib.import_module(f"mlops_infra.backends.{c}.gpus")', []),
        ("policies/x.py", 'm = "mlops_infra.backends.gcp.gpus"', ["backends.gcp"]),
        ("backends/aws/x.py", 'T = "aws:s3/bucket:Bucket"', []),
        ("backends/aws/x.py", "import pulumi_gcp", ["pulumi_gcp"]),
        ("plan/x.py", 'ALG = "aws:kms"  # an S3 SSE algorithm, not a type token', []),
        ("plan/x.py", "cloud: aws", []),
    ],
)
def test_the_check_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: str, text: str, expected: list[str]
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(text + "\n", encoding="utf-8")
    found = _violations(path)
    assert len(found) == len(expected)
    for line, mark in zip(found, expected, strict=True):
        assert mark in line


_PROBE = """
import json, sys, time
start = time.perf_counter()
import mlops_infra
imported = time.perf_counter() - start
from mlops_infra.registry import default_registry
registry = default_registry()
start = time.perf_counter()
clouds = registry.clouds()
flavors = registry.flavors()
registered = time.perf_counter() - start
sdks = sorted(
    m for m in sys.modules if m.split(".")[0] in {"pulumi_aws", "pulumi_gcp", "pulumi_azure_native"}
)
clouds_modules = sorted(
    m for m in sys.modules
    if m.startswith("mlops_infra.backends.") and not m.endswith(
        (".plugin", ".options", ".gpus")
    ) and m.count(".") > 2
)
print(json.dumps({"clouds": clouds, "sdks": sdks, "modules": clouds_modules,
                  "flavors": len(flavors), "registered_s": registered}))
"""


def test_registration_is_cheap_and_loads_no_sdk() -> None:
    """Declaring every cloud imports only its plugin, options and GPU table: no SDK, no rules."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"aws", "gcp", "azure", "local"} <= set(report["clouds"])
    assert report["sdks"] == []
    assert report["modules"] == []  # policies, plan rules and backends load on first use
    assert report["registered_s"] < 2.0
