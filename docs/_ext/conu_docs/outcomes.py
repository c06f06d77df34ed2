"""How a piece of code can end, and what is known about a value, for :mod:`conu_docs.flow`."""

from __future__ import annotations

import ast
import enum
import importlib
import types
from collections.abc import Iterable
from typing import Any

__all__ = [
    "ERR",
    "FALL",
    "HIT",
    "RERAISE",
    "RET",
    "Env",
    "Known",
    "Outcomes",
    "Value",
    "compare",
    "constant",
    "function_of",
    "is_constant",
    "raises_unsupported",
]

HIT, ERR, RET, FALL, RERAISE = "hit", "err", "ret", "fall", "reraise"
"""UnsupportedOperation raised; another error raised; returned; went on to the next statement;
a bare ``raise`` (what it re-raises is decided by the ``try`` around it)."""

Value = tuple[Any, ...] | None
"""What an expression is known to be: ``("inst", cls)``, ``("cls", cls)``, ``("mod", module)``,
``("func", function)``, ``("method", cls, name)``, ``("super", owner, cls)``, ``("none",)``,
``("const", value)``, ``("some",)`` for a value that is not None, or None when nothing is
known."""

Env = dict[str, Value]
"""The local names of a function body and what they are known to be."""

Known = frozenset[tuple[str, Any]]
"""Parameters of a call whose values are constants: ``(name, value)`` pairs."""

_CONSTANTS = (bool, int, float, str, bytes, enum.Enum)


def constant(value: Any) -> Value:
    """What a constant value is known to be."""
    return ("none",) if value is None else ("const", value)


def is_constant(value: Any) -> bool:
    """Tell whether ``value`` is a constant worth knowing (None, a number, a string, an
    enum member)."""
    return value is None or isinstance(value, _CONSTANTS)


class Outcomes(dict[str, frozenset[str]]):
    """The ways code can end; ``HIT`` maps to what raised UnsupportedOperation."""

    @classmethod
    def of(cls, kind: str, reasons: Iterable[str] = ()) -> Outcomes:
        return cls({kind: frozenset(reasons)})

    @property
    def returns(self) -> bool:
        """Some way through ends normally."""
        return RET in self or FALL in self

    def alt(self, other: Outcomes) -> Outcomes:
        """Either this or ``other``."""
        merged = Outcomes(self)
        for kind, reasons in other.items():
            merged[kind] = merged.get(kind, frozenset()) | reasons
        return merged

    def then(self, other: Outcomes) -> Outcomes:
        """This, then ``other`` where this falls through."""
        if FALL not in self:
            return self
        return self.without(FALL).alt(other)

    def maybe(self) -> Outcomes:
        """This or nothing (code that may not run)."""
        return Outcomes.of(FALL).alt(self)

    def without(self, kind: str) -> Outcomes:
        return Outcomes({k: v for k, v in self.items() if k != kind})

    def replace(self, kind: str, by: str) -> Outcomes:
        """``kind`` endings become ``by`` endings (with their reasons)."""
        if kind not in self:
            return self
        return self.without(kind).alt(Outcomes.of(by, self[kind]))


def function_of(obj: Any) -> types.FunctionType | None:
    """The conu function behind a method, classmethod, staticmethod or decorated function."""
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    while hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    if isinstance(obj, types.FunctionType) and obj.__module__.startswith("conu"):
        return obj
    return None


def value_of_object(obj: Any) -> Value:
    """What a module-level object is: a module, a class or a conu function."""
    if isinstance(obj, types.ModuleType):
        return ("mod", obj)
    if isinstance(obj, type):
        return ("cls", obj)
    func = function_of(obj)
    return ("func", func) if func is not None else None


def imported(module: str, name: str) -> Value:
    """What ``from module import name`` binds (None when it cannot be imported)."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    obj = getattr(found, name, None)
    if obj is not None:
        return value_of_object(obj)
    try:
        return ("mod", importlib.import_module(f"{module}.{name}"))
    except ImportError:
        return None


def compare(op: ast.cmpop, left: Value, right: Value) -> bool | None:
    """Decide ``left <op> right`` (``is``, ``is not``, ``==``, ``!=``) for known values."""
    if left is None or right is None or not isinstance(op, ast.Is | ast.IsNot | ast.Eq | ast.NotEq):
        return None
    kinds = {left[0], right[0]}
    if kinds <= {"none", "const"}:
        a = None if left[0] == "none" else left[1]
        b = None if right[0] == "none" else right[1]
        same = a is b if isinstance(op, ast.Is | ast.IsNot) else a == b
    elif "none" in kinds and kinds & {"inst", "cls", "some"}:
        same = False
    else:
        return None
    return same if isinstance(op, ast.Is | ast.Eq) else not same


def raises_unsupported(node: ast.expr | None) -> bool:
    """Tell whether ``raise <node>`` raises UnsupportedOperation: ``x.unsupported(...)``,
    ``x._unsupported(...)`` or ``UnsupportedOperation(...)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr in ("unsupported", "_unsupported")
    return isinstance(func, ast.Name) and func.id == "UnsupportedOperation"
