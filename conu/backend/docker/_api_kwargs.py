"""Helpers of :func:`~conu.backend.docker.container_parameters.to_api_kwargs`.

Private: :mod:`conu.backend.docker.container_parameters` is the public interface. Here are the
parameters docker-py takes under their own name, and the translation of volumes and ports into
docker-py's formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from conu.exceptions import InvalidArgument
from conu.utils.run_options import PROTOCOLS, port_number

if TYPE_CHECKING:
    from conu.backend.docker.container_parameters import DockerContainerParameters

__all__ = ["CREATE_SAME_NAME", "HOST_SAME_NAME", "port_api_args", "split_volumes"]

# Parameters passed under their own name.
CREATE_SAME_NAME = (
    "command",
    "entrypoint",
    "healthcheck",
    "hostname",
    "labels",
    "mac_address",
    "name",
    "platform",
    "stdin_open",
    "stop_signal",
    "tty",
    "user",
    "working_dir",
)
HOST_SAME_NAME = (
    "cap_add",
    "cap_drop",
    "devices",
    "dns",
    "group_add",
    "ipc_mode",
    "isolation",
    "mem_limit",
    "mounts",
    "pids_limit",
    "privileged",
    "publish_all_ports",
    "read_only",
    "runtime",  # docker-py's create_container(runtime=) goes where the engine ignores it
)


def port_api_args(
    params: DockerContainerParameters,
) -> tuple[list[int | tuple[int, str]], dict[str, Any]]:
    """Exposed ports and port bindings in docker-py's formats, keys normalised to ``port/proto``."""
    bindings: dict[str, Any] = {}
    for key, binding in (params.port_mappings or {}).items():
        port, protocol = _container_port(str(key))
        bindings[f"{port}/{protocol}"] = binding
    exposed: list[int | tuple[int, str]] = []
    for key in [*bindings, *params.exposed_ports]:
        port, protocol = _container_port(key)
        entry = port if protocol == "tcp" else (port, protocol)
        if entry not in exposed:
            exposed.append(entry)
    return exposed, bindings


def _container_port(key: str) -> tuple[int, str]:
    port, _, protocol = key.partition("/")
    if protocol and protocol not in PROTOCOLS:
        msg = f"unknown protocol {protocol!r} in container port {key!r}"
        raise InvalidArgument(msg)
    return port_number(port, "container port", key), protocol or "tcp"


def split_volumes(specs: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split ``-v`` values into binds and container-side volume paths."""
    binds: list[str] = []
    targets: list[str] = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) == 1 and spec:
            targets.append(spec)
        elif len(parts) in (2, 3) and parts[0] and parts[1]:
            binds.append(spec)
            targets.append(parts[1])
        else:
            msg = f"volume {spec!r} is neither '/target' nor 'source:target[:mode]'"
            raise InvalidArgument(msg)
    return binds, targets
