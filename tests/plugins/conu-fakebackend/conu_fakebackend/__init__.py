"""An in-memory conu backend, installed by the plugin tests as a third party would install one.

It shows the whole extension path: subclass the abstract ``Backend``, ``Container`` and
``Image``, implement the abstract methods, declare the capabilities, and register the backend
class in the ``conu.backends`` entry-point group. Nothing here talks to an engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, ClassVar

from conu.apidefs.backend import Backend, Capability
from conu.apidefs.container import Container
from conu.apidefs.image import Image
from conu.apidefs.metadata import ContainerMetadata, ContainerStatus
from conu.exceptions import CommandFailed, Conflict

__all__ = ["FakeBackend", "FakeContainer", "FakeImage"]

_ids = itertools.count(1)


class FakeContainer(Container):
    """A container that lives in a dict; ``execute`` echoes its command."""

    backend_name = "fake"

    def __init__(self, image: FakeImage, name: str | None = None) -> None:
        self._state: dict[str, Any] = {"Status": "created", "ExitCode": 0, "Output": []}
        super().__init__(image, f"fake-{next(_ids)}", name)

    def get_id(self) -> str:
        assert self._id is not None
        return self._id

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        return {"Id": self.get_id(), "Name": self.name, "State": dict(self._state)}

    def get_metadata(self, refresh: bool = True) -> ContainerMetadata:
        status = ContainerStatus.get_from_docker(self._state["Status"], self._state["ExitCode"])
        return ContainerMetadata(
            name=self.name,
            identifier=self.get_id(),
            image=self.image,
            status=status,
            raw=self.inspect(),
        )

    def is_running(self) -> bool:
        return bool(self._state["Status"] == "running")

    def get_status(self) -> str:
        return str(self._state["Status"])

    def exit_code(self) -> int:
        return int(self._state["ExitCode"])

    def start(self) -> None:
        self._state["Status"] = "running"

    def stop(self) -> None:
        self._state.update(Status="exited", ExitCode=0)

    def kill(self, signal: str | int | None = None) -> None:
        self._state.update(Status="exited", ExitCode=137)

    def delete(self, force: bool = False, **kwargs: Any) -> None:
        if self.is_running() and not force:
            msg = f"container {self.get_id()!r} is running; use force=True"
            raise Conflict(msg)
        self._state["Status"] = "removed"

    def wait(self, timeout: float | None = None) -> int:
        return self.exit_code()

    def execute(self, command: list[str], **kwargs: Any) -> bytes:
        if not self.is_running():
            msg = f"container {self.get_id()!r} is not running"
            raise CommandFailed(msg)
        output = " ".join(command).encode() + b"\n"
        self._state["Output"].append(output)
        return output

    def logs(self, follow: bool = False) -> Iterator[bytes]:
        return iter(list(self._state["Output"]))


class FakeImage(Image):
    """An image that is always present and runs :class:`FakeContainer`."""

    backend_name = "fake"

    def get_full_name(self) -> str:
        return f"{self.name}:{self.tag or 'latest'}"

    def get_id(self) -> str:
        return f"fake-image-{self.get_full_name()}"

    def is_present(self) -> bool:
        return True

    def run_via_api(self, container_params: Any = None) -> FakeContainer:
        container = FakeContainer(self)
        container.start()
        return container


class FakeBackend(Backend):
    """The in-memory backend: it supports running and executing, nothing else."""

    name: ClassVar[str] = "fake"
    ContainerClass: ClassVar[type[Container]] = FakeContainer
    ImageClass: ClassVar[type[Image]] = FakeImage
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.EXEC})
