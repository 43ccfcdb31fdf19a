"""Plan a stack as it was at a git commit, in a temporary worktree.

``mlops-infra diff --base REF`` needs the base commit's plan. The commit is checked out
with ``git worktree add --detach`` in a temporary folder (the working tree is never
touched) and planned in a separate process, so the two programs never share Pulumi's
process-wide state. The base is planned by its own ``mlops_infra`` when that commit has
the plan command, so the base plan is what that commit's ``pulumi up`` would register;
an older commit is planned with the current code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import mlops_infra
from mlops_infra.errors import MlopsError
from mlops_infra.plan.build import stack_file_path
from mlops_infra.plan.model import Plan, load_plan

__all__ = ["GitPlanError", "plan_git_ref"]

_ENTRY = "import sys; from mlops_infra.cli.main import main; sys.exit(main(sys.argv[1:]))"
_TAIL = 4000  # characters of a failed plan's output shown in the error


class GitPlanError(MlopsError):
    """The base commit could not be checked out or planned."""


def _git(args: list[str], cwd: Path) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        msg = f"git {' '.join(args)}: {error}"
        raise GitPlanError(msg) from None
    if result.returncode != 0:
        msg = f"git {' '.join(args)} failed: {result.stderr.strip()}"
        raise GitPlanError(msg)
    return result.stdout.strip()


def _plan_in(
    project: Path, stack: str, code_root: Path, out: Path
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code_root), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-c", _ENTRY, "plan", "--stack", stack]
    command += ["--project-dir", str(project), "--out", str(out)]
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, check=False, timeout=900
    )


def plan_git_ref(ref: str, stack: str, *, project_dir: Path) -> Plan | None:
    """Plans ``stack`` as of commit ``ref``; ``None`` when the stack did not exist then.

    Args:
        ref: Any git revision (``origin/main``, a SHA, ``HEAD~1``).
        stack: Stack name.
        project_dir: The project folder in the current checkout (inside a git repository).

    Raises:
        GitPlanError: the revision cannot be checked out, or its plan fails.
    """
    project_dir = project_dir.resolve()
    top = Path(_git(["rev-parse", "--show-toplevel"], project_dir)).resolve()
    relative = project_dir.relative_to(top)
    commit = _git(["rev-parse", "--verify", f"{ref}^{{commit}}"], top)
    with tempfile.TemporaryDirectory(prefix="mlops-plan-") as temp:
        tree = Path(temp) / "base"
        _git(["worktree", "add", "--detach", "--quiet", str(tree), commit], top)
        try:
            project = tree / relative
            if not stack_file_path(project, stack).is_file():
                return None
            out = Path(temp) / "base.plan.json"
            own = (tree / "mlops_infra" / "plan" / "build.py").is_file()
            current = Path(mlops_infra.__file__).resolve().parent.parent
            result = _plan_in(project, stack, tree if own else current, out)
            if result.returncode != 0 and own:
                result = _plan_in(project, stack, current, out)
            if result.returncode != 0:
                output = (result.stdout + result.stderr)[-_TAIL:]
                msg = f"planning stack {stack!r} at {ref} ({commit[:12]}) failed:\n{output}"
                raise GitPlanError(msg)
            return load_plan(out)
        finally:
            _git(["worktree", "remove", "--force", str(tree)], top)
