"""Parsing Python source with :mod:`ast`, robust to a CPython 3.11 bug seen in this project.

CPython before 3.11.8 can raise ``SystemError: AST constructor recursion depth mismatch``
from a valid ``ast.parse`` when another thread builds AST objects at the same time: the
converter's recursion counter is shared (python/cpython#106905, fixed by #106906). The
parse itself is sound, so it is repeated; any other error is the caller's to handle.
"""

from __future__ import annotations

import ast
from typing import Literal, overload

__all__ = ["parse_python"]

_ATTEMPTS = 3
_CPYTHON_106905 = "AST constructor recursion depth mismatch"


@overload
def parse_python(
    source: str | bytes, filename: str = ..., mode: Literal["exec"] = ...
) -> ast.Module: ...
@overload
def parse_python(source: str | bytes, filename: str, mode: Literal["eval"]) -> ast.Expression: ...
def parse_python(source: str | bytes, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    """``ast.parse(source, filename, mode)``, repeated when CPython#106905 strikes.

    Raises:
        SyntaxError: the source is not valid Python.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return ast.parse(source, filename=filename, mode=mode)
        except SystemError as error:
            if _CPYTHON_106905 not in str(error) or attempt == _ATTEMPTS:
                raise
    raise AssertionError  # unreachable: the loop returns or raises
