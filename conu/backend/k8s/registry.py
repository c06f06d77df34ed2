"""What a registry says about an image: its manifest and its config (Docker Registry HTTP
API v2 / OCI distribution), read without any engine.

A cluster runs images by reference and keeps no image documents the API shows, so the
Kubernetes backend reads labels, environment, command and ports where the nodes get the
image from. Anonymous access and bearer-token challenges are handled; loopback registries
are spoken to over plain HTTP (as Docker and containerd treat them), others over HTTPS.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

import attrs

from conu.exceptions import ImageNotFound, RegistryError
from conu.utils.reference import Reference

__all__ = ["MANIFEST_TYPES", "RegistryClient", "RemoteImage"]

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
_INDEXES = MANIFEST_TYPES[2:]
_DOCKER_HUB = "registry-1.docker.io"
TIMEOUT = 30.0
"""Seconds a registry may take to answer."""


@attrs.frozen
class RemoteImage:
    """An image as its registry describes it."""

    reference: Reference
    """The reference asked for."""
    digest: str
    """Digest of the (platform's) manifest, ``sha256:…``."""
    manifest: dict[str, Any]
    """The manifest."""
    config: dict[str, Any]
    """The image config (``config``, ``history``, ``rootfs``...)."""

    @property
    def id(self) -> str:
        """The image id: the config's digest, as Docker and containerd name it."""
        return str(self.manifest["config"]["digest"])

    @property
    def pinned(self) -> str:
        """``registry/repository@digest``: what a pod runs to get exactly this image."""
        return f"{self.reference.name}@{self.digest}"


def _is_loopback(registry: str) -> bool:
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RegistryClient:
    """Reads manifests and configs; one ``requests`` session, tokens kept per scope."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        import requests

        self.timeout = timeout
        self.session = requests.Session()
        self._tokens: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def _base(self, ref: Reference) -> tuple[str, str]:
        registry = ref.registry or _DOCKER_HUB
        repository = ref.repository
        if ref.registry is None and "/" not in repository:
            repository = f"library/{repository}"
        scheme = "http" if _is_loopback(registry) else "https"
        return f"{scheme}://{registry}/v2/{repository}", repository

    def _get(self, ref: Reference, path: str, accept: str) -> Any:
        import requests

        base, repository = self._base(ref)
        url = f"{base}/{path}"
        key = (ref.registry or _DOCKER_HUB, repository)
        headers = {"Accept": accept}
        try:
            for _ in range(2):
                token = self._tokens.get(key)
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                response = self.session.get(url, headers=headers, timeout=self.timeout)
                challenge = response.headers.get("WWW-Authenticate", "")
                if response.status_code != 401 or not challenge.lower().startswith("bearer"):
                    break
                self._tokens[key] = self._token(challenge)
        except requests.RequestException as exc:
            msg = f"registry {key[0]!r} cannot be reached for {ref}: {exc}"
            raise RegistryError(msg) from exc
        if response.status_code == 404:
            raise ImageNotFound(f"registry {key[0]!r} has no image {ref}")
        if not response.ok:
            msg = f"registry {key[0]!r} refused {ref}: {response.status_code} {response.text[:200]}"
            raise RegistryError(msg)
        return response

    def _token(self, challenge: str) -> str:
        """Fetch an anonymous token for a ``Bearer realm=...,service=...,scope=...`` challenge."""
        fields = dict(
            part.strip().split("=", 1)
            for part in challenge[len("Bearer ") :].split(",")
            if "=" in part
        )
        fields = {k: v.strip('"') for k, v in fields.items()}
        realm = fields.pop("realm", "")
        response = self.session.get(realm, params=fields, timeout=self.timeout)
        if not response.ok:
            raise RegistryError(
                f"the registry's token service {realm!r} refused: {response.status_code}"
            )
        body = response.json()
        return str(body.get("token") or body.get("access_token") or "")

    def describe(self, ref: Reference) -> RemoteImage:
        """Return the manifest (for linux/amd64 from an index) and the config of ``ref``.

        Raises:
            ImageNotFound: the registry has no such image.
            RegistryError: it cannot be reached or refused.
        """
        response = self._get(
            ref, f"manifests/{ref.digest or ref.tag or 'latest'}", ",".join(MANIFEST_TYPES)
        )
        manifest = response.json()
        digest = response.headers.get("Docker-Content-Digest") or ref.digest or ""
        if manifest.get("mediaType") in _INDEXES or "manifests" in manifest:
            chosen = _platform(manifest.get("manifests") or [])
            response = self._get(
                ref, f"manifests/{chosen['digest']}", chosen.get("mediaType", MANIFEST_TYPES[0])
            )
            manifest, digest = response.json(), chosen["digest"]
        config = self._get(ref, f"blobs/{manifest['config']['digest']}", "*/*").json()
        return RemoteImage(reference=ref, digest=digest, manifest=manifest, config=config)


def _platform(entries: list[dict[str, Any]]) -> dict[str, Any]:
    for entry in entries:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return entry
    if not entries:
        raise ImageNotFound("the registry's image index lists no image")
    return entries[0]
