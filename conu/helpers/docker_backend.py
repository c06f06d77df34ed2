"""conu 1.0's path of :func:`conu.helpers.get_container_output`."""

from conu.helpers import get_container_output

__all__ = ["get_container_output"]
