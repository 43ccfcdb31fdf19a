"""Managed background processes: own session and process group, pid file, log file, health.

A process outlives the ``pulumi up`` that started it (its own session), is identified by
a pid file that also records its start time (so a reused pid is never mistaken for it),
and is stopped by signalling its whole process group.

The pid file is written just after the process starts. A provider killed in between
(its engine was SIGKILLed: see ``dynamic_provider``) would leave a process that no pid
file names, holding its port for ever. So every managed process also carries its pid
file's path in its environment (``MLOPS_PID_FILE``), and stopping finds it by that too.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_infra.errors import BackendError

__all__ = [
    "OWNER_VARIABLE",
    "ProcessRecord",
    "child_environment",
    "find_free_port",
    "http_ok",
    "is_alive",
    "port_is_free",
    "read_record",
    "start_process",
    "stop_process",
    "tail",
    "wait_for_http",
]


# Processes started by this process: kept so they are reaped (no zombies) and never
# garbage-collected while still running (which Python reports as a leak).
_children: dict[int, subprocess.Popen[bytes]] = {}

OWNER_VARIABLE = "MLOPS_PID_FILE"
"""The environment variable that names a managed process's pid file (absolute path)."""


@dataclass(frozen=True)
class ProcessRecord:
    """What a pid file holds.

    Attributes:
        pid: Process id (also its process group id: it leads its own session).
        start_ticks: Its start time in clock ticks since boot (``/proc/<pid>/stat``),
            to tell it from a later process that reuses the pid.
        command: The command line, for humans.
    """

    pid: int
    start_ticks: int | None
    command: tuple[str, ...]


def child_environment(python: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Returns the environment of a managed process.

    It is ours without Pulumi's and MLflow's variables, with the interpreter's folder
    first on ``PATH`` (MLflow starts ``uvicorn`` from there).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "MLFLOW_"))}
    env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # Field 22 (starttime) follows the parenthesised command name, which may hold spaces.
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[19]) if len(fields) > 19 else None


def read_record(pid_file: Path) -> ProcessRecord | None:
    """Returns the record in ``pid_file``, or ``None`` if there is none (or it is unreadable)."""
    try:
        data = json.loads(pid_file.read_text(encoding="utf-8"))
        return ProcessRecord(
            pid=int(data["pid"]),
            start_ticks=data.get("start_ticks"),
            command=tuple(data.get("command", ())),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_alive(record: ProcessRecord | None) -> bool:
    """Whether the recorded process still runs (and is the same process, not a reused pid)."""
    if record is None or _reap(record.pid):
        return False
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    if record.start_ticks is not None and _start_ticks(record.pid) != record.start_ticks:
        return False
    # A zombie (exited, not yet reaped) is not running.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{record.pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[-1]
        if state.split()[0] == "Z":
            return False
    return True


def start_process(
    command: Sequence[str],
    *,
    pid_file: Path,
    log_file: Path,
    env: Mapping[str, str],
    cwd: Path,
) -> ProcessRecord:
    """Starts ``command`` in its own session, appending output to ``log_file``.

    Raises:
        BackendError: a process started for ``pid_file`` still runs (recorded in it, or
            carrying its path in ``MLOPS_PID_FILE``).
    """
    running = _groups_of(pid_file)
    if running:
        pids = ", ".join(str(pid) for pid in sorted(running))
        msg = f"a process is already running for {pid_file} (process group {pids})"
        raise BackendError(msg)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(
            f"\n==> {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(command)}\n".encode()
        )
        log.flush()
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**env, OWNER_VARIABLE: _owner(pid_file)},
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    _children[process.pid] = process
    record = ProcessRecord(
        pid=process.pid, start_ticks=_start_ticks(process.pid), command=tuple(command)
    )
    temporary = pid_file.with_suffix(".tmp")
    temporary.write_text(
        json.dumps(
            {"pid": record.pid, "start_ticks": record.start_ticks, "command": list(command)}
        ),
        encoding="utf-8",
    )
    temporary.replace(pid_file)
    return record


def stop_process(pid_file: Path, *, timeout_s: float = 20.0) -> bool:
    """Stops the process groups started for ``pid_file`` (TERM, then KILL); idempotent.

    That is the group recorded in the file and any group whose processes carry the file's
    path in ``MLOPS_PID_FILE`` (a start cut short before the file was written). Waits until
    every process of those groups is gone (workers too, so their ports are free again).
    Returns whether a live process was stopped. The pid file is removed either way.
    """
    groups = _groups_of(pid_file)
    for pgid in groups:
        _signal_group(pgid, signal.SIGTERM)
    for pgid in groups:
        if not _wait_group_gone(pgid, timeout_s):
            _signal_group(pgid, signal.SIGKILL)
            _wait_group_gone(pgid, 5.0)
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    return bool(groups)


def _owner(pid_file: Path) -> str:
    return str(pid_file.absolute())


def _groups_of(pid_file: Path) -> set[int]:
    """The process groups started for ``pid_file``: the recorded one and the tagged ones."""
    groups: set[int] = set()
    record = read_record(pid_file)
    # The leader may be gone while its workers still run (and hold its port): Linux does
    # not reuse a pid as long as a process group with that id exists, so look at the group.
    if record is not None and (is_alive(record) or _group_exists(record.pid)):
        groups.add(record.pid)
    return groups | _tagged_groups(_owner(pid_file))


def _tagged_groups(owner: str) -> set[int]:
    """Process groups of our processes whose environment names ``owner`` (Linux: /proc)."""
    tag = f"{OWNER_VARIABLE}={owner}".encode()
    groups: set[int] = set()
    try:
        entries = [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return groups
    for entry in entries:
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            # Another user's environment is unreadable (PermissionError): not ours anyway.
            if tag in (entry / "environ").read_bytes().split(b"\0"):
                groups.add(os.getpgid(pid))
        except OSError:
            continue
    groups.discard(os.getpgrp())  # never our own: a caller started inside a managed group
    return groups


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _wait_group_gone(pgid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pgid)
        if not _group_exists(pgid):
            return True
        time.sleep(0.05)
    return False


def _reap(pid: int) -> bool:
    """Whether ``pid`` is a child of ours that exited; collects it (a zombie keeps its group)."""
    child = _children.get(pid)
    if child is None or child.poll() is None:
        return False
    _children.pop(pid, None)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def find_free_port(host: str) -> int:
    """Returns a port that is free on ``host`` now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_for_http(
    url: str,
    *,
    timeout_s: float,
    record: ProcessRecord,
    log_file: Path,
    progress: Callable[[str], None] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Waits until ``url`` answers 200, the process dies, or the timeout passes.

    Raises:
        BackendError: the process exited or did not become healthy; the message ends
            with the last lines of its log.
    """
    deadline = time.monotonic() + timeout_s
    next_note = time.monotonic() + 10
    while True:
        if not is_alive(record):
            msg = (
                f"process {record.pid} exited before {url} answered; "
                f"log {log_file}:\n{tail(log_file)}"
            )
            raise BackendError(msg)
        if http_ok(url, headers):
            return
        now = time.monotonic()
        if now > deadline:
            msg = f"{url} did not answer within {timeout_s:.0f}s; log {log_file}:\n{tail(log_file)}"
            raise BackendError(msg)
        if progress and now > next_note:
            progress(f"waiting for {url} ({timeout_s - (deadline - now):.0f}s)")
            next_note = now + 10
        time.sleep(0.25)


def http_ok(url: str, headers: Mapping[str, str] | None = None) -> bool:
    """Whether ``url`` answers 200 within two seconds."""
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - loopback http
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def tail(path: Path, lines: int = 30) -> str:
    """Returns the last ``lines`` lines of a log file ('' if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
