"""container-structure-test's host driver: the machine conu runs on is the image under test.

Files are this host's, commands run on this host (setup steps change it for good, as
upstream warns), and the metadata the metadata test checks comes from a JSON file
(``--metadata``) in upstream's shape::

    {"config": {"Env": ["PATH=/bin"], "Entrypoint": [], "Cmd": ["sh"], "WorkingDir": "/",
                "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
                "Labels": {"a": "b"}, "User": ""}}
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from typing import Any

from conu.apidefs.files import lstat_info
from conu.apidefs.metadata import CommandResult, ImageMetadata, PathInfo, split_env
from conu.exceptions import (
    CommandDoesNotExistException,
    ConuException,
    InvalidConfig,
    ProbeTimeout,
    UnsupportedOperation,
)

__all__ = ["HostImage", "load_metadata"]


def _names(value: Any, what: str, path: str) -> list[str]:
    """A list of names, or the keys of a map (``{"80/tcp": {}}``), as upstream accepts."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = list(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidConfig(f"{path}: config.{what}: expected a list of strings or a map")
    return list(value)


def load_metadata(path: str) -> ImageMetadata:
    """Read a host driver metadata file.

    Raises:
        InvalidConfig: it cannot be read, is not JSON, or has fields of the wrong type.
    """
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except OSError as exc:
        raise InvalidConfig(f"metadata file {path!r} cannot be read: {exc.strerror}") from exc
    except ValueError as exc:
        raise InvalidConfig(f"metadata file {path!r} is not valid JSON: {exc}") from exc
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise InvalidConfig(f"{path}: expected an object with a 'config' object")
    labels = config.get("Labels") or {}
    if not isinstance(labels, dict):
        raise InvalidConfig(f"{path}: config.Labels: expected a map")
    return ImageMetadata(
        name="host",
        identifier="host",
        env_variables=split_env(_names(config.get("Env"), "Env", path)),
        entrypoint=_names(config.get("Entrypoint"), "Entrypoint", path),
        command=_names(config.get("Cmd"), "Cmd", path),
        working_dir=str(config.get("WorkingDir") or ""),
        user=str(config.get("User") or ""),
        exposed_ports=_names(config.get("ExposedPorts"), "ExposedPorts", path),
        volumes=_names(config.get("Volumes"), "Volumes", path),
        labels={str(k): str(v) for k, v in labels.items()},
        raw=document,
    )


class HostImage:
    """This host, with the metadata of ``metadata_path``, as an image for the CST runner.

    Raises:
        InvalidConfig: the metadata file cannot be used.
    """

    def __init__(self, metadata_path: str) -> None:
        self.metadata = load_metadata(metadata_path)

    def get_id(self) -> str:
        return "host"

    def get_full_name(self) -> str:
        return "host"

    def is_present(self) -> bool:
        return True

    def get_metadata(self) -> ImageMetadata:
        return self.metadata

    def path_info(self, path: str) -> PathInfo | None:
        """``lstat`` of ``path`` on this host; None when it does not exist."""
        try:
            return lstat_info(path, os.path.basename(path.rstrip("/")) or "/")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConuException(f"cannot stat {path!r} on this host: {exc.strerror}") from exc

    def read_file(self, path: str) -> str:
        try:
            with open(path, "rb") as stream:
                return stream.read().decode("utf-8", errors="replace")
        except OSError as exc:
            raise ConuException(f"cannot read {path!r} on this host: {exc.strerror}") from exc

    def list_directory(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except OSError as exc:
            raise ConuException(f"cannot list {path!r} on this host: {exc.strerror}") from exc

    def run_command(
        self,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        timeout: float = 300,
        commit: bool = False,
        **options: Any,
    ) -> CommandResult:
        """Run ``command`` on this host with ``env`` added to this process's environment.

        Raises:
            UnsupportedOperation: container options (user, privileges, capabilities, bind
                mounts, a TTY) were asked for: the host has no container.
            CommandDoesNotExistException: ``command[0]`` is not found.
            ProbeTimeout: it ran longer than ``timeout`` seconds.
        """
        asked = sorted(k for k, v in options.items() if v and k not in ("keep", "engine_options"))
        if asked:
            raise UnsupportedOperation("host", f"run_command({', '.join(asked)})")
        argv = list(command)
        try:
            done = subprocess.run(
                argv,
                env={**os.environ, **(env or {})},
                capture_output=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            msg = f"command {argv[0]!r} does not exist on this host"
            raise CommandDoesNotExistException(msg) from exc
        except subprocess.TimeoutExpired as exc:
            raise ProbeTimeout(f"{argv!r} still ran after {timeout:g} s on this host") from exc
        return CommandResult(done.returncode, done.stdout, done.stderr, self if commit else None)

    def rmi(self, **_: Any) -> None:
        """Nothing to remove: setup steps changed the host itself."""
