"""A stand-in for Pulumi's `pulumi-language-python` host, for machines without it.

Why this exists: the real host is the Go module
`github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`, which has no tags and which
the module proxy reachable here refuses (403 "This module version is not available" for its
version list, `@latest`, and the pseudo-version of a release commit). The Pulumi CLI itself builds
from the proxy, and it needs a language host to run a `Pulumi.yaml` Python program.

This host speaks the engine's `LanguageRuntime` gRPC protocol (stubs from the `pulumi` Python
SDK) and does what the real host does for `preview`/`up`/`refresh`/`destroy`: it runs Pulumi's own
`pulumi-language-python-exec` script (copied next to it from the `sdk/v3` module by
`scripts/install-pulumi`) with the engine's arguments, configuration in `PULUMI_CONFIG` and
`PULUMI_CONFIG_SECRET_KEYS`, and the Python of the project's `virtualenv` runtime option (relative
to `Pulumi.yaml`), else `PULUMI_PYTHON_CMD`, else `python3`.

Not supported (answered with an explicit error or UNIMPLEMENTED): the `poetry`/`uv` toolchains,
the `typechecker` option, dependency installation, code generation, packing and plugins written in
Python. Delete this once a built `pulumi-language-python` can be installed instead:
`scripts/install-pulumi` prefers one built from `tools/pulumi-language-python/go.mod`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from concurrent import futures
from pathlib import Path
from typing import Any


def _protocol_packages_only() -> None:
    """Lets the SDK's generated gRPC modules import without the SDK itself.

    This host only speaks the protocol; the program runs in a child interpreter. Importing
    ``pulumi.runtime.proto`` runs ``pulumi/__init__.py`` and every generated module, which
    was half of this host's start (0.32-0.39 s against 0.10-0.12 s, 2-CPU machine), and the
    engine starts a host twice per ``up`` (runtime metadata, then the program). The parent
    packages are registered as plain namespaces over the SDK's own folders instead.
    """
    found = importlib.util.find_spec("pulumi")
    if found is None or found.origin is None:
        return
    root = Path(found.origin).parent
    for name, folder in (
        ("pulumi", root),
        ("pulumi.runtime", root / "runtime"),
        ("pulumi.runtime.proto", root / "runtime" / "proto"),
    ):
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules.setdefault(name, package)


_protocol_packages_only()

import grpc  # noqa: E402
from google.protobuf import empty_pb2, json_format  # noqa: E402
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2  # noqa: E402

VERSION = "3.274.1"
# The exec script's way of saying "I already showed the user an actionable error".
_EXIT_BAIL = 32
_EXEC_SCRIPT = "pulumi-language-python-exec"


def _python_for(info: language_pb2.ProgramInfo) -> tuple[list[str], dict[str, str]]:
    """Choose the interpreter and environment for a program, as the real host does.

    Args:
        info: The program's location and runtime options from `Pulumi.yaml`.

    Returns:
        The command prefix that starts Python, and the environment to run it in.

    Raises:
        ValueError: An option this stand-in does not support, or a missing virtualenv.
    """
    options: dict[str, Any] = json_format.MessageToDict(info.options)
    toolchain = options.get("toolchain", "pip")
    if toolchain != "pip":
        msg = f"toolchain {toolchain!r} is not supported by the stand-in language host (pip only)"
        raise ValueError(msg)
    if options.get("typechecker"):
        msg = "the typechecker option is not supported by the stand-in language host"
        raise ValueError(msg)
    env = dict(os.environ)
    virtualenv = options.get("virtualenv")
    if virtualenv:
        venv = Path(str(virtualenv))
        if not venv.is_absolute():
            venv = Path(info.root_directory) / venv
        python = venv / "bin" / "python"
        if not python.exists():
            msg = f"the virtualenv {venv} (runtime option 'virtualenv') has no bin/python"
            raise ValueError(msg)
        env.pop("PYTHONHOME", None)
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
        return [str(python)], env
    command = os.environ.get("PULUMI_PYTHON_CMD") or shutil.which("python3") or "python"
    return [command], env


class StandinLanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The `LanguageRuntime` service: runs Python programs through the exec script."""

    def __init__(self, exec_script: Path, engine_address: str, tracing: str) -> None:
        """Create the service.

        Args:
            exec_script: Path of `pulumi-language-python-exec`.
            engine_address: The engine's gRPC address, passed on to the program.
            tracing: A tracing endpoint to pass on, or "".
        """
        self._exec_script = exec_script
        self._engine_address = engine_address
        self._tracing = tracing
        self._lock = threading.Lock()
        self._children: set[subprocess.Popen[bytes]] = set()

    def kill_children(self) -> None:
        """Kill every program this host is running."""
        with self._lock:
            children = list(self._children)
        for child in children:
            with contextlib.suppress(OSError):
                child.kill()

    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:  # noqa: N802
        """Report the host's version (the CLI version it stands in for)."""
        del request, context
        return plugin_pb2.PluginInfo(version=VERSION)

    def Handshake(self, request: Any, context: Any) -> language_pb2.LanguageHandshakeResponse:  # noqa: N802
        """Accept the engine's handshake; the engine address also comes on the command line."""
        del context
        if request.engine_address:
            self._engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetRequiredPackages(  # noqa: N802
        self, request: Any, context: Any
    ) -> language_pb2.GetRequiredPackagesResponse:
        """Report no packages: plugins cannot be acquired offline anyway.

        The real host reports every installed provider SDK; the engine then only logs that the
        plugins are missing. Providers that a program actually uses are still loaded on demand.
        """
        del request, context
        return language_pb2.GetRequiredPackagesResponse()

    def GetRequiredPlugins(  # noqa: N802
        self, request: Any, context: Any
    ) -> language_pb2.GetRequiredPluginsResponse:
        """Report no plugins (older engines ask this instead of GetRequiredPackages)."""
        del request, context
        return language_pb2.GetRequiredPluginsResponse()

    def Run(self, request: Any, context: Any) -> language_pb2.RunResponse:  # noqa: N802
        """Run the program to completion with the exec script and report how it ended."""
        del context
        try:
            python, env = _python_for(request.info)
        except ValueError as error:
            return language_pb2.RunResponse(error=str(error))
        config = {key: request.config[key] for key in request.config}
        env["PULUMI_CONFIG"] = json.dumps(config)
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        args = [*python, "-u", str(self._exec_script)]
        for flag, value in (
            ("monitor", request.monitor_address),
            ("engine", self._engine_address),
            ("project", request.project),
            ("root_directory", request.info.root_directory),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("tracing", self._tracing),
            ("organization", request.organization),
        ):
            if value:
                args += [f"--{flag}", value]
        args += [request.info.entry_point or ".", *request.args]
        try:
            child = subprocess.Popen(args, env=env, stdout=sys.stdout, stderr=sys.stderr)
        except OSError as error:
            return language_pb2.RunResponse(
                error=f"problem executing program (could not run language executor): {error}"
            )
        with self._lock:
            self._children.add(child)
        try:
            code = child.wait()
        finally:
            with self._lock:
                self._children.discard(child)
        sys.stdout.flush()
        sys.stderr.flush()
        if code == 0:
            return language_pb2.RunResponse()
        if code == _EXIT_BAIL:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {code}")

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802
        """Interrupt running programs."""
        del request, context
        with self._lock:
            for child in self._children:
                child.send_signal(signal.SIGINT)
        return empty_pb2.Empty()

    def About(self, request: Any, context: Any) -> language_pb2.AboutResponse:  # noqa: N802
        """Describe the Python this host would use for a program without a virtualenv."""
        del request, context
        python = os.environ.get("PULUMI_PYTHON_CMD") or shutil.which("python3") or "python"
        return language_pb2.AboutResponse(
            executable=python, metadata={"host": "mlops-infra stand-in"}
        )


def _parse_args(argv: list[str]) -> tuple[str, str, Path | None, bool]:
    """Parse the arguments the engine passes to a language plugin.

    Args:
        argv: The arguments after the program name.

    Returns:
        The engine address, the tracing endpoint, an explicit exec script and whether only the
        version was asked for.
    """
    engine, tracing, executor, version = "", "", None, False
    rest = iter(argv)
    for arg in rest:
        name, _, inline = arg.lstrip("-").partition("=")
        if not arg.startswith("-"):
            engine = engine or arg
        elif name == "version":
            version = True
        elif name == "tracing":
            tracing = inline or next(rest, "")
        elif name == "use-executor":
            executor = Path(inline or next(rest, ""))
        # Other flags (--logtostderr, -v=N, --root=...) carry their value inline or none.
    return engine, tracing, executor, version


def _exit_when_orphaned(parent: int, host: StandinLanguageHost) -> None:
    """End this process, and the programs it runs, once the engine that started it is gone.

    A program left running after its engine was killed would wait on a dead engine forever.
    """
    while os.getppid() == parent:
        time.sleep(1)
    host.kill_children()
    os._exit(1)


def main(argv: list[str]) -> int:
    """Serve the language runtime on a free loopback port and print the port, like any plugin.

    Args:
        argv: The arguments after the program name.

    Returns:
        The process exit status.
    """
    engine, tracing, executor, version = _parse_args(argv)
    if version:
        print(VERSION)
        return 0
    exec_script = executor or Path(sys.argv[0]).resolve().parent / _EXEC_SCRIPT
    if not exec_script.is_file():
        print(f"missing executor {exec_script}: run scripts/install-pulumi", file=sys.stderr)
        return 1
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)],
    )
    host = StandinLanguageHost(exec_script, engine, tracing)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(), host), daemon=True).start()

    # The engine stops plugins with SIGINT: stop serving quietly instead of a KeyboardInterrupt
    # traceback that would show up among the diagnostics.
    def stop(signum: int, frame: object) -> None:
        del signum, frame
        server.stop(grace=1)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
