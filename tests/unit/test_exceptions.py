"""The error tree and conu 1.0's import paths."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import conu
import conu.exceptions as exc_module
from conu.exceptions import (
    CommandFailed,
    ConuException,
    UnsupportedOperation,
)

ALL_ERRORS = [getattr(exc_module, name) for name in exc_module.__all__]

MIXINS: dict[str, type[BaseException]] = {
    "ProbeTimeout": TimeoutError,
    "UnsupportedOperation": NotImplementedError,
    "UnknownBackend": LookupError,
    "NotFound": LookupError,
    "ContainerNotFound": LookupError,
    "ImageNotFound": LookupError,
    "InvalidArgument": ValueError,
    "InvalidReference": ValueError,
    "InvalidConfig": ValueError,
    "EngineUnreachable": ConnectionError,
    "WrongFileType": OSError,
}

PARENTS = {
    "InvalidReference": "InvalidArgument",
    "InvalidConfig": "InvalidArgument",
    "EngineUnreachable": "EngineError",
    "NotFound": "EngineError",
    "ContainerNotFound": "NotFound",
    "ImageNotFound": "NotFound",
    "Conflict": "EngineError",
    "RegistryError": "EngineError",
}


def test_all_lists_every_exception_class() -> None:
    defined = {
        name
        for name, obj in vars(exc_module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == exc_module.__name__
    }
    assert defined == set(exc_module.__all__)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_is_a_conu_exception_with_a_docstring(cls: type[Exception]) -> None:
    assert issubclass(cls, ConuException)
    assert cls.__doc__ and cls.__doc__.strip()


@pytest.mark.parametrize(("name", "builtin"), MIXINS.items())
def test_builtin_mixins(name: str, builtin: type[BaseException]) -> None:
    assert issubclass(getattr(exc_module, name), builtin)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_no_undeclared_builtin_mixins(cls: type[Exception]) -> None:
    declared = MIXINS.get(cls.__name__)
    for builtin in (TimeoutError, NotImplementedError, LookupError, ValueError, OSError):
        if declared is None or not issubclass(declared, builtin):
            assert not issubclass(cls, builtin), f"{cls.__name__} is a {builtin.__name__}"


@pytest.mark.parametrize(("child", "parent"), PARENTS.items())
def test_subtrees(child: str, parent: str) -> None:
    assert issubclass(getattr(exc_module, child), getattr(exc_module, parent))


def test_unsupported_operation_names_backend_and_operation() -> None:
    error = UnsupportedOperation("fake", "FakeContainer.get_pid")
    assert (error.backend, error.operation) == ("fake", "FakeContainer.get_pid")
    assert "'fake'" in str(error)
    assert "FakeContainer.get_pid" in str(error)


def test_command_failed_keeps_exit_code_and_output() -> None:
    error = CommandFailed("exit code 2", exit_code=2, output=b"oops")
    assert (str(error), error.exit_code, error.output) == ("exit code 2", 2, b"oops")
    assert CommandFailed("never ran").exit_code is None


def test_conu_1_0_import_paths() -> None:
    from conu import (  # noqa: F401
        CleanupPolicy,
        ConuException,
        CountExceeded,
        Directory,
        DockerBackend,
        DockerContainer,
        DockerImage,
        DockerImagePullPolicy,
        DockerRunBuilder,
        Probe,
        ProbeTimeout,
    )
    from conu.apidefs.backend import Backend, get_backend_tmpdir, set_logging  # noqa: F401
    from conu.apidefs.backend import CleanupPolicy as ApiCleanupPolicy
    from conu.apidefs.metadata import (  # noqa: F401
        ContainerMetadata,
        ContainerStatus,
        ImageMetadata,
        Metadata,
    )
    from conu.backend.docker.backend import parse_reference
    from conu.backend.docker.constants import CONU_ARTIFACT_TAG
    from conu.backend.docker.container import ConuException as ContainerModuleConuException
    from conu.exceptions import ConuException as Root
    from conu.exceptions import CountExceeded as ExcCountExceeded
    from conu.exceptions import PackageSignatureException
    from conu.exceptions import ProbeTimeout as ExcProbeTimeout
    from conu.utils import CommandDoesNotExistException
    from conu.utils import parse_reference as utils_parse_reference
    from conu.utils.probes import CountExceeded as ProbesCountExceeded
    from conu.utils.probes import Probe as ProbesProbe
    from conu.utils.probes import ProbeTimeout as ProbesProbeTimeout

    assert ConuException is Root is ContainerModuleConuException
    assert ProbeTimeout is ExcProbeTimeout is ProbesProbeTimeout
    assert CountExceeded is ExcCountExceeded is ProbesCountExceeded
    assert Probe is ProbesProbe
    assert CleanupPolicy is ApiCleanupPolicy
    assert parse_reference is utils_parse_reference
    assert issubclass(PackageSignatureException, Root)
    assert issubclass(CommandDoesNotExistException, Root)
    assert CONU_ARTIFACT_TAG == "conu.test_artifact"


VERSION_SCRIPT = """
import conu
first = conu.version
from conu.version import __version__
assert isinstance(first, str) and first == conu.__version__ == __version__, first
assert conu.version == __version__, f"conu.version became {conu.version!r}"
"""


def test_version_is_the_version_string() -> None:
    assert isinstance(conu.__version__, str)
    assert conu.__version__ == importlib.import_module("conu._version").__version__


def test_version_stays_a_string_after_importing_conu_version() -> None:
    result = subprocess.run(
        [sys.executable, "-c", VERSION_SCRIPT], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
