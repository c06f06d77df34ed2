"""Package checks of an image: RPM signatures (``rpm -qa`` in a helper container)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from conu.apidefs.metadata import CommandResult
from conu.exceptions import CommandFailed, InvalidArgument
from conu.utils.rpms import RPM_QUERY_FORMAT, check_signatures

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine

__all__ = ["ImagePackagesMixin"]


class ImagePackagesMixin:
    """Which packages an image holds, and who signed them."""

    _RPM_STDERR_IS_LISTED: ClassVar[bool] = False
    """Whether ``rpm -qa``'s stderr lines are checked as package lines too (Docker's)."""

    if TYPE_CHECKING:

        def _engine(self, operation: str) -> Engine: ...

        def get_full_name(self) -> str: ...

        def run_command(self, command: list[str], *, timeout: float = ...) -> CommandResult: ...

    def has_pkgs_signed_with(self, allowed_keys: list[str], timeout: float = 300) -> bool:
        """Check that every RPM package in the image is signed with one of ``allowed_keys``.

        Runs ``rpm -qa`` in a helper container of the image (needs ``rpm`` in the image) and
        waits for it to exit before reading its output.

        Args:
            allowed_keys: key ids (hex, any case), e.g. ``["f55ad3fb5323552a"]``.
            timeout: seconds ``rpm`` may take.

        Returns:
            True.

        Raises:
            InvalidArgument: ``allowed_keys`` is not a non-empty list.
            CommandDoesNotExistException: the image has no ``rpm``.
            CommandFailed: ``rpm`` failed.
            PackageSignatureException: a package is unsigned or signed with another key.
        """
        self._engine("has_pkgs_signed_with")
        if not isinstance(allowed_keys, list) or not allowed_keys:
            msg = f"allowed_keys must be a non-empty list of key ids, not {allowed_keys!r}"
            raise InvalidArgument(msg)
        result = self.run_command(["rpm", "-qa", "--qf", RPM_QUERY_FORMAT], timeout=timeout)
        code, output = result.exit_code, result.stdout + result.stderr
        if code != 0:
            reason = output.decode("utf-8", errors="replace")
            msg = f"rpm -qa failed in image {self.get_full_name()!r} (exit code {code}): {reason}"
            raise CommandFailed(msg, exit_code=code, output=output)
        listed = output if self._RPM_STDERR_IS_LISTED else result.stdout
        check_signatures(listed.decode("utf-8", errors="replace").splitlines(), allowed_keys)
        return True
