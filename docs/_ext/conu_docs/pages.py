"""The reStructuredText of a backend's reference page, generated from its code.

For each class of the backend (its ``Backend``, ``Container`` and ``Image``, and the run
builder and filesystems they use), in the shape of conu's documented pages: "Aside from
methods in API definition - <generic class>, <class> implements following methods:", the
methods it defines itself, the generic methods it does not implement (every way through them
raises :class:`~conu.exceptions.UnsupportedOperation` on this backend) and those it implements
in part, then an autodoc entry for every method it implements. Nothing is listed by hand:
:mod:`conu_docs.support` reads the code.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

import conu
from conu.apidefs.backend import Backend, Capability
from conu.apidefs.container import Container
from conu.apidefs.filesystem import Filesystem
from conu.apidefs.image import Image
from conu.apidefs.run_builder import RunBuilder
from conu_docs.outcomes import function_of
from conu_docs.support import Support, method_support

__all__ = ["ClassPage", "backend_page", "class_pages"]

_GENERIC = (Backend, Container, Image, Filesystem, RunBuilder)
"""The API definitions: a backend's class is documented against the one it derives from."""


@dataclasses.dataclass(frozen=True)
class ClassPage:
    """What the page says about one class of a backend."""

    cls: type
    generic: type
    implemented: tuple[str, ...]
    """Public methods and properties that work (at least in part), sorted."""
    specific: tuple[str, ...]
    """Those the backend's code defines (not inherited from the API definition)."""
    unsupported: dict[str, Support]
    partly: dict[str, Support]

    @property
    def path(self) -> str:
        """The documented name: ``conu.X`` when conu exports the class, else its module's."""
        if getattr(conu, self.cls.__name__, None) is self.cls:
            return f"conu.{self.cls.__name__}"
        return f"{self.cls.__module__}.{self.cls.__qualname__}"


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _public_members(cls: type) -> list[str]:
    """Public methods and properties of ``cls`` (inherited ones included); no data."""
    names = []
    for name in dir(cls):
        if name.startswith("_") and name != "__init__":
            continue
        static = inspect.getattr_static(cls, name)
        if isinstance(static, property) or function_of(static) is not None:
            names.append(name)
    return sorted(names)


def _definer(cls: type, name: str) -> type:
    return next(klass for klass in cls.__mro__ if name in vars(klass))


def _is_generic(klass: type) -> bool:
    return klass.__module__.startswith("conu.apidefs.")


def class_page(backend: Any, cls: type) -> ClassPage:
    """Work out the page of ``cls``, one of ``backend``'s classes."""
    generic = next(g for g in _GENERIC if issubclass(cls, g))
    names = _public_members(cls)
    methods = [n for n in names if not isinstance(inspect.getattr_static(cls, n), property)]
    support = method_support(backend, cls, methods)
    unsupported = {n: s for n, s in support.items() if s.status == "unsupported"}
    partly = {n: s for n, s in support.items() if s.status == "partly"}
    implemented = tuple(n for n in names if n not in unsupported)
    specific = tuple(n for n in implemented if not _is_generic(_definer(cls, n)))
    return ClassPage(cls, generic, implemented, specific, unsupported, partly)


def class_pages(backend: Any) -> list[ClassPage]:
    """The pages of ``backend``'s classes: Backend, Container, its run builder and
    filesystem, Image and its filesystem (those the backend defines itself)."""
    container, image = backend.ContainerClass, backend.ImageClass
    related = [container.filesystem_class, image.run_builder_class, image.filesystem_class]
    own = [cls for cls in related if cls is not None and not _is_generic(cls)]
    ordered = [backend, container, *own[:2], image, *own[2:]]
    seen: list[type] = []
    for cls in ordered:
        if cls not in seen:
            seen.append(cls)
    return [class_page(backend, cls) for cls in seen]


def _title(cls: type) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", cls.__name__)
    return f"{words}\n{'-' * len(words)}"


def _role(cls: type, name: str) -> str:
    return "attr" if isinstance(inspect.getattr_static(cls, name), property) else "meth"


def _refs(page: ClassPage, names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f":{_role(page.cls, name)}:`~{page.path}.{name}`" for name in names)


def _generic_refs(page: ClassPage, found: dict[str, Support], verb: str) -> list[str]:
    lines = []
    for name, support in sorted(found.items()):
        where = ", ".join(f"``{reason}``" for reason in support.reasons)
        if name == "__init__":
            ref = f":class:`{page.path}` (constructing it)"
        elif hasattr(page.generic, name):  # documented with the API definition
            ref = f":meth:`~{_qualified(page.generic)}.{name}`"
        else:
            ref = f":meth:`~{page.path}.{name}`"
        lines.append(f"   * {ref} — {verb} UnsupportedOperation ({where})")
    return lines


def render(page: ClassPage) -> str:
    """The reStructuredText of one class's section."""
    name, generic = page.cls.__name__, _qualified(page.generic)
    out = [
        _title(page.cls),
        "",
        f"Aside from methods in API definition - :class:`{generic}`, {name} implements"
        " following methods:",
        "",
        f".. autoclass:: {page.path}",
        f"   :members: {', '.join(page.implemented)}",
        "   :member-order: alphabetical",
        "",
        "   These methods are specific to this backend: "
        + (_refs(page, page.specific) or "none")
        + ".",
        "",
        "   These generic methods are not implemented in this backend:"
        + ("" if page.unsupported else " none."),
        "",
        *_generic_refs(page, page.unsupported, "raises"),
        "",
    ]
    if page.partly:
        out += [
            "   These methods are implemented in part: with some arguments (or in some states)"
            " they raise UnsupportedOperation in this backend:",
            "",
            *_generic_refs(page, page.partly, "may raise"),
            "",
        ]
    return "\n".join(out)


def _engine_section(backend: Any) -> str:
    """The engine's section: its class, and the capabilities it declares here."""
    engine = backend.engine_class
    prop = inspect.getattr_static(engine, "capabilities")
    declared = sorted(c.name for c in prop.fget(object.__new__(engine)))
    missing = sorted(c.name for c in Capability if c.name not in declared)
    title = f"The engine: {engine.__name__}"
    return "\n".join(
        [
            title,
            "-" * len(title),
            "",
            f".. autoclass:: {_qualified(engine)}",
            "",
            "   Capabilities (:class:`~conu.apidefs.backend.Capability`) it declares on the"
            " machine that built this page: "
            + (", ".join(f"``{c}``" for c in declared) or "none")
            + "; not declared: "
            + (", ".join(f"``{c}``" for c in missing) or "none")
            + ".",
            "",
            f"   .. autoproperty:: {_qualified(engine)}.capabilities",
            "",
        ]
    )


def backend_page(name: str) -> str:
    """The reStructuredText of the backend registered as ``name`` (sections, no title)."""
    backend = conu.get_backend(name)
    parts = [render(page) for page in class_pages(backend)]
    return "\n\n".join([*parts, _engine_section(backend)])
