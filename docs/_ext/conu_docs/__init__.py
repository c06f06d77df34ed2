"""Sphinx extension of conu's documentation: backend reference pages generated from the code.

``.. conu-backend:: docker`` writes the sections of the backend registered as ``docker``
(see :mod:`conu_docs.pages`) where it stands, at every build.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from conu_docs.refs import resolve_by_object

__all__ = ["BackendDirective", "setup"]


class BackendDirective(SphinxDirective):
    """``.. conu-backend:: NAME``: the generated sections of backend ``NAME``."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {}

    def run(self) -> list[nodes.Node]:
        from conu_docs.pages import backend_page

        text = backend_page(self.arguments[0])
        # The page is rebuilt when any code it is derived from changes.
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if path and module.__name__.startswith(("conu.", "conu_docs")):
                self.env.note_dependency(path)
        return self.parse_text_to_nodes(text, allow_section_headings=True)


def plain_attribute_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Keep napoleon from reading the first line of conu's attribute and property docstrings
    as ``type: description``: conu writes prose there ("What this engine offers, as reached
    now (computed per instance: ...)"), never a type. An empty type before the first colon
    makes napoleon take the whole line as the description."""
    prose = what in ("attribute", "data", "property") and name.startswith("conu.")
    if prose and lines and ":" in lines[0] and not lines[0].startswith(":"):
        lines[0] = f": {lines[0]}"


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("conu-backend", BackendDirective)
    # Before napoleon's handler (priority 500), which parses these docstrings.
    app.connect("autodoc-process-docstring", plain_attribute_docstring, priority=400)
    # After intersphinx's handler: only what neither this site nor an inventory resolves.
    app.connect("missing-reference", resolve_by_object, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
