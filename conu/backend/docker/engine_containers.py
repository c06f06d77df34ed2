"""Container primitives of :class:`~conu.backend.docker.engine.DockerEngine`.

docker-py calls: ``create_host_config`` + ``create_container``, ``start``, ``stop``,
``kill``, ``remove_container``, ``wait``, ``exec_create`` + ``exec_start`` +
``exec_inspect``, ``logs``, ``inspect_container`` and ``containers``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from conu.apidefs.specs import ContainerInfo, ExecStream, RunSpec
from conu.backend.docker.engine_boundary import DockerBoundary
from conu.backend.docker.engine_mapping import (
    container_info,
    create_kwargs,
    label_filters,
    listed_container_info,
)
from conu.exceptions import (
    CommandDoesNotExistException,
    ContainerNotFound,
    EngineError,
    ImageNotFound,
)

__all__ = ["ContainerPrimitives"]

_MISSING_EXECUTABLE = ("executable file not found", "no such file or directory")


def _short(container_id: str) -> str:
    return repr(container_id[:12])


class ContainerPrimitives(DockerBoundary):
    """Creating, running, stopping, inspecting and listing containers."""

    def create_container(self, spec: RunSpec) -> str:
        """Create (not start) a container from ``spec``; return its id.

        ``spec.engine_options["create"]`` and ``["host_config"]`` are more keyword arguments
        of ``create_container`` and ``create_host_config``; they win over the spec's fields.
        ``["host_config_defaults"]`` are fields of the API's ``HostConfig`` itself (``{"Dns":
        []}``), set where those arguments left them out.

        Raises:
            ImageNotFound: the engine does not hold ``spec.image``.
            Conflict: the name is taken.
        """
        create, host = create_kwargs(spec)

        def make() -> str:
            host_config = self.client.create_host_config(**host)
            for field, value in (spec.engine_options.get("host_config_defaults") or {}).items():
                host_config.setdefault(field, value)
            created = self.client.create_container(spec.image, host_config=host_config, **create)
            return str(created["Id"])

        return self._call(f"create a container of {spec.image!r}", make, not_found=ImageNotFound)

    def start_container(self, container_id: str) -> None:
        """Start a created or stopped container.

        Raises:
            ContainerNotFound: no such container.
            CommandDoesNotExistException: its command does not exist in the image.
            EngineError: the engine could not start it otherwise.
        """
        what = f"start container {_short(container_id)}"
        try:
            self._call(what, self.client.start, container_id, not_found=ContainerNotFound)
        except ContainerNotFound:
            raise
        except EngineError as exc:
            text = str(exc).lower()
            if "exec:" in text and any(hint in text for hint in _MISSING_EXECUTABLE):
                msg = f"cannot {what}: its command does not exist in the image: {exc}"
                raise CommandDoesNotExistException(msg) from exc
            raise

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """Stop gracefully: SIGTERM, then SIGKILL after ``timeout`` seconds (rounded up;
        the engine's default when None). Raises ContainerNotFound."""
        kwargs = {} if timeout is None else {"timeout": math.ceil(timeout)}
        stop = functools.partial(self.client.stop, container_id, **kwargs)
        self._call(f"stop container {_short(container_id)}", stop, not_found=ContainerNotFound)

    def kill_container(self, container_id: str, signal: str | int | None = None) -> None:
        """Send ``signal`` (SIGKILL when None) to the main process.

        Raises:
            ContainerNotFound: no such container.
            Conflict: it does not run.
        """
        what = f"kill container {_short(container_id)}"
        self._call(what, self.client.kill, container_id, signal=signal, not_found=ContainerNotFound)

    def remove_container(
        self, container_id: str, *, force: bool = False, volumes: bool = False
    ) -> None:
        """Remove the container (``force``: even running; ``volumes``: its anonymous volumes).

        Raises:
            ContainerNotFound: no such container.
            Conflict: it runs and ``force`` is False.
        """
        what = f"remove container {_short(container_id)}"
        remove = self.client.remove_container
        self._call(what, remove, container_id, v=volumes, force=force, not_found=ContainerNotFound)

    def wait_container(self, container_id: str, timeout: float | None = None) -> int:
        """Block until the container stops; return its exit code.

        Raises:
            ContainerNotFound: no such container.
            ProbeTimeout: it still ran after ``timeout`` seconds (None: no limit).
        """
        what = f"wait for container {_short(container_id)}"
        # functools.partial: ``timeout`` is also _call's own (the message's) argument
        wait = functools.partial(self.client.wait, container_id, timeout=timeout)
        result = self._call(what, wait, timeout=timeout, not_found=ContainerNotFound)
        return int(result["StatusCode"])

    def exec_in_container(
        self,
        container_id: str,
        command: Sequence[str],
        *,
        options: Mapping[str, Any] | None = None,
    ) -> ExecStream:
        """Start ``command`` in the running container.

        Args:
            container_id: the container.
            command: executable and arguments.
            options: ``{"create": {...}, "start": {...}}``, more keyword arguments of
                ``exec_create`` and ``exec_start``.

        Raises:
            ContainerNotFound: no such container.
            Conflict: the container does not run.
        """
        options = options or {}
        what = f"execute {list(command)!r} in container {_short(container_id)}"
        create = self.client.exec_create
        exec_id = self._call(
            what,
            create,
            container_id,
            list(command),
            not_found=ContainerNotFound,
            **(options.get("create") or {}),
        )
        start = self.client.exec_start
        output = self._stream(
            what, start, exec_id, prime=False, stream=True, **(options.get("start") or {})
        )

        def exit_code() -> int | None:
            code = self._call(what, self.client.exec_inspect, exec_id).get("ExitCode")
            return None if code is None else int(code)

        return ExecStream(output=output, exit_code=exit_code)

    def container_logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[bytes]:
        """Return the container's output as chunks of bytes (``follow``: until it exits).

        Raises:
            ContainerNotFound: no such container.
        """
        return self._stream(
            f"read logs of container {_short(container_id)}",
            self.client.logs,
            container_id,
            prime=False,
            not_found=ContainerNotFound,
            stream=True,
            follow=follow,
            stdout=stdout,
            stderr=stderr,
        )

    def inspect_container(self, container_id: str) -> ContainerInfo:
        """Describe the container (by id or name). Raises ContainerNotFound."""
        what = f"inspect container {container_id!r}"
        doc = self._call(
            what, self.client.inspect_container, container_id, not_found=ContainerNotFound
        )
        return container_info(doc)

    def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        """Return every container, running or not; only those carrying ``labels`` if given.

        Entries come from the engine's list: no exit code, environment or command.
        """
        filters = label_filters(labels)
        found = self._call("list containers", self.client.containers, all=True, filters=filters)
        return [listed_container_info(entry) for entry in found]
