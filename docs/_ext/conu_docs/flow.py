"""The flow analysis behind :mod:`conu_docs.support`: how calling a method can end.

A function body is evaluated (:mod:`conu_docs.body`) to :class:`~conu_docs.outcomes.Outcomes`.
:class:`Flow` holds what is known of one backend: its classes, which primitives its engine
leaves unimplemented, and the types of values (annotations, class attributes).
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import sys
import textwrap
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from conu.apidefs.engine import Engine
from conu.apidefs.engine_images import ImagePrimitives
from conu.exceptions import UnsupportedOperation
from conu_docs.outcomes import (
    ERR,
    FALL,
    HIT,
    RERAISE,
    RET,
    Env,
    Known,
    Outcomes,
    Value,
    constant,
    function_of,
    is_constant,
)

if TYPE_CHECKING:
    from conu_docs.support import Roles

__all__ = ["PRIMITIVES", "Flow"]

PRIMITIVES = frozenset(
    name
    for cls in (Engine, ImagePrimitives)
    for name in vars(cls)
    if not name.startswith("_") and name not in ("default", "unsupported", "name")
)
"""The engine interface's primitives (its methods and the ``capabilities`` property)."""


_MISSING = object()


@functools.cache
def _parse(func: types.FunctionType) -> ast.FunctionDef:
    node = ast.parse(textwrap.dedent(inspect.getsource(func))).body[0]
    assert isinstance(node, ast.FunctionDef)
    return node


def _conu_classes() -> dict[str, type]:
    """Classes of the loaded conu modules by name; those of conu.apidefs win."""
    found: dict[str, type] = {}
    for name, module in sorted(sys.modules.items(), key=lambda m: "apidefs" in m[0]):
        if not name.startswith("conu.") or module is None:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, type) and obj.__module__.startswith("conu."):
                found[obj.__name__] = obj
    return found


class Flow:
    """Evaluates calls for one backend (see :class:`conu_docs.support.Roles`).

    Args:
        roles: the backend's classes.
        missing: the primitives its engine leaves unimplemented.
        constant_answer: what an engine primitive returns when that is a constant
            (``...`` when it is not).
    """

    def __init__(
        self,
        roles: Roles,
        missing: frozenset[str],
        constant_answer: Callable[[type[Engine], str], object],
    ) -> None:
        self.roles = roles
        self.missing = missing
        self.constant_answer = constant_answer
        self.memo: dict[tuple[Any, ...], Outcomes] = {}
        self.classes = _conu_classes()

    def method(self, cls: type, name: str) -> Outcomes:
        """How calling method ``name`` of a ``cls`` can end; a context manager it returns
        (``mount()``) is entered too, as it is meant to be."""
        func = function_of(inspect.getattr_static(cls, name, None))
        if func is None:
            return Outcomes.of(FALL)
        outcomes = self.call(func, cls)
        returned = self.annotation(func.__annotations__.get("return"), func, cls)
        if returned and returned[0] == "inst":
            enter = function_of(inspect.getattr_static(returned[1], "__enter__", None))
            if enter is not None:
                outcomes = outcomes.replace(RET, FALL).then(self.call(enter, returned[1]))
        return outcomes

    def call(
        self, func: types.FunctionType, self_cls: type | None, known: Known = frozenset()
    ) -> Outcomes:
        """How calling ``func`` (bound to a ``self_cls`` when given) can end; ``known``:
        parameters whose values are constants (``(name, value)``)."""
        from conu_docs.body import Body

        key = (func, self_cls, known)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = Outcomes.of(RET)  # a recursive call: assume it returns
        node = _parse(func)
        env = self._parameters(node, func, self_cls)
        env.update({name: constant(value) for name, value in known})
        owner = _owner(func, self_cls)
        outcomes = Body(self, func, self_cls, owner, env).block(node.body)
        outcomes = outcomes.replace(FALL, RET).replace(RERAISE, ERR)
        self.memo[key] = outcomes
        return outcomes

    def construct(self, cls: type, known: Known = frozenset()) -> Outcomes:
        """How constructing a ``cls`` can end."""
        init = function_of(inspect.getattr_static(cls, "__init__", None))
        if init is None:
            return Outcomes.of(FALL)
        return self.call(init, cls, known).replace(RET, FALL)

    def primitive(self, name: str) -> tuple[Outcomes, Value]:
        """Calling engine primitive ``name``: a HIT when the engine leaves it unimplemented."""
        if name in self.missing:
            return Outcomes.of(HIT, [f"{self.roles.engine.__name__}.{name}"]), None
        answer = self.constant_answer(self.roles.engine, name)
        value: Value = ("none",) if answer is None else None if answer is ... else ("some",)
        return Outcomes.of(FALL), value

    # -- types ----------------------------------------------------------------------------

    def _parameters(self, node: ast.FunctionDef, func: Any, self_cls: type | None) -> Env:
        env: Env = {}
        params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        for index, arg in enumerate(params):
            if index == 0 and self_cls is not None and arg.arg in ("self", "cls"):
                env[arg.arg] = ("inst" if arg.arg == "self" else "cls", self_cls)
            else:
                env[arg.arg] = self.annotation(func.__annotations__.get(arg.arg), func, self_cls)
        return env

    def annotation(self, annotation: Any, func: Any, self_cls: type | None) -> Value:
        """What a value annotated ``annotation`` is (generic classes made the backend's)."""
        if annotation is None:
            return None
        if isinstance(annotation, type):
            return ("inst", self.roles.concrete(annotation))
        try:
            expr = ast.parse(str(annotation), mode="eval").body
        except SyntaxError:
            return None
        return self._annotation_expr(expr, getattr(func, "__globals__", {}), self_cls)

    def _annotation_expr(self, expr: ast.expr, globalns: dict[str, Any], self_cls: Any) -> Value:
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            for side in (expr.left, expr.right):
                found = self._annotation_expr(side, globalns, self_cls)
                if found is not None and found != ("none",):
                    return found
            return None
        if isinstance(expr, ast.Constant) and expr.value is None:
            return ("none",)
        if not isinstance(expr, ast.Name):
            return None
        if expr.id == "Self" and self_cls is not None:
            return ("inst", self_cls)
        cls = globalns.get(expr.id) or self.classes.get(expr.id)
        if isinstance(cls, type):
            return ("inst", self.roles.concrete(cls))
        return None

    def attribute(self, cls: type, name: str) -> Value:
        """What attribute ``name`` of a ``cls`` is known to be."""
        static = inspect.getattr_static(cls, name, _MISSING)
        if static is None:
            return ("none",)
        if static is not _MISSING and isinstance(static, type):
            return ("cls", static)
        if isinstance(static, property) and static.fget is not None:
            return self.annotation(static.fget.__annotations__.get("return"), static.fget, cls)
        if static is _MISSING:
            known = self.roles.by_attribute(name)
            return ("inst", known) if known is not None else None
        if function_of(static) is not None:
            return ("method", cls, name)
        return constant(static) if is_constant(static) else None

    def catches_unsupported(self, handler: ast.ExceptHandler, globalns: dict[str, Any]) -> bool:
        """Tell whether ``handler`` catches UnsupportedOperation."""
        if handler.type is None:
            return True
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for name in names:
            ident = name.id if isinstance(name, ast.Name) else ""
            cls = globalns.get(ident) or getattr(builtins, ident, None)
            if isinstance(cls, type) and issubclass(UnsupportedOperation, cls):
                return True
        return False


def _owner(func: types.FunctionType, cls: type | None) -> type | None:
    """The class of ``cls``'s MRO that defines ``func`` (for ``super()``)."""
    for klass in cls.__mro__ if cls is not None else ():
        for value in vars(klass).values():
            if function_of(value) is func:
                return klass
    return None
