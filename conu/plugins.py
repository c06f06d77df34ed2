"""The backend registry: backends are plugins in the ``conu.backends`` entry-point group.

conu's own Docker backend registers there exactly as a third-party package would::

    [options.entry_points]
    conu.backends =
        docker = conu:DockerBackend
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from conu.exceptions import UnknownBackend

if TYPE_CHECKING:
    from conu.apidefs.backend import Backend

__all__ = ["NAMESPACE", "available_backends", "get_backend"]

NAMESPACE = "conu.backends"


def available_backends() -> list[str]:
    """Return the names of the installed backends, sorted, without importing any of them."""
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group=NAMESPACE)})


def get_backend(name: str) -> type[Backend]:
    """Load the backend class registered under ``name``.

    Args:
        name: the entry-point name, e.g. ``"docker"``.

    Returns:
        the backend class (not an instance).

    Raises:
        UnknownBackend: no backend of that name is installed; the message lists those that are.
        TypeError: ``name`` is not a string.
    """
    if not isinstance(name, str):
        msg = f"backend name must be a str, not {type(name).__name__}"
        raise TypeError(msg)
    from stevedore import DriverManager
    from stevedore.exception import NoMatches

    try:
        manager: DriverManager[Any] = DriverManager(NAMESPACE, name, invoke_on_load=False)
    except NoMatches as exc:
        installed = ", ".join(repr(n) for n in available_backends()) or "none"
        msg = f"no conu backend named {name!r} is installed (installed: {installed})"
        raise UnknownBackend(msg) from exc
    return cast("type[Backend]", manager.driver)
