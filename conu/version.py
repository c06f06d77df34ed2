"""conu 1.0's version module (``from conu.version import __version__``)."""

from conu._version import __version__

__all__ = ["__version__"]
