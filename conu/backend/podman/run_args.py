"""``podman create`` arguments for a :class:`~conu.apidefs.specs.RunSpec`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conu.apidefs.specs import PortBinding, RunSpec
from conu.exceptions import InvalidArgument

__all__ = ["PODMAN_ARGS", "create_args", "label_args", "label_filters", "publish_args"]

PODMAN_ARGS = "podman_args"
"""Key of ``RunSpec.engine_options`` holding extra ``podman create`` options (a list of
str, put before the image); every other engine option is ignored."""


def _pairs(flag: str, values: Mapping[str, str]) -> list[str]:
    return [arg for key, value in values.items() for arg in (flag, f"{key}={value}")]


def _repeated(flag: str, values: Iterable[str]) -> list[str]:
    return [arg for value in values for arg in (flag, value)]


def label_args(labels: Mapping[str, str]) -> list[str]:
    """Turn labels into ``["--label", "key=value", ...]``."""
    return _pairs("--label", labels)


def label_filters(labels: Mapping[str, str] | None) -> list[str]:
    """``--filter label=...`` for each label (a label without value: any value)."""
    return [
        arg
        for key, value in (labels or {}).items()
        for arg in ("--filter", f"label={key}={value}" if value else f"label={key}")
    ]


def _publish(port: str, binding: PortBinding) -> str:
    """``[ip:][hostport:]port/proto`` for one binding (no host port: podman picks one)."""
    host_ip = f"[{binding.host_ip}]" if ":" in binding.host_ip else binding.host_ip
    host_port = "" if binding.host_port is None else str(binding.host_port)
    if host_ip:
        return f"{host_ip}:{host_port}:{port}"
    return f"{host_port}:{port}" if host_port else port


def publish_args(ports: Mapping[str, Sequence[PortBinding]]) -> list[str]:
    """``--publish`` for each binding; ``--expose`` for a port without bindings."""
    args: list[str] = []
    for key, bindings in ports.items():
        port = str(key) if "/" in str(key) else f"{key}/tcp"
        if not bindings:
            args += ["--expose", port]
        for binding in bindings:
            args += ["--publish", _publish(port, binding)]
    return args


def _flags(spec: RunSpec) -> list[str]:
    """The boolean and single-valued options."""
    single = {
        "--name": spec.name,
        "--user": spec.user,
        "--workdir": spec.working_dir,
        "--hostname": spec.hostname,
        "--network": spec.network,
    }
    args = [arg for flag, value in single.items() if value for arg in (flag, value)]
    switches = {
        "--tty": spec.tty,
        "--interactive": spec.stdin_open,
        "--privileged": spec.privileged,
        "--rm": spec.auto_remove,
    }
    return args + [flag for flag, on in switches.items() if on]


def _extra(options: Mapping[str, Any]) -> list[str]:
    """The ``podman_args`` engine option, checked.

    Raises:
        InvalidArgument: it is not a list of str.
    """
    extra = options.get(PODMAN_ARGS) or []
    if isinstance(extra, str) or not all(isinstance(arg, str) for arg in extra):
        msg = f"engine option {PODMAN_ARGS!r} must be a list of str, not {extra!r}"
        raise InvalidArgument(msg)
    return list(extra)


def create_args(spec: RunSpec) -> list[str]:
    """Return ``podman create`` and its arguments for ``spec``.

    The image is never pulled (``--pull never``); the entrypoint is given in JSON form, so
    one of several words works.

    Raises:
        InvalidArgument: the ``podman_args`` engine option is malformed.
    """
    args = ["create", "--pull", "never", *_flags(spec)]
    args += _pairs("--env", spec.env) + label_args(spec.labels)
    args += _repeated("--cap-add", spec.cap_add) + _repeated("--volume", spec.binds)
    args += publish_args(spec.ports)
    if spec.entrypoint is not None:
        args += ["--entrypoint", json.dumps(list(spec.entrypoint))]
    args += _extra(spec.engine_options)
    return [*args, spec.image, *(spec.command or ())]
