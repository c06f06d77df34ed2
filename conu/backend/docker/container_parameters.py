"""Parameters of a container to create, and how ``docker run`` options become them.

:func:`parse_run_options` reads ``docker run`` options the way the docker CLI does (for the
options conu understands; the others are ignored) into :class:`DockerContainerParameters`, and
:func:`to_api_kwargs` turns those into keyword arguments for docker-py's ``create_container``
and ``create_host_config``. Nothing here imports docker: a healthcheck is a plain dict with
docker-py's lowercase keys, which ``create_container`` accepts.

Differences from conu 1.0, all of them fixes:

* A malformed value raises :class:`~conu.exceptions.InvalidArgument` naming the option, where
  1.0 exited through ``SystemExit(2)``; ports are checked (1-65535, known protocol, valid IP).
* Labels split on the first ``=`` (``a=b=c`` gives ``{"a": "b=c"}``) and a label without ``=``
  has the value ``""``, as with ``docker run``; 1.0 rejected both.
* Health durations are Go duration strings (``"30s"``, ``"1m30s"``, ``"500ms"``) or bare
  seconds, converted to nanoseconds; 1.0 passed integers through as nanoseconds, which docker
  rejects below one millisecond. ``--health-start-period`` is understood.
* ``healthcheck`` is None without health options (1.0 always built an empty one) and
  ``{"test": ["NONE"]}`` for ``--no-healthcheck`` (1.0 gave None, so the image's check ran).
* A container port published twice keeps both bindings (a list), as docker does.
* ``--ip`` and ``--pid`` are recognised (and ignored) instead of being read as abbreviations of
  ``--ipc`` and ``--pids-limit``.
* :func:`to_api_kwargs` turns ``src:dst[:mode]`` volumes into binds, uses ``network`` and
  ``platform``, and exposes the published ports; 1.0 dropped all of these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import attrs

from conu.apidefs.metadata import ContainerMetadata
from conu.apidefs.specs import RunSpec
from conu.backend.docker._api_kwargs import (
    CREATE_SAME_NAME,
    HOST_SAME_NAME,
    port_api_args,
    split_volumes,
)
from conu.labels import session_labels
from conu.utils.run_options import PortBinding, parse_options

__all__ = ["DockerContainerParameters", "PortBinding", "parse_run_options", "to_api_kwargs"]


@attrs.define(eq=True, init=False)
class DockerContainerParameters(ContainerMetadata):
    """Everything needed to create a container through the API.

    ``name``, ``labels``, ``command``, ``env_variables``, ``port_mappings`` and ``hostname``
    are the :class:`ContainerMetadata` fields; every other constructor argument is stored in
    the attribute of the same name. ``env_variables`` is a list of ``"K=V"`` strings when it
    comes from :func:`parse_run_options` (a dict is accepted too) and ``{}`` when None.
    ``port_mappings`` maps a container port as written (``"8080"``, ``"53/udp"``) to a
    :data:`PortBinding`, or to a list of them when the port is published more than once.
    """

    cap_add: list[str] | None = None
    """Capabilities to add (``--cap-add``)."""
    cap_drop: list[str] | None = None
    """Capabilities to drop (``--cap-drop``)."""
    detach: bool = False
    """``-d``; recorded only, containers created through the API never attach."""
    devices: list[str] | None = None
    """Host devices, ``"host[:container[:perms]]"`` (``--device``)."""
    dns: list[str] | None = None
    """DNS servers (``--dns``)."""
    entrypoint: str | list[str] | None = None
    """Entrypoint override (``--entrypoint``)."""
    group_add: list[str] | None = None
    """Additional groups (``--group-add``)."""
    healthcheck: dict[str, Any] | None = None
    """docker-py healthcheck dict (``test``, ``interval``, ...), durations in nanoseconds."""
    init: bool = False
    """Run an init process as PID 1 (``--init``)."""
    ipc_mode: str | None = None
    """IPC namespace (``--ipc``)."""
    isolation: str | None = None
    """Isolation technology (``--isolation``)."""
    mac_address: str | None = None
    """MAC address (``--mac-address``)."""
    mem_limit: str | int | None = None
    """Memory limit, e.g. ``"1G"`` (``-m``)."""
    mounts: list[str] | None = None
    """Mounts as docker-py accepts them (``--mount`` values are passed through untranslated)."""
    network: str | None = None
    """Network mode or network name (``--network``, ``--net``)."""
    pids_limit: int | None = None
    """PID limit (``--pids-limit``)."""
    platform: str | None = None
    """Platform, ``os[/arch[/variant]]`` (``--platform``)."""
    privileged: bool = False
    """Extended privileges (``--privileged``)."""
    publish_all_ports: bool = False
    """Publish all exposed ports to random host ports (``-P``)."""
    read_only: bool = False
    """Read-only root filesystem (``--read-only``)."""
    remove: bool = False
    """Remove the container when it exits (``--rm``)."""
    runtime: str | None = None
    """OCI runtime (``--runtime``)."""
    stdin_open: bool = False
    """Keep stdin open (``-i``)."""
    stdout: bool = True
    """Kept from conu 1.0; not used."""
    stderr: bool = False
    """Kept from conu 1.0; not used."""
    stop_signal: str | None = None
    """Signal that stops the container (``--stop-signal``)."""
    tty: bool = False
    """Allocate a pseudo-TTY (``-t``)."""
    user: str | None = None
    """User to run as (``-u``)."""
    volumes: list[str] | None = None
    """Volumes, ``"/dst"`` or ``"src:dst[:mode]"`` (``-v``)."""
    working_dir: str | None = None
    """Working directory (``-w``)."""

    def __init__(
        self,
        cap_add: list[str] | None = None,
        cap_drop: list[str] | None = None,
        command: list[str] | None = None,
        detach: bool = False,
        devices: list[str] | None = None,
        dns: list[str] | None = None,
        entrypoint: str | list[str] | None = None,
        env_variables: list[str] | dict[str, str] | None = None,
        group_add: list[str] | None = None,
        healthcheck: dict[str, Any] | None = None,
        hostname: str | None = None,
        init: bool = False,
        ipc_mode: str | None = None,
        isolation: str | None = None,
        labels: dict[str, str] | None = None,
        mac_address: str | None = None,
        mem_limit: str | int | None = None,
        mounts: list[str] | None = None,
        name: str | None = None,
        network: str | None = None,
        pids_limit: int | None = None,
        platform: str | None = None,
        port_mappings: dict[str, Any] | None = None,
        privileged: bool = False,
        publish_all_ports: bool = False,
        read_only: bool = False,
        remove: bool = False,
        runtime: str | None = None,
        stdin_open: bool = False,
        stdout: bool = True,
        stderr: bool = False,
        stop_signal: str | None = None,
        tty: bool = False,
        user: str | None = None,
        volumes: list[str] | None = None,
        working_dir: str | None = None,
    ) -> None:
        """Store the parameters; see the class and attribute docstrings."""
        self.__attrs_init__(
            name=name,
            labels=labels,
            command=command,
            # The metadata field is typed as a dict, but 1.0 parsing yields "K=V" strings.
            env_variables=cast(dict[str, str], {} if env_variables is None else env_variables),
            port_mappings=port_mappings,
            hostname=hostname,
            cap_add=cap_add,
            cap_drop=cap_drop,
            detach=detach,
            devices=devices,
            dns=dns,
            entrypoint=entrypoint,
            group_add=group_add,
            healthcheck=healthcheck,
            init=init,
            ipc_mode=ipc_mode,
            isolation=isolation,
            mac_address=mac_address,
            mem_limit=mem_limit,
            mounts=mounts,
            network=network,
            pids_limit=pids_limit,
            platform=platform,
            privileged=privileged,
            publish_all_ports=publish_all_ports,
            read_only=read_only,
            remove=remove,
            runtime=runtime,
            stdin_open=stdin_open,
            stdout=stdout,
            stderr=stderr,
            stop_signal=stop_signal,
            tty=tty,
            user=user,
            volumes=volumes,
            working_dir=working_dir,
        )
        _check_types(self)


def parse_run_options(
    options: Sequence[str], command: Sequence[str] | None = None
) -> DockerContainerParameters:
    """Read ``docker run`` options into container parameters.

    Options conu does not understand (``--cpus``, ``--log-opt``, ...) are ignored with their
    values. Combined short flags (``-it``) and unambiguous prefixes of long options (``--net``
    for ``--network``) work. Repeated single-value options keep the last value. ``-e`` values
    stay ``"K=V"`` strings; a label without ``=`` gets the value ``""``.

    Args:
        options: the options, e.g. ``["-d", "--name", "web", "-p", "8080:80"]``.
        command: the command to run in the container; None or empty for the image's default.

    Returns:
        The parameters.

    Raises:
        TypeError: ``options`` or ``command`` is not a sequence of strings.
        InvalidArgument: an option has a malformed value (an integer, port, duration or label).
    """
    _check_strings("options", options)
    if command is not None:
        _check_strings("command", command)
    return DockerContainerParameters(
        **parse_options(options), command=list(command) if command else None
    )


def to_api_kwargs(params: DockerContainerParameters) -> tuple[dict[str, Any], dict[str, Any]]:
    """Translate parameters into docker-py keyword arguments.

    ``src:dst[:mode]`` volumes become binds (and ``dst`` a container volume), a plain ``/dst``
    stays a container volume. Published ports are exposed and bound. The container is always
    created detached, as in conu 1.0; ``stdout`` and ``stderr`` are not used.

    Args:
        params: the parameters.

    Returns:
        ``(create_kwargs, host_config_kwargs)``: the arguments of ``create_container`` except
        the image and ``host_config``, and the arguments of ``create_host_config``.

    Raises:
        InvalidArgument: a volume or a port mapping is malformed.
    """
    binds, volumes = split_volumes(params.volumes or [])
    exposed, bindings = port_api_args(params)
    create = {name: getattr(params, name) for name in CREATE_SAME_NAME}
    create |= {
        "detach": True,
        "environment": params.env_variables or None,
        "ports": exposed or None,
        "volumes": volumes or None,
    }
    host = {name: getattr(params, name) for name in HOST_SAME_NAME}
    host |= {
        "auto_remove": params.remove,
        "binds": binds or None,
        # Unset rather than False, so that a daemon configured with "init": true still applies.
        "init": params.init or None,
        "network_mode": params.network,
        "port_bindings": bindings or None,
    }
    return create, host


def session_run_spec(image_id: str, params: DockerContainerParameters) -> RunSpec:
    """The :class:`RunSpec` creating a container of ``image_id`` with ``params`` (all of them
    reach the engine, as ``engine_options``), labelled with the session."""
    create, host = to_api_kwargs(params)
    labels = {**(create.get("labels") or {}), **session_labels()}
    create["labels"] = labels
    return RunSpec(
        image=image_id,
        name=params.name,
        labels=labels,
        engine_options={"create": create, "host_config": host},
    )


def _check_strings(argument: str, value: object) -> None:
    """Raise TypeError unless ``value`` is a list or tuple of strings."""
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        msg = f"{argument!r} must be a list or tuple of str, not {value!r}"
        raise TypeError(msg)


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "command": (list, tuple),
    "labels": (dict,),
    "env_variables": (dict, list, tuple),
    "port_mappings": (dict,),
    "cap_add": (list, tuple),
    "cap_drop": (list, tuple),
    "volumes": (list, tuple),
    "mounts": (list, tuple),
    "devices": (list, tuple),
    "dns": (list, tuple),
    "group_add": (list, tuple),
    "healthcheck": (dict,),
}


def _check_types(params: DockerContainerParameters) -> None:
    """Reject a collection-typed parameter given as something else (a str, say)."""
    for field, types in _FIELD_TYPES.items():
        value = getattr(params, field)
        if value is not None and not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            msg = f"{field} must be a {names} or None, not {type(value).__name__}: {value!r}"
            raise TypeError(msg)
