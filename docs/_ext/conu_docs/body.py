"""Evaluating one function body to :class:`~conu_docs.outcomes.Outcomes` (for :mod:`flow`)."""

from __future__ import annotations

import ast
import inspect
import types
from typing import TYPE_CHECKING, Any

from conu.apidefs.engine import Engine
from conu_docs.flow import PRIMITIVES
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
    compare,
    constant,
    function_of,
    imported,
    is_constant,
    raises_unsupported,
    value_of_object,
)

if TYPE_CHECKING:
    from conu_docs.flow import Flow

__all__ = ["Body"]


class Body:
    """The evaluation of one function's body."""

    def __init__(
        self,
        flow: Flow,
        func: types.FunctionType,
        self_cls: type | None,
        owner: type | None,
        env: Env,
    ) -> None:
        self.flow = flow
        self.func = func
        self.globals: dict[str, Any] = func.__globals__
        self.self_cls = self_cls
        self.owner = owner
        self.env = env

    # -- statements -----------------------------------------------------------------------

    def block(self, statements: list[ast.stmt]) -> Outcomes:
        outcomes = Outcomes.of(FALL)
        for statement in statements:
            if FALL not in outcomes:
                break
            outcomes = outcomes.then(self.statement(statement))
        return outcomes

    def statement(self, node: ast.stmt) -> Outcomes:
        if isinstance(node, ast.Return):
            return self.expr(node.value).replace(FALL, RET)
        if isinstance(node, ast.Raise):
            return self._raise(node)
        if isinstance(node, ast.If):
            return self._if(node)
        if isinstance(node, ast.For | ast.AsyncFor):
            self.bind(node.target, None)
            return self.expr(node.iter).then(self.block(node.body).maybe())
        if isinstance(node, ast.While):
            return self.expr(node.test).then(self.block(node.body).maybe())
        if isinstance(node, ast.With | ast.AsyncWith):
            outcomes = Outcomes.of(FALL)
            for item in node.items:
                outcomes = outcomes.then(self.expr(item.context_expr))
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, None)
            return outcomes.then(self.block(node.body))
        if isinstance(node, ast.Try):
            return self._try(node)
        if isinstance(node, ast.Assign | ast.AnnAssign):
            outcomes = self.expr(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                self.bind(target, self.value(node.value) if node.value else None)
            return outcomes
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                self.env[alias.asname or alias.name] = imported(node.module, alias.name)
            return Outcomes.of(FALL)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.env[node.name] = None
            return Outcomes.of(FALL)
        return self.children(node)

    def bind(self, target: ast.expr, value: Value) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.bind(element, None)

    def _raise(self, node: ast.Raise) -> Outcomes:
        if node.exc is None:
            return Outcomes.of(RERAISE)
        outcomes = self.children(node.exc)
        if raises_unsupported(node.exc):
            where = self.func.__qualname__
            if "." not in where:  # a module's function: name its module too
                where = f"{self.func.__module__.rsplit('.', 1)[-1]}.{where}"
            return outcomes.then(Outcomes.of(HIT, [where]))
        return outcomes.then(Outcomes.of(ERR))

    def _if(self, node: ast.If) -> Outcomes:
        outcomes = self.expr(node.test)
        decided = self.decide(node.test)
        if decided is True:
            return outcomes.then(self.block(node.body))
        if decided is False:
            return outcomes.then(self.block(node.orelse))
        return outcomes.then(self.block(node.body).alt(self.block(node.orelse)))

    def _try(self, node: ast.Try) -> Outcomes:
        outcomes = self.block(node.body)
        if HIT in outcomes:
            for handler in node.handlers:
                if self.flow.catches_unsupported(handler, self.globals):
                    caught = Outcomes.of(HIT, outcomes[HIT])
                    handled = self.block(handler.body).replace(RERAISE, HIT)
                    if HIT in handled:  # re-raised: the reasons are the try body's
                        handled = handled.without(HIT).alt(caught)
                    outcomes = outcomes.without(HIT).alt(handled)
                    break
        outcomes = outcomes.then(self.block(node.orelse))
        if node.finalbody:
            final = self.block(node.finalbody)
            outcomes = final.without(FALL).alt(outcomes) if FALL in final else final
        return outcomes

    # -- expressions ----------------------------------------------------------------------

    def children(self, node: ast.AST) -> Outcomes:
        """Evaluate the sub-expressions of ``node`` in order."""
        outcomes = Outcomes.of(FALL)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                outcomes = outcomes.then(self.expr(child))
        return outcomes

    def expr(self, node: ast.expr | None) -> Outcomes:
        if node is None:
            return Outcomes.of(FALL)
        if isinstance(node, ast.Call):
            return self.children(node).then(self.call(node)[0])
        if isinstance(node, ast.Lambda):
            return self.expr(node.body).maybe()
        if isinstance(node, ast.BoolOp):
            rest = Outcomes.of(FALL)
            for value in node.values[1:]:
                rest = rest.then(self.expr(value))
            return self.expr(node.values[0]).then(rest.maybe())
        if isinstance(node, ast.IfExp):
            return self.expr(node.test).then(self.expr(node.body).alt(self.expr(node.orelse)))
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            first = self.expr(node.generators[0].iter)
            for generator in node.generators:
                self.bind(generator.target, None)
            rest = Outcomes.of(FALL)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    rest = rest.then(self.expr(child))
            return first.then(rest.maybe())
        return self.children(node)

    def decide(self, test: ast.expr) -> bool | None:
        """Decide ``test`` when it is about values known to be None, or constants."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.decide(test.operand)
            return None if inner is None else not inner
        if isinstance(test, ast.BoolOp):
            answers = [self.decide(value) for value in test.values]
            stop = isinstance(test.op, ast.Or)  # the answer that decides the whole
            if stop in answers:
                return stop
            return None if None in answers else not stop
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            return compare(test.ops[0], self.value(test.left), self.value(test.comparators[0]))
        known = self.value(test)
        if known is None or known[0] not in ("none", "const", "inst", "cls", "some"):
            return None
        return bool(known[1]) if known[0] == "const" else known[0] != "none"

    def value(self, node: ast.expr) -> Value:
        """What ``node`` is known to be."""
        if isinstance(node, ast.Constant):
            return constant(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            return value_of_object(self.globals.get(node.id))
        if isinstance(node, ast.Attribute):
            owner = self.value(node.value)
            if owner and owner[0] in ("inst", "cls"):
                return self.flow.attribute(owner[1], node.attr)
            if owner and owner[0] == "mod":
                return value_of_object(getattr(owner[1], node.attr, None))
            return None
        if isinstance(node, ast.Call):
            return self.call(node, evaluate=False)[1]
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            for operand in node.values:
                found = self.value(operand)
                if found is None or found[0] != "none":
                    return found
        return None

    # -- calls ----------------------------------------------------------------------------

    def call(self, node: ast.Call, evaluate: bool = True) -> tuple[Outcomes, Value]:
        """How the call itself can end (its arguments aside) and what it returns."""
        func = node.func
        if isinstance(func, ast.Name) and func.id == "cast" and len(node.args) == 2:
            return Outcomes.of(FALL), self.value(node.args[1])
        if isinstance(func, ast.Name) and func.id == "type" and len(node.args) == 1:
            found = self.value(node.args[0])
            return Outcomes.of(FALL), ("cls", found[1]) if found and found[0] == "inst" else None
        if isinstance(func, ast.Name) and func.id == "super":
            return Outcomes.of(FALL), ("super", self.owner, self.self_cls)
        if isinstance(func, ast.Attribute):
            target = self.value(func.value)
            if target and target[0] == "super":
                return self._super(target, func.attr, node)
            engine = target and target[0] == "inst" and issubclass(target[1], Engine)
            if engine and func.attr in PRIMITIVES:
                return self.flow.primitive(func.attr)
        return self._invoke(self.value(func), node)

    def _super(self, target: tuple[Any, ...], name: str, node: ast.Call) -> tuple[Outcomes, Value]:
        _, owner, cls = target
        if owner is None or cls is None:
            return Outcomes.of(FALL), None
        mro = cls.__mro__
        for klass in mro[mro.index(owner) + 1 :]:
            if name in vars(klass):
                func = function_of(vars(klass)[name])
                if func is None:
                    break
                return self._called(func, cls, node)
        return Outcomes.of(FALL), None

    def _invoke(self, target: Value, node: ast.Call) -> tuple[Outcomes, Value]:
        if target is None:
            return Outcomes.of(FALL), None
        if target[0] == "cls":
            cls = self.flow.roles.concrete(target[1])
            init = function_of(inspect.getattr_static(cls, "__init__", None))
            known = self.known(init, cls, node) if init else frozenset()
            return self.flow.construct(cls, known), ("inst", cls)
        if target[0] == "func":
            return self._called(target[1], None, node)
        if target[0] == "method":
            _, cls, name = target
            func = function_of(inspect.getattr_static(cls, name))
            assert func is not None
            return self._called(func, cls, node)
        return Outcomes.of(FALL), None

    def _called(
        self, func: types.FunctionType, cls: type | None, node: ast.Call
    ) -> tuple[Outcomes, Value]:
        outcomes = self.flow.call(func, cls, self.known(func, cls, node)).replace(RET, FALL)
        returned = self.flow.annotation(func.__annotations__.get("return"), func, cls)
        return outcomes, returned

    def known(self, func: types.FunctionType, cls: type | None, node: ast.Call) -> Known:
        """The parameters of ``func`` that the call ``node`` makes constants: arguments
        known to be constants, and the constant defaults of parameters it does not pass."""
        params = list(inspect.signature(func).parameters.values())
        if cls is not None and params and params[0].name in ("self", "cls"):
            params = params[1:]
        values: dict[str, Value] = {}
        for param, arg in zip(params, node.args, strict=False):
            if isinstance(arg, ast.Starred) or param.kind is param.VAR_POSITIONAL:
                break
            values[param.name] = self.value(arg)
        for keyword in node.keywords:
            if keyword.arg is not None:
                values[keyword.arg] = self.value(keyword.value)
        found = set()
        for param in params:
            if param.name in values:
                value = values[param.name]
                if value is not None and value[0] in ("none", "const"):
                    found.add((param.name, None if value[0] == "none" else value[1]))
            elif param.default is not param.empty and is_constant(param.default):
                found.add((param.name, param.default))
        return frozenset(found)
