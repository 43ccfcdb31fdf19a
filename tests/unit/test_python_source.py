"""parse_python: repeats a parse that CPython#106905 interrupted, and nothing else."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from mlops_infra.python_source import parse_python

MISMATCH = SystemError("AST constructor recursion depth mismatch (before=114, after=162)")


def _flaky(failures: list[BaseException]) -> Any:
    real = ast.parse

    def parse(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop(0)
        return real(*args, **kwargs)

    return parse


@pytest.mark.parametrize("failures", [0, 1, 2])
def test_a_mismatch_is_parsed_again(monkeypatch: pytest.MonkeyPatch, failures: int) -> None:
    monkeypatch.setattr(ast, "parse", _flaky([MISMATCH] * failures))
    tree = parse_python("import os\n", "m.py")
    assert isinstance(tree.body[0], ast.Import)


def test_three_mismatches_in_a_row_are_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ast, "parse", _flaky([MISMATCH] * 3))
    with pytest.raises(SystemError, match="recursion depth mismatch"):
        parse_python("x = 1\n")


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ast, "parse", _flaky([SystemError("something else")]))
    with pytest.raises(SystemError, match="something else"):
        parse_python("x = 1\n")
    with pytest.raises(SyntaxError):
        parse_python("x = (\n")


def test_eval_mode_gives_an_expression() -> None:
    assert isinstance(parse_python("a + 1", "<e>", "eval").body, ast.BinOp)
