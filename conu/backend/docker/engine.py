"""The Docker engine: conu's primitives over docker-py's low-level ``APIClient``.

:class:`DockerEngine` combines the primitives of
:mod:`~conu.backend.docker.engine_containers`, :mod:`~conu.backend.docker.engine_files` and
:mod:`~conu.backend.docker.engine_images`; this module adds the engine itself (capabilities,
states, addresses) and the session resources. Every call to the engine goes through the one
error boundary of :mod:`~conu.backend.docker.engine_boundary`. Importing this module does
not import ``docker``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from conu.apidefs.backend import Capability
from conu.apidefs.engine import RESOURCE_KINDS, Engine
from conu.apidefs.specs import ContainerInfo, ContainerState, RunSpec
from conu.backend.docker.engine_containers import ContainerPrimitives
from conu.backend.docker.engine_files import FilePrimitives
from conu.backend.docker.engine_images import ImagePrimitives
from conu.backend.docker.engine_mapping import state_of
from conu.backend.docker.network import engine_host, engine_is_local
from conu.exceptions import Conflict, ConuException, InvalidArgument, NotFound, RegistryError
from conu.labels import SESSION_LABEL
from conu.utils.net import Endpoint

__all__ = ["DockerEngine"]

THREADS = 8
"""Containers removed in parallel by :meth:`DockerEngine.remove_session`."""
_WILDCARDS = ("", "0.0.0.0", "::")


class DockerEngine(ContainerPrimitives, FilePrimitives, ImagePrimitives, Engine):
    """The Docker engine reached through the process-wide client of
    :func:`conu.backend.docker.client.get_client` (``DOCKER_HOST`` etc., like the CLI)."""

    name: ClassVar[str] = "docker"

    # -- the engine itself ----------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Everything :class:`~conu.apidefs.backend.Capability` names."""
        return frozenset(Capability)

    def container_state(self, raw: str | None) -> ContainerState:
        """Map Docker's ``State.Status`` (``"running"``, ``"exited"``...) onto a state."""
        return state_of(raw)

    def container_address(self, info: ContainerInfo, port: int) -> Endpoint:
        """Return where the caller reaches ``port`` of the container ``info`` describes.

        With ``--network host``: the engine's host. With a local engine: the container's
        first IP. Otherwise the port published on the engine's host (``proxied``).

        Raises:
            ConuException: the engine is remote (or the container has no IP) and the port
                is not published.
        """
        if info.network_mode == "host":
            return Endpoint(engine_host(), port)
        if info.ipv4_addresses and engine_is_local():
            return Endpoint(info.ipv4_addresses[0], port)
        for binding in info.ports.get(f"{port}/tcp") or ():
            if binding.host_port:
                host = engine_host() if binding.host_ip in _WILDCARDS else binding.host_ip
                return Endpoint(host, binding.host_port, proxied=True)
        msg = (
            f"port {port} of container {info.name or info.id!r} cannot be reached from here: "
            "the engine is remote (or the container has no IP) and the port is not published"
        )
        raise ConuException(msg)

    def cli_command(self) -> list[str] | None:
        """Return ``["docker"]``."""
        return ["docker"]

    def run_options_spec(
        self, image_id: str, options: Sequence[str], command: Sequence[str]
    ) -> RunSpec | None:
        """Return what ``docker run -d <options> <image_id> <command>`` creates, when every
        option maps exactly onto the API (:mod:`conu.backend.docker.cli_equivalent`); None
        otherwise, or when ``$CONU_RUN_VIA_BINARY`` is ``cli``: the client runs then."""
        from conu.backend.docker.cli_equivalent import run_spec

        return run_spec(image_id, options, command)

    # -- Docker's own extras (not engine primitives) -----------------------------------------

    def login(self, username: str, *, registry: str | None = None, **options: Any) -> None:
        """Log in to ``registry`` (docker-py's ``login`` options).

        Raises:
            RegistryError: the registry refused the credentials.
        """
        what = f"log in to {registry or 'the default registry'!r}"
        self._call(
            what, self.client.login, username, registry=registry, api_error=RegistryError, **options
        )

    def registry_config(self) -> dict[str, Any]:
        """Return the engine's ``RegistryConfig`` (insecure registries and CIDRs)."""
        info = self._call("read the engine's registry settings", self.client.info)
        return dict(info.get("RegistryConfig") or {})

    # -- session resources ------------------------------------------------------------------

    def list_session_labels(self) -> list[Mapping[str, str]]:
        """Return the labels of every container, network, volume and image that carries
        :data:`conu.labels.SESSION_LABEL`."""
        filters = {"label": [SESSION_LABEL]}

        def labels() -> list[Mapping[str, str]]:
            client = self.client
            volumes = client.volumes(filters=filters).get("Volumes") or []
            found = [
                *(c.get("Labels") for c in client.containers(all=True, filters=filters)),
                *(n.get("Labels") for n in client.networks(filters=filters)),
                *(v.get("Labels") for v in volumes),
                *(i.get("Labels") for i in client.images(filters=filters)),
            ]
            return [dict(found_labels) for found_labels in found if found_labels]

        return self._call("list labelled resources", labels)

    def remove_session(self, session: str, kinds: Iterable[str] = RESOURCE_KINDS) -> dict[str, int]:
        """Remove the resources of ``kinds`` whose session label is ``session``; return how
        many of each kind were found.

        Containers go first (oldest first, in parallel, forcibly, with their anonymous
        volumes), then networks, volumes, and images (newest first, with all their names:
        an image's children inherit its labels and must go before it).

        Raises:
            InvalidArgument: a kind is not one of :data:`~conu.apidefs.engine.RESOURCE_KINDS`.
        """
        wanted = set(kinds)
        unknown = wanted - set(RESOURCE_KINDS)
        if unknown:
            msg = f"unknown resource kinds {sorted(unknown)}; known: {list(RESOURCE_KINDS)}"
            raise InvalidArgument(msg)
        filters = {"label": [f"{SESSION_LABEL}={session}"]}
        removers = {
            "containers": self._remove_containers,
            "networks": self._remove_networks,
            "volumes": self._remove_volumes,
            "images": self._remove_images,
        }
        return {kind: removers[kind](filters) for kind in RESOURCE_KINDS if kind in wanted}

    def _remove_each(self, kind: str, ids: list[str], remove: Callable[[str], Any]) -> None:
        for ident in ids:
            with contextlib.suppress(NotFound):  # gone already
                self._call(f"remove {kind} {ident[:12]!r}", remove, ident)

    def _remove_containers(self, filters: dict[str, list[str]]) -> int:
        found = self._call(
            "list containers to remove", self.client.containers, all=True, filters=filters
        )
        # Oldest first: the engine lists newest first, and that order removes slower.
        ids = [c["Id"] for c in sorted(found, key=lambda c: c.get("Created") or 0)]

        def one(cid: str) -> None:
            try:
                self._call(
                    f"remove container {cid[:12]!r}",
                    self.client.remove_container,
                    cid,
                    force=True,
                    v=True,
                )
            except NotFound:
                pass  # gone already (e.g. started with --rm)
            except Conflict as exc:
                if "already in progress" not in str(exc):  # an exited --rm container
                    raise

        if ids:
            with ThreadPoolExecutor(min(THREADS, len(ids))) as pool:
                list(pool.map(one, ids))
        return len(ids)

    def _remove_networks(self, filters: dict[str, list[str]]) -> int:
        found = self._call("list networks to remove", self.client.networks, filters=filters)
        ids = [n["Id"] for n in found]
        self._remove_each("network", ids, self.client.remove_network)
        return len(ids)

    def _remove_volumes(self, filters: dict[str, list[str]]) -> int:
        found = self._call("list volumes to remove", self.client.volumes, filters=filters)
        names = [v["Name"] for v in found.get("Volumes") or []]
        self._remove_each("volume", names, lambda name: self.client.remove_volume(name, force=True))
        return len(names)

    def _remove_images(self, filters: dict[str, list[str]]) -> int:
        found = self._call("list images to remove", self.client.images, filters=filters)
        ids = [e["Id"] for e in sorted(found, key=lambda e: e.get("Created") or 0, reverse=True)]
        self._remove_each("image", ids, lambda ident: self.client.remove_image(ident, force=True))
        return len(ids)
