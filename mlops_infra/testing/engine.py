"""Drive the real Pulumi engine on a program, offline: the integration-test harness.

`EngineHarness` runs the `pulumi` CLI (through the repository's `scripts/pulumi`, the one place
that defines the offline environment) on a *copy* of a project directory, with a temporary
`file://` backend and a passphrase of its own, so tests never touch the developer's stacks or
the source tree. Every call keeps its command line, exit status, stdout and stderr, and every
operation is parsed from `--json` output into `Step`s, so an assertion can say exactly which
resources were created, updated or replaced, and why.

`EngineHarness.run_lifecycle` is the sequence Pulumi's own ProgramTest runs: preview, up, an
empty preview, a refresh without drift, an edit whose preview must show the expected operations,
up, destroy, an empty state and `stack rm`.

Example:
    ```python
    with EngineHarness(Path("stacks/local"), "it", config={"greeting": "hi"}) as engine:
        engine.run_lifecycle(
            lambda e: e.set_config("greeting", "bonjour"),
            expect={"bundle-greeting": "update"},
        )
    ```

Only the standard library is used, so the module works before the rest of the package does.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, cast

__all__ = [
    "DEFAULT_PASSPHRASE",
    "NO_CHANGE_OPS",
    "CommandResult",
    "EngineHarness",
    "LifecycleError",
    "LifecycleReport",
    "OperationSummary",
    "StateResource",
    "Step",
    "default_pulumi_command",
    "parse_operation_output",
    "parse_state_resources",
]

DEFAULT_PASSPHRASE = "mlops-engine-harness"  # noqa: S105 (documented, throwaway state only)
"""Passphrase of the harness's throwaway stacks: not a secret, it only guards temporary state."""

NO_CHANGE_OPS = frozenset({"same", "read", "refresh"})
"""Step operations that change nothing (a refresh step's outcome is reported separately)."""

_INTERNAL_INPUTS = frozenset({"__provider"})
_REPO_ROOT = Path(__file__).resolve().parents[2]
_OUTPUT_TAIL = 4000


def default_pulumi_command() -> list[str]:
    """Find the command that runs the Pulumi CLI in the offline environment.

    Order: the `MLOPS_PULUMI` environment variable (a path), the repository's `scripts/pulumi`
    when this module runs from a checkout, else `pulumi` on `PATH`.

    Returns:
        The command as an argument list.

    Raises:
        FileNotFoundError: No Pulumi CLI can be found.
    """
    explicit = os.environ.get("MLOPS_PULUMI")
    if explicit:
        return [explicit]
    script = _REPO_ROOT / "scripts" / "pulumi"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("pulumi")
    if found:
        return [found]
    msg = "no Pulumi CLI: run scripts/install-pulumi, or set MLOPS_PULUMI to the CLI's path"
    raise FileNotFoundError(msg)


@dataclass(frozen=True)
class CommandResult:
    """One run of the CLI: what was run and everything it printed."""

    args: tuple[str, ...]
    """The CLI arguments (without the `pulumi` command itself)."""
    returncode: int
    """The exit status."""
    stdout: str
    """Everything written to standard output."""
    stderr: str
    """Everything written to standard error."""
    duration_s: float
    """Wall-clock seconds the command took."""

    @property
    def ok(self) -> bool:
        """Whether the command exited with status 0."""
        return self.returncode == 0

    def describe(self, tail: int = _OUTPUT_TAIL) -> str:
        """Render the command, its status and the end of its output for an error message.

        Args:
            tail: How many characters of stdout and of stderr to keep (their ends).

        Returns:
            A multi-line description.
        """
        lines = [
            f"$ pulumi {' '.join(self.args)}  -> exit {self.returncode} in {self.duration_s:.1f}s"
        ]
        for label, raw in (("stderr", self.stderr), ("stdout", self.stdout)):
            text = raw.strip()
            if text:
                cut = text if len(text) <= tail else "..." + text[-tail:]
                lines.append(f"--- {label} ---\n{cut}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Step:
    """One resource operation the engine planned or performed."""

    op: str
    """The operation: same, create, update, replace, delete, refresh, create-replacement, ..."""
    urn: str
    """The resource's URN."""
    type: str
    """The resource type token, e.g. `pulumi-python:dynamic:Resource`."""
    changed: tuple[str, ...] = ()
    """Property paths that differ (detailed diff, diff reasons, or compared inputs)."""
    replace_reasons: tuple[str, ...] = ()
    """Properties that force a replacement, when the engine reports them."""

    @property
    def name(self) -> str:
        """The resource's logical name (the last URN segment)."""
        return self.urn.rsplit("::", 1)[-1]

    def matches(self, key: str) -> bool:
        """Whether `key` names this resource: its logical name, or a suffix of its URN.

        Args:
            key: A logical name (`bundle-greeting`) or URN suffix (`Resource::bundle-greeting`).

        Returns:
            True when the key selects this step's resource.
        """
        return key in (self.name, self.urn) or self.urn.endswith(key)

    def describe(self) -> str:
        """Render the step as `op type name [changed paths]` for messages."""
        text = f"{self.op:<18} {self.type}  {self.name}"
        if self.changed:
            text += f"  changed: {', '.join(self.changed)}"
        if self.replace_reasons:
            text += f"  replace because: {', '.join(self.replace_reasons)}"
        return text


@dataclass(frozen=True)
class OperationSummary:
    """The parsed outcome of one preview, up, refresh or destroy."""

    operation: str
    """Which CLI operation ran (`preview`, `up`, `refresh`, `destroy`)."""
    steps: tuple[Step, ...]
    """The steps, in the order the engine reported them."""
    change_summary: Mapping[str, int]
    """Counts by operation, as reported by the engine."""
    diagnostics: tuple[str, ...] = ()
    """Warning and error messages the engine or program printed."""
    result: CommandResult | None = None
    """The CLI call this summary was parsed from."""

    @property
    def changes(self) -> tuple[Step, ...]:
        """The steps that change something (every op outside `NO_CHANGE_OPS`)."""
        return tuple(step for step in self.steps if step.op not in NO_CHANGE_OPS)

    def ops(self) -> dict[str, str]:
        """Map each resource's logical name to its operation.

        A resource reported twice keeps its last operation. Two resources sharing a
        logical name (a component and the custom resource it wraps, say) make the map
        ambiguous, and which one won would depend on the order the engine reported them
        in, so that is refused: ask `op` with a URN suffix instead.

        Raises:
            ValueError: When two resources share a logical name.
        """
        ops: dict[str, str] = {}
        urns: dict[str, str] = {}
        for step in self.steps:
            seen = urns.setdefault(step.name, step.urn)
            if seen != step.urn:
                raise ValueError(
                    f"{self.operation}: two resources are named {step.name!r} ({seen} and "
                    f"{step.urn}); ask op('<Type>::{step.name}') for one of them"
                )
            ops[step.name] = step.op
        return ops

    def op(self, key: str) -> str:
        """Return the operation of the one resource `key` selects (see `Step.matches`).

        Args:
            key: A logical name or URN suffix (`LocalMlflowServer::mlops-tracking`).

        Returns:
            Its last reported operation.

        Raises:
            KeyError: When `key` selects no resource, or more than one.
        """
        urns = {step.urn for step in self.find(key)}
        if len(urns) != 1:
            raise KeyError(
                f"{self.operation}: {key!r} selects {len(urns)} resources"
                + (f" ({', '.join(sorted(urns))})" if urns else "")
                + "; use a longer URN suffix"
            )
        return self.find(key)[-1].op

    def find(self, key: str) -> list[Step]:
        """Return the steps whose resource matches `key` (see `Step.matches`).

        Args:
            key: A logical name or URN suffix.

        Returns:
            The matching steps, possibly empty.
        """
        return [step for step in self.steps if step.matches(key)]

    def describe(self) -> str:
        """Render every step, the change counts and the diagnostics for an error message."""
        lines = [f"{self.operation}: {dict(self.change_summary) or 'no change summary'}"]
        lines += [f"  {step.describe()}" for step in self.steps] or ["  (no steps)"]
        lines += [f"  diagnostic: {message}" for message in self.diagnostics]
        return "\n".join(lines)


@dataclass(frozen=True)
class StateResource:
    """A resource as recorded in the stack's state (`pulumi stack export`)."""

    urn: str
    """The resource's URN."""
    type: str
    """The resource type token."""
    id: str
    """The provider-assigned id ("" for components)."""
    parent: str
    """The parent's URN ("" for the stack itself)."""
    custom: bool
    """Whether a provider manages it (False for components and the stack)."""
    inputs: Mapping[str, Any]
    """The recorded inputs (secrets stay encrypted)."""
    outputs: Mapping[str, Any]
    """The recorded outputs (secrets stay encrypted)."""

    @property
    def name(self) -> str:
        """The resource's logical name (the last URN segment)."""
        return self.urn.rsplit("::", 1)[-1]


@dataclass
class LifecycleReport:
    """The operations `EngineHarness.run_lifecycle` saw, stage by stage."""

    stages: dict[str, OperationSummary] = field(default_factory=lambda: {})
    """Each stage's summary, keyed by stage name in the order they ran."""

    def describe(self) -> str:
        """Render every stage for an error message."""
        return "\n".join(f"[{name}] {summary.describe()}" for name, summary in self.stages.items())


class LifecycleError(AssertionError):
    """An engine operation failed, or its outcome was not the expected one.

    The message lists the operations seen (type, name, op, changed paths) and the end of the
    CLI's output, so a failing test explains itself.
    """

    def __init__(
        self,
        message: str,
        *,
        summary: OperationSummary | None = None,
        result: CommandResult | None = None,
    ) -> None:
        """Build the error with the context that explains it.

        Args:
            message: What went wrong.
            summary: The operation whose steps should be shown.
            result: The CLI call whose output should be shown (defaults to the summary's).
        """
        self.summary = summary
        self.result = result or (summary.result if summary else None)
        parts = [message]
        if summary is not None:
            parts.append(summary.describe())
        if self.result is not None:
            parts.append(self.result.describe())
        super().__init__("\n".join(parts))


# ----------------------------------------------------------------------------- JSON parsing


def _as_dict(value: object) -> dict[str, Any]:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _as_list(value: object) -> list[Any]:
    return cast("list[Any]", value) if isinstance(value, list) else []


def _json_documents(text: str) -> Iterator[object]:
    """Yield every JSON value in `text`: one document, newline-delimited events, or both.

    `pulumi refresh --json` without `--skip-preview`, for instance, prints a preview document
    followed by the update's events. Text that is not JSON (a stray log line) is skipped.
    """
    decoder = json.JSONDecoder()
    index, end = 0, len(text)
    while index < end:
        brace = text.find("{", index)
        if brace < 0:
            return
        try:
            value, index = decoder.raw_decode(text, brace)
        except json.JSONDecodeError:
            index = text.find("\n", brace)
            if index < 0:
                return
            continue
        yield value


def _changed_paths(
    detailed: object, reasons: Sequence[object], old: object, new: object
) -> tuple[str, ...]:
    """Name what changed: the detailed diff, else the diff reasons, else compared properties.

    Dynamic providers report no detailed diff, so inputs are compared; a refresh changes
    outputs, not inputs, so outputs are compared when the inputs agree.
    """
    paths = list(_as_dict(detailed)) or [str(reason) for reason in reasons]
    for section in ("inputs", "outputs"):
        if paths:
            break
        before, after = _as_dict(_as_dict(old).get(section)), _as_dict(_as_dict(new).get(section))
        if before and after:
            keys = (before.keys() | after.keys()) - _INTERNAL_INPUTS
            paths = sorted(key for key in keys if before.get(key) != after.get(key))
    return tuple(dict.fromkeys(paths))


def _step_from_preview(raw: Mapping[str, Any]) -> Step:
    old, new = _as_dict(raw.get("oldState")), _as_dict(raw.get("newState"))
    urn = str(raw.get("urn", ""))
    reasons = _as_list(raw.get("diffReasons")) + _as_list(raw.get("replaceReasons"))
    return Step(
        op=str(raw.get("op", "")),
        urn=urn,
        type=str(new.get("type") or old.get("type") or _type_from_urn(urn)),
        changed=_changed_paths(raw.get("detailedDiff"), reasons, old, new),
        replace_reasons=tuple(str(r) for r in _as_list(raw.get("replaceReasons"))),
    )


def _step_from_event(metadata: Mapping[str, Any]) -> Step:
    urn = str(metadata.get("urn", ""))
    return Step(
        op=str(metadata.get("op", "")),
        urn=urn,
        type=str(metadata.get("type") or _type_from_urn(urn)),
        changed=_changed_paths(
            metadata.get("detailedDiff"),
            _as_list(metadata.get("diffs")),
            metadata.get("old"),
            metadata.get("new"),
        ),
        replace_reasons=tuple(str(k) for k in _as_list(metadata.get("keys"))),
    )


def _type_from_urn(urn: str) -> str:
    parts = urn.split("::")
    return parts[-2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def _diagnostic(raw: Mapping[str, Any]) -> str | None:
    severity = str(raw.get("severity", ""))
    if severity not in {"info", "warning", "error"}:
        return None
    message = str(raw.get("message", "")).strip()
    urn = str(raw.get("urn", ""))
    where = f" [{urn.rsplit('::', 1)[-1]}]" if urn else ""
    return f"{severity}{where}: {message}"


def parse_operation_output(operation: str, stdout: str) -> OperationSummary:
    """Parse the `--json` output of a preview, up, refresh or destroy.

    Understands the single document of `pulumi preview --json` (`steps[]`, `changeSummary`,
    `diagnostics[]`) and the newline-delimited engine events of `up`/`refresh`/`destroy --json`
    (`resourcePreEvent`, `resOutputsEvent`, `diagnosticEvent`, `summaryEvent`). When both are
    present (an update preceded by its preview) the events, i.e. what was done, win. For events,
    a step's operation is its outcome (`resOutputsEvent`; for a refresh that is `same` when
    nothing drifted), or what was attempted when no outcome arrived (a failed step).

    Args:
        operation: The operation's name, kept in the summary.
        stdout: The CLI's standard output.

    Returns:
        The parsed summary (without the `CommandResult`; `EngineHarness` adds it).
    """
    preview_steps: list[Step] = []
    preview_counts: dict[str, int] = {}
    attempted: dict[str, list[Step]] = {}
    outcomes: dict[str, list[Step]] = {}
    event_counts: dict[str, int] = {}
    diagnostics: list[str] = []
    saw_events = False
    for document in _json_documents(stdout):
        doc = _as_dict(document)
        if "steps" in doc or "changeSummary" in doc:
            preview_steps = [
                _step_from_preview(_as_dict(raw)) for raw in _as_list(doc.get("steps"))
            ]
            preview_counts = {str(k): int(v) for k, v in _as_dict(doc.get("changeSummary")).items()}
            for raw in _as_list(doc.get("diagnostics")):
                message = _diagnostic(_as_dict(raw))
                if message:
                    diagnostics.append(message)
            continue
        for kind, seen in (("resourcePreEvent", attempted), ("resOutputsEvent", outcomes)):
            if kind in doc:
                saw_events = True
                step = _step_from_event(_as_dict(_as_dict(doc[kind]).get("metadata")))
                seen.setdefault(step.urn, []).append(step)
        if "diagnosticEvent" in doc:
            message = _diagnostic(_as_dict(doc["diagnosticEvent"]))
            if message:
                diagnostics.append(message)
        elif "summaryEvent" in doc:
            saw_events = True
            changes = _as_dict(_as_dict(doc["summaryEvent"]).get("resourceChanges"))
            event_counts = {str(k): int(v) for k, v in changes.items()}
    if not saw_events:
        return OperationSummary(operation, tuple(preview_steps), preview_counts, tuple(diagnostics))
    urns = list(attempted) + [urn for urn in outcomes if urn not in attempted]
    steps = tuple(_merge_events(attempted.get(urn, []), outcomes.get(urn, [])) for urn in urns)
    return OperationSummary(operation, steps, event_counts, tuple(diagnostics))


_REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced"})


def _merge_events(attempted: list[Step], outcomes: list[Step]) -> Step:
    """Fold one resource's events into one step: its outcome, and `replace` for a replacement."""
    every = attempted + outcomes
    final = (outcomes or attempted)[-1]
    op = "replace" if any(step.op in _REPLACE_OPS for step in every) else final.op
    informative = next((step for step in every if step.changed), final)
    return Step(op, final.urn, final.type, informative.changed, informative.replace_reasons)


def parse_state_resources(export: str) -> list[StateResource]:
    """Parse `pulumi stack export` output into resources.

    Args:
        export: The exported deployment (JSON).

    Returns:
        The resources in state order; empty for a stack that has none.
    """
    deployment = _as_dict(_as_dict(json.loads(export or "{}")).get("deployment"))
    resources: list[StateResource] = []
    for raw in _as_list(deployment.get("resources")):
        item = _as_dict(raw)
        resources.append(
            StateResource(
                urn=str(item.get("urn", "")),
                type=str(item.get("type", "")),
                id=str(item.get("id", "")),
                parent=str(item.get("parent", "")),
                custom=bool(item.get("custom", False)),
                inputs=_as_dict(item.get("inputs")),
                outputs=_as_dict(item.get("outputs")),
            )
        )
    return resources


# ---------------------------------------------------------------------------------- harness

_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SALT_LINES = re.compile(r"^(encryptionsalt|encryptedkey|secretsprovider):.*\n?", re.MULTILINE)
_STACK_CONFIG_DIR = re.compile(
    r"^stackConfigDir:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(?:#.*)?$", re.MULTILINE
)
_VIRTUALENV = re.compile(
    r"^(\s+virtualenv:\s*)['\"]?([^'\"#\n]+?)['\"]?(\s*(?:#.*)?)$", re.MULTILINE
)


class EngineHarness:
    """Run the real Pulumi engine on a copy of a project, with throwaway state.

    The project directory (with its `Pulumi.yaml`) is copied into a temporary workspace, with a
    relative `virtualenv` runtime option made absolute so it still points at the original
    environment. The harness then runs `scripts/pulumi` there with `PULUMI_BACKEND_URL` set to a
    `file://` folder of its own and `PULUMI_CONFIG_PASSPHRASE` set to `DEFAULT_PASSPHRASE` (unless
    `env` says otherwise); everything else comes from `scripts/pulumi`. Use it as a context
    manager: leaving it destroys whatever is still deployed (best effort) and deletes the
    workspace.
    """

    def __init__(
        self,
        project_dir: Path,
        stack: str,
        *,
        config: Mapping[str, object] | None = None,
        secrets: Mapping[str, object] | None = None,
        config_file: Path | None = None,
        env: Mapping[str, str] | None = None,
        pulumi_command: Sequence[str] | None = None,
        timeout_s: float = 600.0,
    ) -> None:
        """Prepare a harness; nothing runs until `init` (or `run_lifecycle`).

        Args:
            project_dir: The folder holding `Pulumi.yaml`.
            stack: The stack name (plain, e.g. `it`; the backend is private to the harness).
            config: Configuration set at `init`, keys without a namespace get the project's.
            secrets: Configuration set at `init` as secrets.
            config_file: A `Pulumi.<stack>.yaml` to start from (plaintext values only: values
                encrypted for another stack cannot be decrypted with this one's salt).
            env: Extra environment for every CLI call (overrides the harness's defaults).
            pulumi_command: The command that runs the CLI (default: `default_pulumi_command()`).
            timeout_s: Limit for each CLI call.

        Raises:
            ValueError: The stack name is not a plain name.
            FileNotFoundError: `project_dir` has no `Pulumi.yaml`.
        """
        if not _STACK_NAME.match(stack):
            msg = f"stack name {stack!r} must be plain (letters, digits, '-', '_', '.')"
            raise ValueError(msg)
        self.source_dir = Path(project_dir).resolve()
        if not (self.source_dir / "Pulumi.yaml").is_file():
            msg = f"{self.source_dir} has no Pulumi.yaml"
            raise FileNotFoundError(msg)
        self.stack = stack
        self._config = dict(config or {})
        self._secrets = dict(secrets or {})
        self._config_file = config_file
        self._extra_env = dict(env or {})
        self._command = list(pulumi_command or default_pulumi_command())
        self._timeout_s = timeout_s
        self._workdir: Path | None = None
        self._initialized = False
        self.history: list[CommandResult] = []
        """Every CLI call made so far, oldest first."""

    # -- workspace ------------------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        """The temporary workspace (created on first use)."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"mlops-engine-{self.stack}-"))
        return self._workdir

    @property
    def project_dir(self) -> Path:
        """The copy of the project that the CLI runs in."""
        return self.workdir / "project"

    @property
    def backend_dir(self) -> Path:
        """The folder of the private `file://` backend."""
        return self.workdir / "state"

    @property
    def stack_config_path(self) -> Path:
        """Where the copied project keeps this stack's `Pulumi.<stack>.yaml`."""
        text = (self.project_dir / "Pulumi.yaml").read_text(encoding="utf-8")
        found = _STACK_CONFIG_DIR.search(text)
        folder = self.project_dir / found.group(1).strip() if found else self.project_dir
        return folder / f"Pulumi.{self.stack}.yaml"

    def _prepare_workspace(self) -> None:
        if self.project_dir.exists():
            return
        shutil.copytree(
            self.source_dir,
            self.project_dir,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "Pulumi.*.yaml", ".pulumi"),
        )
        self.backend_dir.mkdir(parents=True, exist_ok=True)
        project_file = self.project_dir / "Pulumi.yaml"

        def absolute(match: re.Match[str]) -> str:
            venv = Path(match.group(2).strip())
            if venv.is_absolute() or not (self.source_dir / venv).exists():
                return match.group(0)
            return f"{match.group(1)}{(self.source_dir / venv).resolve()}{match.group(3)}"

        project_file.write_text(
            _VIRTUALENV.sub(absolute, project_file.read_text(encoding="utf-8")), encoding="utf-8"
        )
        if self._config_file is not None:
            text = Path(self._config_file).read_text(encoding="utf-8")
            self.stack_config_path.parent.mkdir(parents=True, exist_ok=True)
            self.stack_config_path.write_text(_SALT_LINES.sub("", text), encoding="utf-8")

    def environment(self) -> dict[str, str]:
        """The environment of every CLI call: the process's, the harness's defaults, `env`."""
        env = dict(os.environ)
        env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
        env["PULUMI_BACKEND_URL"] = self.backend_dir.as_uri()
        env["PULUMI_CONFIG_PASSPHRASE"] = DEFAULT_PASSPHRASE
        env.update(self._extra_env)
        return env

    # -- running the CLI --------------------------------------------------------------------------

    def run(self, *args: str, check: bool = True, stdin: str | None = None) -> CommandResult:
        """Run one CLI command in the project copy and record it in `history`.

        Args:
            *args: The CLI arguments, e.g. `"stack", "ls"`.
            check: Raise `LifecycleError` when the command fails.
            stdin: Text to feed on standard input.

        Returns:
            The command's result.

        Raises:
            LifecycleError: The command failed (with `check`), or ran past the timeout.
        """
        self._prepare_workspace()
        # Global flags go first: `config set KEY -- VALUE` must end with its value.
        full = ["--non-interactive", "--color=never", *args]
        start = time.monotonic()
        try:
            done = subprocess.run(
                [*self._command, *full],
                cwd=self.project_dir,
                env=self.environment(),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self._timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            result = CommandResult(
                tuple(full), -1, _text(error.stdout), _text(error.stderr), self._timeout_s
            )
            self.history.append(result)
            msg = f"pulumi {args[0] if args else ''} ran past {self._timeout_s:.0f}s"
            raise LifecycleError(msg, result=result) from error
        result = CommandResult(
            tuple(full), done.returncode, done.stdout, done.stderr, time.monotonic() - start
        )
        self.history.append(result)
        if check and not result.ok:
            msg = f"pulumi {' '.join(args[:2])} failed"
            summary = None
            if "--json" in args:
                summary = self._summary(args[0], result)
            raise LifecycleError(msg, summary=summary, result=result)
        return result

    def _summary(self, operation: str, result: CommandResult) -> OperationSummary:
        parsed = parse_operation_output(operation, result.stdout)
        return OperationSummary(
            parsed.operation, parsed.steps, parsed.change_summary, parsed.diagnostics, result
        )

    def _operation(self, operation: str, *args: str) -> OperationSummary:
        result = self.run(operation, "--stack", self.stack, "--json", *args)
        return self._summary(operation, result)

    # -- stack operations ------------------------------------------------------------------------

    def init(self) -> None:
        """Copy the project, create the stack in the private backend and set the configuration.

        Raises:
            LifecycleError: A CLI call failed.
        """
        if self._initialized:
            return
        self.run("stack", "init", self.stack)
        self._initialized = True
        for key, value in self._config.items():
            self.set_config(key, value)
        for key, value in self._secrets.items():
            self.set_config(key, value, secret=True)

    def set_config(
        self, key: str, value: object, *, secret: bool = False, path: bool = False
    ) -> None:
        """Set one configuration value on the stack.

        Strings are stored as given; booleans and numbers with their type; mappings and lists
        as structured values (what `Config.require_object` reads).

        Args:
            key: The key, with or without the `namespace:` prefix.
            value: The value.
            secret: Store it encrypted.
            path: Treat `key` as a path into a structured value (`a.b[0]`).

        Raises:
            LifecycleError: The CLI call failed.
        """
        flags = ["--secret"] if secret else ["--plaintext"]
        flags += ["--path"] if path else []
        if isinstance(value, Mapping | list | tuple):
            if path or secret:
                text = json.dumps(value)
                self.run("config", "set", "--stack", self.stack, *flags, key, "--", text)
                return
            full_key = key if ":" in key else f"{self._project_name()}:{key}"
            entry: dict[str, object] = {
                "value": json.dumps(value),
                "objectValue": value,
                "secret": False,
            }
            payload = json.dumps({full_key: entry})
            self.run("config", "set-all", "--stack", self.stack, "--json", payload)
            return
        text = str(value)
        if isinstance(value, bool | int | float) and not secret:
            # --type excludes --plaintext; a typed value is plaintext anyway.
            kind = "bool" if isinstance(value, bool) else type(value).__name__
            flags = ["--type", kind, *flags[1:]]
            text = json.dumps(value)
        self.run("config", "set", "--stack", self.stack, *flags, key, "--", text)

    def _project_name(self) -> str:
        text = (self.project_dir / "Pulumi.yaml").read_text(encoding="utf-8")
        found = re.search(r"^name:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(?:#.*)?$", text, re.MULTILINE)
        if not found:
            msg = f"no project name in {self.source_dir / 'Pulumi.yaml'}"
            raise LifecycleError(msg)
        return found.group(1)

    def preview(self, *args: str) -> OperationSummary:
        """Run `pulumi preview --json` and parse its steps.

        Args:
            *args: Extra CLI arguments, e.g. `"--show-sames"`.

        Returns:
            The planned steps.
        """
        self.init()
        return self._operation("preview", *args)

    def up(self, *args: str) -> OperationSummary:
        """Run `pulumi up --yes --skip-preview --json` and parse the steps performed.

        Args:
            *args: Extra CLI arguments.

        Returns:
            The performed steps.
        """
        self.init()
        return self._operation("up", "--yes", "--skip-preview", *args)

    def refresh(self, *args: str) -> OperationSummary:
        """Run `pulumi refresh --yes --skip-preview --json`.

        Each step's op is the refresh's outcome: `same` when the resource still matches the
        state; `update` or `delete` when it drifted or disappeared.

        Args:
            *args: Extra CLI arguments.

        Returns:
            The refresh outcome per resource.
        """
        self.init()
        return self._operation("refresh", "--yes", "--skip-preview", *args)

    def destroy(self, *args: str) -> OperationSummary:
        """Run `pulumi destroy --yes --skip-preview --json`.

        Args:
            *args: Extra CLI arguments.

        Returns:
            The performed deletions.
        """
        self.init()
        return self._operation("destroy", "--yes", "--skip-preview", *args)

    def stack_resources(self) -> list[StateResource]:
        """Return the resources in the stack's state (`pulumi stack export`)."""
        self.init()
        return parse_state_resources(self.run("stack", "export", "--stack", self.stack).stdout)

    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """Return the stack outputs (`pulumi stack output --json`).

        Args:
            show_secrets: Decrypt secret outputs (otherwise they read `[secret]`).

        Returns:
            The outputs by name.
        """
        self.init()
        args = ["stack", "output", "--stack", self.stack, "--json"]
        args += ["--show-secrets"] if show_secrets else []
        return _as_dict(json.loads(self.run(*args).stdout or "{}"))

    def remove_stack(self) -> None:
        """Remove the (empty) stack and its configuration (`pulumi stack rm --yes`)."""
        if self._initialized:
            self.run("stack", "rm", "--stack", self.stack, "--yes")
            self._initialized = False

    # -- the lifecycle ---------------------------------------------------------------------------

    def run_lifecycle(
        self,
        edit: Callable[[EngineHarness], None],
        expect: Mapping[str, str],
    ) -> LifecycleReport:
        """Run preview, up, no-op preview, drift-free refresh, edit, preview, up, destroy, rm.

        Args:
            edit: Changes the stack between the two deployments (usually through
                `set_config`), e.g. `lambda e: e.set_config("greeting", "bonjour")`.
            expect: For the preview after `edit`: resource (logical name or URN suffix) to
                operation, e.g. `{"bundle-greeting": "update", "bundle-data": "replace"}`.
                A resource expected as `same` may be absent from the preview.

        Returns:
            Every stage's summary.

        Raises:
            LifecycleError: A stage failed or did not do what was expected; the message lists
                the operations of that stage and the CLI's output.
        """
        report = LifecycleReport()
        stages = report.stages
        stages["preview"] = self.preview()
        stages["up"] = self.up()
        stages["preview-after-up"] = self._expect_no_changes(
            self.preview(), "a preview right after `up` plans changes"
        )
        stages["refresh"] = self._expect_no_changes(
            self.refresh(), "`refresh` found drift right after `up`"
        )
        edit(self)
        edited = stages["preview-after-edit"] = self.preview()
        self._expect_ops(edited, expect)
        stages["up-after-edit"] = self.up()
        stages["preview-after-edit-up"] = self._expect_no_changes(
            self.preview(), "a preview right after the second `up` plans changes"
        )
        stages["destroy"] = self.destroy()
        left = self.stack_resources()
        if left:
            names = "\n".join(f"  {r.type}  {r.name}" for r in left)
            msg = f"resources left in state after destroy:\n{names}"
            raise LifecycleError(msg, summary=stages["destroy"])
        self.remove_stack()
        return report

    @staticmethod
    def _expect_no_changes(summary: OperationSummary, message: str) -> OperationSummary:
        if summary.changes:
            raise LifecycleError(message, summary=summary)
        return summary

    @staticmethod
    def _expect_ops(summary: OperationSummary, expect: Mapping[str, str]) -> None:
        problems: list[str] = []
        for key, op in expect.items():
            found = summary.find(key)
            if not found:
                if op != "same":
                    problems.append(f"{key}: expected {op}, but it is not in the preview")
                continue
            wrong = [step.op for step in found if step.op != op]
            if wrong:
                problems.append(f"{key}: expected {op}, got {', '.join(wrong)}")
        if problems:
            msg = "the preview after the edit differs from what was expected:\n  " + "\n  ".join(
                problems
            )
            raise LifecycleError(msg, summary=summary)

    # -- cleanup --------------------------------------------------------------------------------

    def close(self, *, destroy: bool = True) -> None:
        """Tear down: destroy what is still deployed (best effort), then delete the workspace.

        Args:
            destroy: Try `pulumi destroy` first, so that real side effects (files, processes)
                do not outlive a failed test.
        """
        if self._initialized and destroy:
            with contextlib.suppress(LifecycleError):
                self.run("destroy", "--stack", self.stack, "--yes", "--skip-preview", check=False)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._initialized = False

    def __enter__(self) -> EngineHarness:
        """Return the harness itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the harness (see `close`)."""
        self.close()


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
