"""Loading container-structure-test files into :mod:`conu.cst.config` objects."""

from __future__ import annotations

import os
from typing import Any

from conu.cst.config import (
    EXECUTABLE_BY,
    SCHEMA_VERSIONS,
    CommandTest,
    Config,
    FileContentTest,
    FileExistenceTest,
    LicenseTest,
    MetadataTest,
    Reader,
    RunOptions,
    fail,
)

__all__ = ["load", "parse"]


def load(path: str | os.PathLike[str]) -> Config:
    """Read and validate the configuration file ``path`` (YAML or JSON).

    Raises:
        InvalidConfig: the file cannot be read, is not YAML, or does not follow the schema;
            the message names the file and the field.
    """
    import yaml

    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as stream:
            data = yaml.safe_load(stream)
    except OSError as exc:
        fail(name, "", f"cannot be read: {exc.strerror or exc}")
    except yaml.YAMLError as exc:
        fail(name, "", f"is not valid YAML: {exc}")
    return parse(data, name)


def parse(data: Any, file: str = "<config>") -> Config:
    """Validate the parsed document ``data`` of ``file``."""
    if data is None:
        fail(file, "", "is empty")
    top = Reader(data, "", file)
    version = top.required("schemaVersion", top.string)
    if version not in SCHEMA_VERSIONS:
        fail(
            file,
            "schemaVersion",
            f"{version!r} is not supported (use {' or '.join(SCHEMA_VERSIONS)})",
        )
    config = Config(
        path=file,
        schema_version=version,
        command_tests=[_command(r, version) for r in top.get("commandTests", top.mappings, [])],
        file_existence_tests=[
            _existence(r) for r in top.get("fileExistenceTests", top.mappings, [])
        ],
        file_content_tests=[_content(r) for r in top.get("fileContentTests", top.mappings, [])],
        metadata_test=_metadata(top, version),
        license_tests=[_license(r) for r in top.get("licenseTests", top.mappings, [])],
        global_env_vars=top.get("globalEnvVars", top.env_vars, []),
        run_options=_run_options(top),
    )
    top.finish()
    return config


def _command(r: Reader, version: str) -> CommandTest:
    if version == "1.0.0" and isinstance(r.data.get("command"), list):
        # Schema 1.0.0: "command" is the whole argv, there is no "args".
        argv = r.required("command", r.strings)
        command, args = (argv[0], argv[1:]) if argv else ("", [])
        if not command:
            fail(r.file, r.field("command"), "is required")
    else:
        command, args = r.required("command", r.string), r.get("args", r.strings, [])
    test = CommandTest(
        name=r.required("name", r.string),
        command=command,
        args=args,
        setup=r.get("setup", r.commands, []),
        teardown=r.get("teardown", r.commands, []),
        env_vars=r.get("envVars", r.env_vars, []),
        exit_code=r.get("exitCode", r.integer, 0),
        expected_output=_regexes(r, "expectedOutput"),
        excluded_output=_regexes(r, "excludedOutput"),
        expected_error=_regexes(r, "expectedError"),
        excluded_error=_regexes(r, "excludedError"),
    )
    r.finish()
    return test


def _existence(r: Reader) -> FileExistenceTest:
    executable_by = r.get("isExecutableBy", r.string)
    if executable_by is not None and executable_by not in EXECUTABLE_BY:
        fail(r.file, f"{r.where}.isExecutableBy", f"must be one of {', '.join(EXECUTABLE_BY)}")
    permissions = r.get("permissions", r.string)
    if permissions is not None and len(permissions) < 10:
        fail(
            r.file,
            f"{r.where}.permissions",
            f"expected a mode string like -rw-r--r--, got {permissions!r}",
        )
    test = FileExistenceTest(
        name=r.required("name", r.string),
        path=r.required("path", r.string),
        should_exist=r.get("shouldExist", r.boolean, True),
        permissions=permissions,
        uid=r.get("uid", r.integer),
        gid=r.get("gid", r.integer),
        is_executable_by=executable_by,
    )
    r.finish()
    return test


def _content(r: Reader) -> FileContentTest:
    test = FileContentTest(
        name=r.required("name", r.string),
        path=r.required("path", r.string),
        expected_contents=_regexes(r, "expectedContents"),
        excluded_contents=_regexes(r, "excludedContents"),
    )
    r.finish()
    return test


def _metadata(top: Reader, version: str) -> MetadataTest | None:
    section = top.get("metadataTest", lambda value, field: Reader(value, field, top.file))
    if section is None:
        return None
    r = section
    # Older upstream releases named the first two "env" and "unboundEnv".
    env_key = "env" if "env" in r.data else "envVars"
    unbound_key = "unboundEnv" if "unboundEnv" in r.data else "unboundEnvVars"
    test = MetadataTest(
        env_vars=r.get(env_key, r.env_vars),
        unbound_env_vars=r.get(unbound_key, _keys(r)),
        labels=r.get("labels", r.env_vars),
        entrypoint=r.get("entrypoint", r.strings),
        cmd=r.get("cmd", r.strings),
        workdir=r.get("workdir", r.string),
        user=r.get("user", r.string),
        exposed_ports=r.get("exposedPorts", r.strings),
        unexposed_ports=r.get("unexposedPorts", r.strings),
        volumes=r.get("volumes", r.strings),
        unmounted_volumes=r.get("unmountedVolumes", r.strings),
    )
    r.finish()
    return None if test == MetadataTest() else test


def _keys(r: Reader) -> Any:
    """``unboundEnvVars``: plain names, or ``{key: NAME}`` entries as upstream writes them."""

    def check(value: Any, field: str) -> list[str]:
        if not isinstance(value, list):
            fail(r.file, field, f"expected a list, got {type(value).__name__}")
        return [
            item["key"]
            if isinstance(item, dict) and "key" in item
            else r.string(item, f"{field}[{i}]")
            for i, item in enumerate(value)
        ]

    return check


def _license(r: Reader) -> LicenseTest:
    test = LicenseTest(
        debian=r.get("debian", r.boolean, False), files=r.get("files", r.strings, [])
    )
    r.finish()
    return test


def _run_options(top: Reader) -> RunOptions:
    r = top.get("containerRunOptions", lambda value, field: Reader(value, field, top.file))
    if r is None:
        return RunOptions()
    options = RunOptions(
        user=r.get("user", r.string),
        privileged=r.get("privileged", r.boolean, False),
        allocate_tty=r.get("allocateTty", r.boolean, False),
        env_file=r.get("envFile", r.string),
        env_vars=r.get("envVars", r.strings, []),
        capabilities=r.get("capabilities", r.strings, []),
        bind_mounts=r.get("bindMounts", r.strings, []),
    )
    r.finish()
    return options


def _regexes(r: Reader, key: str) -> list[str]:
    import re

    found: list[str] = r.get(key, r.strings, [])
    for i, pattern in enumerate(found):
        try:
            re.compile(pattern)
        except re.error as exc:
            fail(r.file, f"{r.field(key)}[{i}]", f"not a valid regular expression: {exc}")
    return found
