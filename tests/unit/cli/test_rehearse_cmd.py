"""The rehearse command ignores SIGPIPE while it serves emulators from this process."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

import pytest

import mlops_infra.rehearse
from mlops_infra.cli import rehearse_cmd


@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="no SIGPIPE on this platform")
def test_a_closed_client_connection_cannot_kill_a_rehearsal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Any] = []

    def interrupted(*_: Any, **__: Any) -> Any:
        seen.append(signal.getsignal(signal.SIGPIPE))
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # what `mlops-infra` sets
    try:
        monkeypatch.setattr(mlops_infra.rehearse, "rehearse", interrupted)
        arguments = argparse.Namespace(stack="dev", project_dir=str(Path.cwd()), keep=False)
        assert rehearse_cmd._run(arguments) == 130  # pyright: ignore[reportPrivateUsage]
    finally:
        signal.signal(signal.SIGPIPE, previous)
    assert seen == [signal.SIG_IGN]
