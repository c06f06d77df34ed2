"""Every error conu raises on purpose.

The tree::

    ConuException
    ├── ProbeTimeout (TimeoutError)         a Probe or wait ran out of time
    ├── CountExceeded                       a Probe used up its number of tries
    ├── CommandDoesNotExistException        a host command conu relies on is missing
    ├── PackageSignatureException           packages in an image are unsigned or wrongly signed
    ├── InvalidArgument (ValueError)        an argument is malformed (reference, port, option)
    │   ├── InvalidConfig                   a test configuration file is unusable (names the field)
    │   └── InvalidReference                an image reference cannot be parsed
    ├── UnknownBackend (LookupError)        no backend plugin is installed under that name
    ├── UnsupportedOperation (NotImplementedError)
    │                                       the backend does not implement this operation
    ├── EngineError                         the engine refused or failed a request
    │   ├── EngineUnreachable (ConnectionError)
    │   │                                   the engine does not answer at all
    │   ├── NotFound (LookupError)          the engine knows no such object
    │   │   ├── ContainerNotFound
    │   │   └── ImageNotFound
    │   ├── Conflict                        the object is in the wrong state (e.g. not running)
    │   └── RegistryError                   a pull, push or login failed
    ├── BuildFailed                         an image build failed
    ├── ContainerFailed                     a container could not be run or exited badly
    ├── CommandFailed                       a command in a container failed (has its exit code)
    ├── UnsafePath                          a path or archive member would lead out of its root
    └── WrongFileType (OSError)             a path exists but is not of the kind asked about

Engine errors (``docker.errors.*`` and friends) are translated into this tree at one boundary
per backend and kept as ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "BuildFailed",
    "CommandDoesNotExistException",
    "CommandFailed",
    "Conflict",
    "ContainerFailed",
    "ContainerNotFound",
    "ConuException",
    "CountExceeded",
    "EngineError",
    "EngineUnreachable",
    "ImageNotFound",
    "InvalidArgument",
    "InvalidConfig",
    "InvalidReference",
    "NotFound",
    "PackageSignatureException",
    "ProbeTimeout",
    "RegistryError",
    "UnknownBackend",
    "UnsafePath",
    "UnsupportedOperation",
    "WrongFileType",
]


class ConuException(Exception):
    """Root of every error conu raises on purpose."""


class ProbeTimeout(ConuException, TimeoutError):
    """A probe or a wait did not see what it waited for in time."""


class CountExceeded(ConuException):
    """A probe used up its number of tries without seeing what it waited for."""


class CommandDoesNotExistException(ConuException):
    """A command on the host that conu needs for this operation is not installed."""


class PackageSignatureException(ConuException):
    """Packages in an image are not signed, or signed with a key that is not allowed."""


class InvalidArgument(ConuException, ValueError):
    """An argument has the right type but a value conu cannot use."""


class InvalidConfig(InvalidArgument):
    """A test configuration file (e.g. container-structure-test YAML) cannot be used; the
    message names the file and the field."""


class InvalidReference(InvalidArgument):
    """An image reference (``registry[:port]/repo[:tag][@digest]``) is malformed."""


class UnknownBackend(ConuException, LookupError):
    """No backend plugin is installed under the requested name."""


class UnsupportedOperation(ConuException, NotImplementedError):
    """The backend does not implement this operation.

    Args:
        backend: the backend's name, e.g. ``"docker"``.
        operation: the qualified name of the operation, e.g. ``"Container.get_pid"``.
    """

    def __init__(self, backend: str, operation: str) -> None:
        self.backend = backend
        self.operation = operation
        super().__init__(f"backend {backend!r} does not support {operation}()")


class EngineError(ConuException):
    """The container engine refused or failed a request."""


class EngineUnreachable(EngineError, ConnectionError):
    """The container engine does not answer (not running, wrong address, no permission)."""


class NotFound(EngineError, LookupError):
    """The engine has no object of that id or name."""


class ContainerNotFound(NotFound):
    """The engine has no container of that id or name."""


class ImageNotFound(NotFound):
    """The engine (or the registry) has no image of that reference or id."""


class Conflict(EngineError):
    """The object is not in a state that allows the operation (e.g. exec in a stopped container)."""


class RegistryError(EngineError):
    """A pull, push or login against a registry failed."""


class BuildFailed(ConuException):
    """Building an image failed; the message carries the builder's last output."""


class ContainerFailed(ConuException):
    """A container could not be created or started, or exited in an unexpected way."""


class CommandFailed(ConuException):
    """A command executed in a container failed; ``exit_code`` is None when it never ran."""

    def __init__(self, message: str, exit_code: int | None = None, output: bytes = b"") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.output = output


class UnsafePath(ConuException):
    """A path, symlink or archive member would lead outside the root it must stay in."""


class WrongFileType(ConuException, OSError):
    """A path exists but is not of the kind asked about (a directory where a file was asked).

    It is an :class:`OSError` too, as conu 1.0's presence checks raised ``IOError``.
    """
