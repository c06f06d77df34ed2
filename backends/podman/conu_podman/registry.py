"""Registry operations: ``podman pull`` and ``podman push``.

Loopback registries (``127.0.0.1:5000/…``, ``localhost:5000/…``, ``[::1]:5000/…``) are used
over plain HTTP (``--tls-verify=false``), as Docker treats them as insecure registries.
A registry that does not have the image raises :class:`~conu.exceptions.ImageNotFound`
("manifest unknown"); any other failure :class:`~conu.exceptions.RegistryError`, with
podman's reason.
"""

from __future__ import annotations

import ipaddress

from conu.exceptions import RegistryError
from conu.utils.reference import Reference
from conu_podman import engine

__all__ = ["REGISTRY_TIMEOUT", "pull", "push", "tls_options"]

REGISTRY_TIMEOUT = 900.0
"""Seconds one ``podman pull`` or ``podman push`` may take."""


def pull(reference: Reference) -> None:
    """Pull ``reference`` (by tag or digest) into podman's storage.

    Raises:
        ImageNotFound: the registry has no such image.
        RegistryError: the registry refused or cannot be reached.
    """
    args = ["pull", "--quiet", *tls_options(reference), str(reference)]
    engine.run(args, what=f"pull {str(reference)!r}", timeout=REGISTRY_TIMEOUT, error=RegistryError)


def push(reference: Reference) -> None:
    """Push the local image named ``reference`` to its registry.

    Raises:
        ImageNotFound: podman holds no image of that name.
        RegistryError: the registry refused the push or cannot be reached.
    """
    args = ["push", "--quiet", *tls_options(reference), str(reference)]
    engine.run(args, what=f"push {str(reference)!r}", timeout=REGISTRY_TIMEOUT, error=RegistryError)


def tls_options(reference: Reference) -> list[str]:
    """Return ``["--tls-verify=false"]`` for a loopback registry, else ``[]``."""
    registry = reference.registry or ""
    if registry.startswith("["):  # [IPv6]:port
        host = registry[1:].partition("]")[0]
    else:
        host = registry.partition(":")[0]
    if host == "localhost":
        return ["--tls-verify=false"]
    try:
        return ["--tls-verify=false"] if ipaddress.ip_address(host).is_loopback else []
    except ValueError:  # a host name, or no registry at all
        return []
