"""A small Sphinx project over the installed docker SDK, built once by scripts/docs-deps.sh
only for its objects.inv: the SDK's releases on PyPI carry no documentation sources.

Its pages have the names of the SDK's published documentation (client, api, containers,
images, tls) and hold the same objects, so the inventory's addresses resolve there.
"""

project = "docker SDK for Python (inventory)"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
autodoc_typehints = "none"
exclude_patterns = ["_build"]
