"""container-structure-test configuration files (schema 2.0.0, and 1.0.0), validated.

:func:`~conu.cst.loader.load` reads a YAML (or JSON) file into a :class:`Config` of frozen value
objects, or raises :class:`~conu.exceptions.InvalidConfig` naming the file and the field, e.g.
``cst.yaml: commandTests[1].args: expected a list of strings, got 'x'``. As with the
upstream tool, a field the schema does not know is an error (a typo is never ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from conu.exceptions import InvalidConfig

__all__ = [
    "SCHEMA_VERSIONS",
    "CommandTest",
    "Config",
    "EnvVar",
    "FileContentTest",
    "FileExistenceTest",
    "LicenseTest",
    "MetadataTest",
    "Reader",
    "RunOptions",
    "fail",
]

SCHEMA_VERSIONS = ("1.0.0", "2.0.0")
EXECUTABLE_BY = ("owner", "group", "other", "any")
T = TypeVar("T")


@attrs.frozen
class EnvVar:
    """A ``key``/``value`` pair (environment variable or label); ``value`` may be a regex."""

    key: str
    value: str = ""
    is_regex: bool = False


@attrs.frozen
class CommandTest:
    """``commandTests[]``: a command run in a fresh container of the image."""

    name: str
    command: str
    args: list[str] = attrs.field(factory=list)
    setup: list[list[str]] = attrs.field(factory=list)
    teardown: list[list[str]] = attrs.field(factory=list)
    env_vars: list[EnvVar] = attrs.field(factory=list)
    exit_code: int = 0
    expected_output: list[str] = attrs.field(factory=list)
    excluded_output: list[str] = attrs.field(factory=list)
    expected_error: list[str] = attrs.field(factory=list)
    excluded_error: list[str] = attrs.field(factory=list)


@attrs.frozen
class FileExistenceTest:
    """``fileExistenceTests[]``: a path (not) present, with owner and mode."""

    name: str
    path: str
    should_exist: bool = True
    permissions: str | None = None
    uid: int | None = None
    gid: int | None = None
    is_executable_by: str | None = None


@attrs.frozen
class FileContentTest:
    """``fileContentTests[]``: regexes a file's contents must (not) match."""

    name: str
    path: str
    expected_contents: list[str] = attrs.field(factory=list)
    excluded_contents: list[str] = attrs.field(factory=list)


@attrs.frozen
class MetadataTest:
    """``metadataTest``: the image's configuration. None means "not checked"."""

    env_vars: list[EnvVar] | None = None
    unbound_env_vars: list[str] | None = None
    labels: list[EnvVar] | None = None
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    workdir: str | None = None
    user: str | None = None
    exposed_ports: list[str] | None = None
    unexposed_ports: list[str] | None = None
    volumes: list[str] | None = None
    unmounted_volumes: list[str] | None = None


@attrs.frozen
class LicenseTest:
    """``licenseTests[]``: copyright files must not name a banned license."""

    debian: bool = False
    files: list[str] = attrs.field(factory=list)


@attrs.frozen
class RunOptions:
    """``containerRunOptions``: how the containers of command tests are run."""

    user: str | None = None
    privileged: bool = False
    allocate_tty: bool = False
    env_file: str | None = None
    env_vars: list[str] = attrs.field(factory=list)
    capabilities: list[str] = attrs.field(factory=list)
    bind_mounts: list[str] = attrs.field(factory=list)


@attrs.frozen
class Config:
    """One configuration file."""

    path: str
    schema_version: str
    command_tests: list[CommandTest] = attrs.field(factory=list)
    file_existence_tests: list[FileExistenceTest] = attrs.field(factory=list)
    file_content_tests: list[FileContentTest] = attrs.field(factory=list)
    metadata_test: MetadataTest | None = None
    license_tests: list[LicenseTest] = attrs.field(factory=list)
    global_env_vars: list[EnvVar] = attrs.field(factory=list)
    run_options: RunOptions = attrs.field(factory=RunOptions)

    def test_count(self) -> int:
        """How many tests the file holds (the metadata test counts when it checks anything)."""
        return (
            len(self.command_tests)
            + len(self.file_existence_tests)
            + len(self.file_content_tests)
            + len(self.license_tests)
            + (self.metadata_test is not None)
        )


class Reader:
    """Typed access to one mapping of the file, with the field path for messages."""

    def __init__(self, data: Any, where: str, file: str) -> None:
        if not isinstance(data, dict):
            fail(file, where, f"expected a mapping, got {_shown(data)}")
        self.data: dict[str, Any] = data
        self.where = where
        self.file = file
        self.known: set[str] = set()

    def field(self, key: str) -> str:
        """The dotted path of ``key`` in this mapping, for messages."""
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, check: Callable[[Any, str], T], default: Any = None) -> T:
        """The value of ``key`` after ``check(value, field)``; ``default`` when absent."""
        self.known.add(key)
        if key not in self.data or self.data[key] is None:
            return default
        return check(self.data[key], self.field(key))

    def required(self, key: str, check: Callable[[Any, str], T]) -> T:
        """Like :meth:`get`, but the field must be present and not empty."""
        value = self.get(key, check)
        if value in (None, ""):
            fail(self.file, self.field(key), "is required")
        return value

    def finish(self) -> None:
        """Reject fields the schema does not know."""
        unknown = sorted(set(self.data) - self.known, key=str)
        if unknown:
            known = ", ".join(sorted(self.known))
            fail(self.file, self.field(str(unknown[0])), f"unknown field (known here: {known})")

    # -- checks ---------------------------------------------------------------------------

    def string(self, value: Any, field: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            fail(self.file, field, f"expected a string, got {_shown(value)}")
        return str(value)

    def integer(self, value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail(self.file, field, f"expected an integer, got {_shown(value)}")
        return int(value)

    def boolean(self, value: Any, field: str) -> bool:
        if not isinstance(value, bool):
            fail(self.file, field, f"expected true or false, got {_shown(value)}")
        return value

    def strings(self, value: Any, field: str) -> list[str]:
        if not isinstance(value, list):
            fail(self.file, field, f"expected a list of strings, got {_shown(value)}")
        return [self.string(item, f"{field}[{i}]") for i, item in enumerate(value)]

    def commands(self, value: Any, field: str) -> list[list[str]]:
        if not isinstance(value, list):
            fail(self.file, field, f"expected a list of commands, got {_shown(value)}")
        found = [self.strings(item, f"{field}[{i}]") for i, item in enumerate(value)]
        for i, command in enumerate(found):
            if not command:
                fail(self.file, f"{field}[{i}]", "a command must not be empty")
        return found

    def mappings(self, value: Any, field: str) -> list[Reader]:
        if not isinstance(value, list):
            fail(self.file, field, f"expected a list, got {_shown(value)}")
        return [Reader(item, f"{field}[{i}]", self.file) for i, item in enumerate(value)]

    def env_vars(self, value: Any, field: str) -> list[EnvVar]:
        found = []
        for item in self.mappings(value, field):
            key = item.required("key", item.string)
            if not key.strip():
                fail(self.file, item.field("key"), "must not be empty")
            found.append(
                EnvVar(
                    key,
                    item.get("value", item.string, ""),
                    item.get("isRegex", item.boolean, False),
                )
            )
            item.finish()
        return found


def _shown(value: Any) -> str:
    kind = {dict: "a mapping", list: "a list", bool: "a boolean", type(None): "nothing"}
    return kind.get(type(value), f"{type(value).__name__} {value!r}")


def fail(file: str, field: str, problem: str) -> Any:
    """Raise InvalidConfig for ``field`` of ``file``."""
    raise InvalidConfig(f"{file}: {field}: {problem}" if field else f"{file}: {problem}")
