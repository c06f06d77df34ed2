"""Host directories set up for containers (mode, owner, ACLs, SELinux label) and volume specs."""

from __future__ import annotations

import grp
import logging
import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from types import TracebackType

from conu.exceptions import ConuException, InvalidArgument
from conu.utils import (
    chcon_command_exists,
    is_selinux_disabled,
    run_cmd,
    setfacl_command_exists,
)

__all__ = ["Directory", "Volume"]

logger = logging.getLogger(__name__)


class Directory:
    """A directory on the host, created and configured on :meth:`initialize`.

    Best used as a context manager, which removes the directory on exit::

        with Directory("/tmp/data", mode=0o700, user_owner="nobody") as directory:
            ...

    ``setfacl`` and ``chcon`` are needed only when ACLs or SELinux labels are requested.

    Args:
        path: the directory.
        mode: permission bits applied with chmod (so the umask does not matter), e.g. 0o700.
        user_owner: uid, or a user name looked up in the passwd database.
        group_owner: gid, or a group name looked up in the group database, then as a user
            name in the passwd database (taking that user's primary group).
        facl_rules: ACL entries given to ``setfacl -m``, e.g. ``["u:26:rwx"]``.
        selinux_context: the full SELinux context, e.g. ``"system_u:object_r:unlabeled_t:s0"``.
        selinux_user: SELinux user, e.g. ``"system_u"`` (not with ``selinux_context``).
        selinux_role: SELinux role, e.g. ``"object_r"`` (not with ``selinux_context``).
        selinux_type: SELinux type, e.g. ``"container_file_t"`` (not with ``selinux_context``).
        selinux_range: SELinux range, e.g. ``"s0"`` (not with ``selinux_context``).

    Raises:
        InvalidArgument: ``selinux_context`` is given with individual SELinux fields, or the
            user or group is unknown.
        ConuException: SELinux labels are requested but SELinux is disabled.
        CommandDoesNotExistException: SELinux labels are requested and ``getenforce`` is
            missing.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        mode: int | None = None,
        user_owner: int | str | None = None,
        group_owner: int | str | None = None,
        facl_rules: Sequence[str] | None = None,
        selinux_context: str | None = None,
        selinux_user: str | None = None,
        selinux_role: str | None = None,
        selinux_type: str | None = None,
        selinux_range: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.mode = mode
        self.facl_rules = facl_rules
        self.selinux_context = selinux_context
        self.selinux_user = selinux_user
        self.selinux_role = selinux_role
        self.selinux_type = selinux_type
        self.selinux_range = selinux_range
        self._check_selinux_arguments()
        self.owner = _uid(user_owner)
        self.group = _gid(group_owner)
        self._initialized = False

    @property
    def initialized(self) -> bool:
        """Whether :meth:`initialize` has set the directory up (and :meth:`clean` not run)."""
        return self._initialized

    def initialize(self) -> None:
        """Create the directory if needed and apply mode, ACLs, SELinux label and owner.

        A second call does nothing.

        Raises:
            CommandDoesNotExistException: ACLs or SELinux labels are requested and ``setfacl``
                or ``chcon`` is missing.
            ConuException: ``setfacl`` or ``chcon`` failed.
            OSError: creating, chmod or chown failed.
        """
        if self._initialized:
            logger.info("%r was already initialized", self)
            return
        logger.info("initializing %r", self)
        created = not os.path.lexists(self.path)
        os.makedirs(self.path, mode=0o777 if self.mode is None else self.mode, exist_ok=True)
        try:
            self._configure()
        except BaseException:
            # nobody would clean a directory whose set-up failed half way
            if created:
                shutil.rmtree(self.path, ignore_errors=True)
            raise
        self._initialized = True

    def _configure(self) -> None:
        """Apply mode, ACLs, SELinux label and owner to the existing directory."""
        if self.mode is not None:
            os.chmod(self.path, self.mode)
        self._apply_facl_rules()
        self._apply_selinux_label()
        self._apply_ownership()

    def clean(self) -> None:
        """Remove the directory tree, if :meth:`initialize` set it up."""
        if not self._initialized:
            return
        logger.info("removing %r", self.path)
        try:
            shutil.rmtree(self.path)
        except FileNotFoundError:
            logger.debug("%r was already removed", self.path)
        self._initialized = False

    def __enter__(self) -> Directory:
        self.initialize()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.clean()

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"Directory(path={self.path})"

    def _selinux_fields(self) -> list[tuple[str, str | None]]:
        """The chcon options for the individual SELinux fields, in chcon's order."""
        return [
            ("-u", self.selinux_user),
            ("-r", self.selinux_role),
            ("-l", self.selinux_range),
            ("-t", self.selinux_type),
        ]

    def _check_selinux_arguments(self) -> None:
        """Refuse contradictory SELinux arguments, or labels on a host without SELinux."""
        has_fields = any(value for _, value in self._selinux_fields())
        if self.selinux_context and has_fields:
            msg = (
                f"selinux_context {self.selinux_context!r} cannot be combined with"
                " selinux_user, selinux_role, selinux_type or selinux_range"
            )
            raise InvalidArgument(msg)
        if (self.selinux_context or has_fields) and is_selinux_disabled():
            msg = f"cannot label {self.path!r}: SELinux is disabled on this host"
            raise ConuException(msg)

    def _apply_facl_rules(self) -> None:
        """Add the requested ACL entries with setfacl."""
        if not self.facl_rules:
            return
        setfacl_command_exists()
        _run_host_tool(["setfacl", "-m", ",".join(self.facl_rules), self.path])

    def _apply_selinux_label(self) -> None:
        """Set the requested SELinux context or fields with chcon."""
        options = self._chcon_options()
        if not options:
            return
        chcon_command_exists()
        _run_host_tool(["chcon", *options, self.path])

    def _chcon_options(self) -> list[str]:
        """The chcon arguments for the requested label, empty when none is requested."""
        if self.selinux_context:
            return [self.selinux_context]
        options: list[str] = []
        for flag, value in self._selinux_fields():
            if value:
                options += [flag, value]
        return options

    def _apply_ownership(self) -> None:
        """Change owner and group; -1 leaves one unchanged, 0 (root) is a real id."""
        if self.owner is None and self.group is None:
            return
        uid = -1 if self.owner is None else self.owner
        gid = -1 if self.group is None else self.group
        logger.debug("changing owner of %r to %d:%d", self.path, uid, gid)
        os.chown(self.path, uid, gid)


def _uid(user: int | str | None) -> int | None:
    """Resolve a user name to its uid; ints and None pass through."""
    if not isinstance(user, str):
        return user
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError as exc:
        msg = f"user {user!r} does not exist"
        raise InvalidArgument(msg) from exc


def _gid(group: int | str | None) -> int | None:
    """Resolve a group name to its gid, falling back to a same-named user's primary group."""
    if not isinstance(group, str):
        return group
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        pass
    try:
        return pwd.getpwnam(group).pw_gid
    except KeyError as exc:
        msg = f"group {group!r} does not exist (neither as a group nor as a user)"
        raise InvalidArgument(msg) from exc


def _run_host_tool(argv: list[str]) -> None:
    """Run a host tool, turning its failure into ConuException with its output."""
    try:
        run_cmd(argv)
    except subprocess.CalledProcessError as exc:
        msg = f"{argv[0]!r} failed with exit code {exc.returncode}: {exc.output}"
        raise ConuException(msg) from exc


# conu 1.0's import path of Volume.
from conu.utils.volume import Volume  # noqa: E402
