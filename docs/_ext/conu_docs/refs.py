"""Python cross-references Sphinx cannot resolve by name, resolved by what they name.

Docstrings refer to objects by the names they are imported under (``docker.APIClient``,
``CleanupPolicy`` in a module that imports it) and to conu's private modules and helpers
that this site does not document. For such a reference, the named object is imported:

* when its canonical name (``module.qualname``) is documented here or in an intersphinx
  inventory, the reference links there;
* when it is a conu object the site does not document, it is shown as code, unlinked;
* otherwise (nothing by that name exists: a typo, a removed object) the reference stays
  unresolved, and ``nitpicky`` makes that an error.
"""

from __future__ import annotations

import functools
import importlib
import types
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.ext import intersphinx

__all__ = ["find_object", "resolve_by_object"]


@functools.cache
def find_object(name: str) -> Any:
    """Import the object ``name`` (``package.module.Class.attr``); None when there is none."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return None
        return obj
    return None


def _canonical(obj: Any) -> str | None:
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


def _candidates(node: pending_xref) -> list[str]:
    target = str(node["reftarget"]).lstrip(".~")
    module, cls = node.get("py:module"), node.get("py:class")
    names = [target]
    if module:
        names.append(f"{module}.{target}")
        if cls:
            names.append(f"{module}.{cls}.{target}")
            # A class documented under another name (``conu.DockerImage``): the names of
            # the module that defines it.
            defined_in = getattr(find_object(f"{module}.{cls}"), "__module__", None)
            if isinstance(defined_in, str) and defined_in != module:
                names.append(f"{defined_in}.{target}")
    return names


def resolve_by_object(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.TextElement
) -> nodes.Node | None:
    """The ``missing-reference`` handler (see the module docstring)."""
    if node.get("refdomain") != "py":
        return None
    for name in _candidates(node):
        obj = find_object(name)
        if obj is None:
            continue
        canonical = _canonical(obj)
        if canonical and canonical != name:
            retry = node.deepcopy()
            retry["reftarget"] = canonical
            domain = env.get_domain("py")
            found = domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], canonical, retry, contnode
            ) or intersphinx.missing_reference(app, env, retry, contnode)
            if found is not None:
                return found
        if (canonical or name).startswith("conu"):
            return nodes.literal(contnode.astext(), contnode.astext())
    return None
