"""Which methods of a backend's classes work, derived from the code (no list kept by hand).

A backend is an :class:`~conu.apidefs.engine.Engine` plus thin ``Backend``, ``Container``
and ``Image`` classes; the generic methods are written once over the engine's primitives.
So a method does not work on a backend when every way through it (short of another error)
ends in :class:`~conu.exceptions.UnsupportedOperation`: a primitive the engine leaves
unimplemented (its body only raises ``self.unsupported(...)``), or an explicit
``raise ...unsupported(...)`` in the method or in what it calls.

The methods' source is read (:mod:`ast`) and their calls followed (:mod:`conu_docs.flow`):
to methods of ``self`` (resolved on the backend's class), to functions of conu modules, to
objects whose class is known (parameters, attributes and results annotated with a conu class;
generic classes stand for the backend's own) and to engine primitives. A method that returns
a context manager (``mount()``) is followed into its ``__enter__``. Tests of a value known to
be None or not (``self.engine is None``, an engine's constant ``cli_command()``) are decided;
other branches count as possible.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

from conu.apidefs.engine import Engine
from conu_docs.flow import PRIMITIVES, Flow
from conu_docs.outcomes import HIT, raises_unsupported

__all__ = ["PRIMITIVES", "Roles", "Support", "method_support", "unsupported_primitives"]


@dataclasses.dataclass(frozen=True)
class Support:
    """How a method fares on a backend."""

    status: str
    """``implemented``, ``partly`` (some ways through it raise UnsupportedOperation) or
    ``unsupported`` (every way does, short of another error)."""
    reasons: tuple[str, ...] = ()
    """Where UnsupportedOperation is raised: ``<Engine>.<primitive>`` or a function."""


@dataclasses.dataclass(frozen=True)
class Roles:
    """The classes of one backend; generic classes in annotations stand for these."""

    backend: type
    engine: type[Engine]
    container: type
    image: type
    container_fs: type
    image_fs: type

    @classmethod
    def of(cls, backend: Any) -> Roles:
        """The roles of ``backend``, a :class:`~conu.apidefs.backend.Backend` subclass."""
        from conu.apidefs.filesystem import ContainerFilesystem

        container, image = backend.ContainerClass, backend.ImageClass
        return cls(
            backend=backend,
            engine=backend.engine_class,
            container=container,
            image=image,
            container_fs=container.filesystem_class or ContainerFilesystem,
            image_fs=image.filesystem_class,
        )

    def concrete(self, cls: type) -> type:
        """The backend's class for generic ``cls`` (``Image`` → ``DockerImage``), or ``cls``."""
        for candidate in dataclasses.astuple(self):
            if issubclass(candidate, cls):
                return candidate
        return cls

    def by_attribute(self, name: str) -> type | None:
        """The class of an instance attribute known by its name only (``self.engine``)."""
        return {"engine": self.engine, "image": self.image, "container": self.container}.get(name)


@functools.cache
def _body(func: Callable[..., Any]) -> list[ast.stmt]:
    """The statements of ``func`` without its docstring."""
    node = ast.parse(textwrap.dedent(inspect.getsource(func))).body[0]
    assert isinstance(node, ast.FunctionDef)
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


def _primitive(engine: type[Engine], name: str) -> Any:
    func = inspect.getattr_static(engine, name)
    return None if isinstance(func, property) or not callable(func) else func


def unsupported_primitives(engine: type[Engine]) -> frozenset[str]:
    """Return the primitives ``engine`` leaves unimplemented: the implementation it inherits
    or defines is only ``raise self.unsupported(...)``."""
    missing = set()
    for name in PRIMITIVES:
        func = _primitive(engine, name)
        body = _body(func) if func is not None else []
        if len(body) == 1 and isinstance(body[0], ast.Raise) and raises_unsupported(body[0].exc):
            missing.add(name)
    return frozenset(missing)


def constant_answer(engine: type[Engine], name: str) -> object:
    """What primitive ``name`` of ``engine`` returns when its body is one ``return`` of a
    constant (``None``...) or of a list display (a non-None marker then); else ``...``."""
    func = _primitive(engine, name)
    body = _body(func) if func is not None else []
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return ...
    value = body[0].value
    if value is None:
        return None
    if isinstance(value, ast.Constant):
        return value.value
    if isinstance(value, ast.List | ast.Tuple):
        return [...]
    return ...


@functools.cache
def _flow(backend: Any) -> Flow:
    """One analysis per backend: what it learns of shared functions is kept."""
    roles = Roles.of(backend)
    return Flow(roles, unsupported_primitives(roles.engine), constant_answer)


def method_support(backend: Any, cls: type, names: Iterable[str]) -> dict[str, Support]:
    """Return the :class:`Support` of each method ``names`` of ``cls`` (the backend's
    ``Backend``, ``Container`` or ``Image`` class) on ``backend``."""
    flow = _flow(backend)
    found = {}
    for name in names:
        outcomes = flow.method(cls, name)
        hits = outcomes.get(HIT)
        if hits is None:
            found[name] = Support("implemented")
        else:
            status = "partly" if outcomes.returns else "unsupported"
            found[name] = Support(status, tuple(sorted(hits)))
    return found
