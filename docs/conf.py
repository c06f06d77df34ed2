"""Sphinx configuration of conu's documentation (``make docs``).

Intersphinx reads local inventories only (nothing is downloaded at build time): Python's
from Debian's python3.X-doc, the docker SDK's built once from the installed SDK by
scripts/docs-deps.sh. The backend reference pages are generated from the code by the
``conu_docs`` extension in ``_ext``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import docker

import conu

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "conu"
author = "conu developers"
copyright = "conu developers"
release = conu.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "conu_docs",
]
exclude_patterns = ["_build", "_inventories", "_ext"]
nitpicky = True
default_role = "py:obj"

autodoc_member_order = "bysource"
autodoc_class_signature = "mixed"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True  # PullPolicy.NEVER, not <PullPolicy.NEVER: 2>
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_include_init_with_doc = False

# No local inventory exists for these (and nothing may be downloaded): named, not linked.
nitpick_ignore_regex = [
    ("py:class", r"requests\..*"),
]

html_theme = "alabaster"
html_title = f"conu {release}"
html_static_path: list[str] = []


def _python_inventory() -> str:
    """Debian's copy of Python's objects.inv (package python3.X-doc)."""
    major_minor = "{}.{}".format(*sys.version_info[:2])
    for candidate in (
        f"/usr/share/doc/python{major_minor}/html/objects.inv",
        f"/usr/share/doc/python{major_minor}-doc/html/objects.inv",
        "/usr/share/doc/python3-doc/html/objects.inv",
    ):
        if os.path.isfile(candidate):
            return candidate
    msg = f"no local objects.inv of Python {major_minor}: run scripts/docs-deps.sh"
    raise RuntimeError(msg)


def _docker_inventory() -> str:
    """The docker SDK's objects.inv, built from the installed SDK by scripts/docs-deps.sh."""
    default = "/var/cache/conu-docs" if os.geteuid() == 0 else "~/.cache/conu-docs"
    cache = os.path.expanduser(os.environ.get("CONU_DOCS_CACHE", default))
    path = os.path.join(cache, f"docker-{docker.__version__}", "objects.inv")
    if not os.path.isfile(path):
        msg = f"no {path}: run scripts/docs-deps.sh"
        raise RuntimeError(msg)
    return path


intersphinx_mapping = {
    "python": ("https://docs.python.org/3.11/", _python_inventory()),
    "docker": ("https://docker-py.readthedocs.io/en/stable/", _docker_inventory()),
}
