"""Container state and ports read from an engine's ``inspect`` data (Docker's layout).

:class:`InspectedContainerMixin` goes before :class:`conu.apidefs.container.Container` in a
container class's bases; the class supplies ``inspect`` for its engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conu.exceptions import ContainerNotFound, InvalidArgument

if TYPE_CHECKING:
    from conu.apidefs.container import ContainerName

__all__ = ["InspectedContainerMixin", "check_container_identity"]


def check_container_identity(container_id: str | None, name: str | None) -> None:
    """Refuse a container known by neither id nor name.

    Raises:
        InvalidArgument: neither ``container_id`` nor ``name`` is given.
    """
    if not container_id and not name:
        msg = "a container needs an id or a name"
        raise InvalidArgument(msg)


class InspectedContainerMixin:
    """Identity, state and ports of a container, from ``inspect()``."""

    if TYPE_CHECKING:
        _id: str | None
        name: ContainerName | None

        def inspect(self, refresh: bool = True) -> dict[str, Any]: ...

    def __str__(self) -> str:
        return self.get_id()

    def _ref(self) -> str:
        return self._id or str(self.name)

    def get_id(self) -> str:
        """Return the container's full id."""
        if self._id is None:
            self._id = str(self.inspect(refresh=False)["Id"])
        return self._id

    def is_running(self) -> bool:
        """Ask the engine whether the container runs; False when it does not exist."""
        try:
            return bool(self.inspect()["State"]["Running"])
        except ContainerNotFound:
            return False

    def get_status(self) -> str:
        """Return the engine's state of the container: created, running, paused, exited…"""
        return str(self.inspect()["State"]["Status"])

    def exit_code(self) -> int:
        """Return the exit code (0 while created or running)."""
        return int(self.inspect()["State"]["ExitCode"])

    def get_pid(self) -> int:
        """Return the host PID of the main process, 0 when it does not run."""
        return int(self.inspect()["State"]["Pid"])

    def _port_bindings(self) -> dict[str, Any]:
        return self.inspect()["NetworkSettings"].get("Ports") or {}

    def get_ports(self) -> list[str]:
        """Return the container's ports (published or exposed) without protocol, as strings."""
        return [key.split("/", 1)[0] for key in self._port_bindings()]

    def get_port_mappings(self, port: int | None = None) -> Any:
        """Return port bindings: all of them as a dict, or the list for one container port.

        Returns:
            with ``port=None`` the dict ``{"8080/tcp": [{"HostIp": .., "HostPort": ..}]}``;
            for an exposed port its list (None when not published); ``[]`` for other ports.
        """
        ports = self._port_bindings()
        if port is None:
            return ports
        for key, bindings in ports.items():
            if key.split("/", 1)[0] == str(port):
                return bindings
        return []
