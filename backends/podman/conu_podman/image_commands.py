"""Commands run in fresh containers of a podman image, the image's entrypoint replaced.

The container is created with ``podman create`` (labelled with the session, no network
unless asked), started with ``podman start --attach`` (stdout and stderr kept apart, the
exit status is the command's), optionally committed to a new image, and always removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from conu.apidefs.metadata import CommandResult
from conu.exceptions import CommandDoesNotExistException, InvalidArgument
from conu.labels import session_labels
from conu_podman import engine
from conu_podman.helper import helper_container

if TYPE_CHECKING:
    from conu_podman.image import PodmanImage

__all__ = ["RUN_TIMEOUT", "run_command"]

RUN_TIMEOUT = 300.0
"""Seconds a command in a fresh container may run by default."""
_MISSING_EXECUTABLE = ("executable file not found", "no such file or directory")


def _create_options(
    network: bool,
    env: dict[str, str] | None,
    user: str | None,
    privileged: bool,
    tty: bool,
    cap_add: Sequence[str],
    binds: Sequence[str],
) -> list[str]:
    """``podman create`` options for :func:`run_command`'s keyword arguments."""
    options = [] if network else ["--network", "none"]
    options += [arg for key, value in (env or {}).items() for arg in ("--env", f"{key}={value}")]
    options += ["--user", user] if user else []
    options += ["--privileged"] if privileged else []
    options += ["--tty"] if tty else []
    options += [arg for cap in cap_add for arg in ("--cap-add", cap)]
    return options + [arg for bind in binds for arg in ("--volume", bind)]


def run_command(
    image_id: str,
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    user: str | None = None,
    privileged: bool = False,
    tty: bool = False,
    cap_add: Sequence[str] = (),
    binds: Sequence[str] = (),
    timeout: float = RUN_TIMEOUT,
    commit: bool = False,
    network: bool = False,
) -> CommandResult:
    """Run ``command`` in a fresh container of ``image_id`` and return its outcome.

    Args:
        image_id: the image.
        command: the executable (which replaces the entrypoint) and its arguments.
        env: environment added to the image's.
        user: run as this user (``name``, ``uid`` or ``uid:gid``).
        privileged: run privileged.
        tty: allocate a TTY (stderr is then merged into stdout).
        cap_add: Linux capabilities to add.
        binds: bind mounts, ``host_path:container_path[:ro]``.
        timeout: seconds the command may run.
        commit: commit the container to a new image labelled with the session.
        network: give the container podman's default network (none by default).

    Raises:
        InvalidArgument: ``command`` is not a non-empty list of str.
        CommandDoesNotExistException: ``command[0]`` is not in the image.
        ProbeTimeout: the command still ran after ``timeout`` seconds.
    """
    if not command or not all(isinstance(arg, str) for arg in command):
        msg = f"command must be a non-empty list of str, not {command!r}"
        raise InvalidArgument(msg)
    options = _create_options(network, env, user, privileged, tty, cap_add, binds)
    with helper_container(image_id, command[:1], command[1:], options) as helper:
        what = f"run {command[0]!r} in image {image_id[:12]!r}"
        args = ["start", "--attach", helper]
        done = engine.run(args, what=what, timeout=timeout, check=False)
        _check_started(helper, what, command[0], done.stderr)
        image = _commit(helper) if commit else None
    return CommandResult(done.returncode, done.stdout, done.stderr, image)


def _check_started(helper: str, what: str, executable: str, stderr: bytes) -> None:
    """Raise when podman could not start the container at all (it is still ``created``).

    Raises:
        CommandDoesNotExistException: ``executable`` is not in the image.
        ConuException: podman failed otherwise.
    """
    found = engine.run_json(["container", "inspect", "--format", "json", helper], what=what)
    if found[0]["State"].get("Status") != "created":
        return
    reason = engine.explain(stderr)
    if any(hint in reason.lower() for hint in _MISSING_EXECUTABLE):
        msg = f"command {executable!r} does not exist in the image: {reason}"
        raise CommandDoesNotExistException(msg)
    raise engine.failure(what, stderr)


def _commit(helper: str) -> PodmanImage:
    """Commit container ``helper`` to a new, unnamed image carrying the session's labels."""
    from conu_podman.image import PodmanImage, PodmanImagePullPolicy

    changes = [
        arg
        for key, value in session_labels().items()
        for arg in ("--change", f'LABEL "{key}"="{value}"')
    ]
    args = ["commit", "--quiet", *changes, helper]
    done = engine.run(args, what=f"commit container {helper[:12]!r}")
    identifier = done.stdout.decode().strip().splitlines()[-1]
    return PodmanImage(None, identifier=identifier, pull_policy=PodmanImagePullPolicy.NEVER)
