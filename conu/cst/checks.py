"""The checks of each container-structure-test kind, on any conu backend's image.

Each ``check_*`` function takes the image (the abstract :class:`conu.apidefs.image.Image`
API only) and one test, and returns a :class:`Result`; problems with the image or the
engine are raised as conu exceptions, failed expectations are recorded in the result.
"""

from __future__ import annotations

import re
import stat
import time
from typing import Any

import attrs

from conu.apidefs.metadata import PathKind
from conu.cst.config import EnvVar, FileContentTest, FileExistenceTest, LicenseTest, MetadataTest

__all__ = [
    "Result",
    "check_file_content",
    "check_file_existence",
    "check_license",
    "check_metadata",
    "expand",
    "go_filemode",
    "regex_problems",
]

BANNED_LICENSES = ("AGPL", "WTFPL")
"""Words that, in a copyright file, fail a license test (upper-cased comparison)."""
LICENSE_EXEMPT = ("libgnutls30",)
DEBIAN_DOCS = "/usr/share/doc"
_EXECUTE_BITS = {"owner": 0o100, "group": 0o010, "other": 0o001, "any": 0o111}
_VAR = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+)|([*#$@!?-]))")


@attrs.define
class Result:
    """The outcome of one test."""

    name: str
    passed: bool = True
    errors: list[str] = attrs.field(factory=list)
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0

    def fail(self, message: str) -> None:
        """Record a failed expectation."""
        self.passed = False
        self.errors.append(message)


def timed(result: Result, started: float) -> Result:
    """Set the result's duration from ``started`` (a ``time.monotonic()``) and return it."""
    result.duration = time.monotonic() - started
    return result


def expand(text: str, env: dict[str, str]) -> str:
    """Expand ``$NAME`` and ``${NAME}`` from ``env`` as a POSIX shell would (unset → "")."""
    return _VAR.sub(lambda m: env.get(next(g for g in m.groups() if g is not None), ""), text)


def go_filemode(mode: int) -> str:
    """Format ``st_mode`` as Go's ``os.FileMode.String()`` does (``drwxr-xr-x``,
    ``Lrwxrwxrwx`` for a symlink, ``urwxr-xr-x`` for setuid, ``dtrwxrwxrwx`` for /tmp)."""
    kinds = [
        ("d", stat.S_ISDIR(mode)),
        ("L", stat.S_ISLNK(mode)),
        ("D", stat.S_ISBLK(mode) or stat.S_ISCHR(mode)),
        ("p", stat.S_ISFIFO(mode)),
        ("S", stat.S_ISSOCK(mode)),
        ("u", bool(mode & stat.S_ISUID)),
        ("g", bool(mode & stat.S_ISGID)),
        ("c", stat.S_ISCHR(mode)),
        ("t", bool(mode & stat.S_ISVTX)),
    ]
    prefix = "".join(letter for letter, present in kinds if present) or "-"
    bits = "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    return prefix + bits


def regex_problems(patterns: list[str], text: str, *, expected: bool, what: str) -> list[str]:
    """Messages for the ``patterns`` that do not (``expected``) or do match ``text``."""
    problems = []
    for pattern in patterns:
        found = re.search(pattern, text, re.MULTILINE) is not None
        if found != expected:
            verb = "not found in" if expected else "found in"
            problems.append(
                f"{'Expected' if expected else 'Excluded'} {pattern!r} {verb} {what}: {text!r}"
            )
    return problems


def check_file_existence(image: Any, test: FileExistenceTest) -> Result:
    """A ``fileExistenceTests`` entry (the path itself, not what a final symlink names)."""
    started, result = time.monotonic(), Result(f"File Existence Test: {test.name}")
    info = image.path_info(test.path)
    if info is None:
        if test.should_exist:
            result.fail(f"File {test.path} should exist but does not")
        return timed(result, started)
    if not test.should_exist:
        result.fail(f"File {test.path} should not exist but does")
        return timed(result, started)
    mode = go_filemode(info.mode)
    if test.permissions is not None and test.permissions != mode:
        result.fail(
            f"{test.path} has incorrect permissions. Expected: {test.permissions}, Actual: {mode}"
        )
    if test.uid is not None and test.uid != info.uid:
        result.fail(
            f"{test.path} has incorrect user ownership. Expected: {test.uid}, Actual: {info.uid}"
        )
    if test.gid is not None and test.gid != info.gid:
        result.fail(
            f"{test.path} has incorrect group ownership. Expected: {test.gid}, Actual: {info.gid}"
        )
    if test.is_executable_by and not info.mode & _EXECUTE_BITS[test.is_executable_by]:
        result.fail(f"{test.path} is not executable by {test.is_executable_by} (mode {mode})")
    return timed(result, started)


def check_file_content(image: Any, test: FileContentTest) -> Result:
    """A ``fileContentTests`` entry: the file must exist and be a regular file."""
    started, result = time.monotonic(), Result(f"File Content Test: {test.name}")
    info = image.path_info(test.path)
    if info is not None and info.kind is PathKind.DIRECTORY:
        result.fail(f"{test.path} is a directory, not a file")
        return timed(result, started)
    if info is None:
        result.fail(f"File {test.path} does not exist")
        return timed(result, started)
    contents = image.read_file(test.path)
    what = f"file {test.path}"
    for problem in regex_problems(test.expected_contents, contents, expected=True, what=what):
        result.fail(problem)
    for problem in regex_problems(test.excluded_contents, contents, expected=False, what=what):
        result.fail(problem)
    return timed(result, started)


def check_metadata(image: Any, test: MetadataTest) -> Result:
    """The ``metadataTest``: only the fields it names are checked."""
    started, result = time.monotonic(), Result("Metadata Test")
    md = image.get_metadata()
    _pairs(result, "environment variable", test.env_vars, md.env_variables or {})
    _pairs(result, "label", test.labels, md.labels or {})
    for key in test.unbound_env_vars or ():
        if key in (md.env_variables or {}):
            result.fail(f"Environment variable {key} should not be set but is")
    _exact(result, "entrypoint", test.entrypoint, md.entrypoint or [])
    _exact(result, "cmd", test.cmd, md.command or [])
    _exact(result, "workdir", test.workdir, md.working_dir or "")
    _exact(result, "user", test.user, md.user or "")
    ports = [p.split("/")[0] for p in md.exposed_ports or ()] + list(md.exposed_ports or ())
    _members(result, "port", "exposed", test.exposed_ports, ports, present=True)
    _members(result, "port", "exposed", test.unexposed_ports, ports, present=False)
    volumes = list(md.volumes or ())
    _members(result, "volume", "mounted", test.volumes, volumes, present=True)
    _members(result, "volume", "mounted", test.unmounted_volumes, volumes, present=False)
    return timed(result, started)


def _pairs(result: Result, kind: str, wanted: list[EnvVar] | None, actual: dict[str, str]) -> None:
    if wanted is None:
        return
    if not wanted and actual:
        result.fail(f"Expected no {kind}s, found: {sorted(actual)}")
    for pair in wanted:
        if pair.key not in actual:
            result.fail(f"{kind.capitalize()} {pair.key} not found in image metadata")
            continue
        value = actual[pair.key]
        ok = re.search(pair.value, value) is not None if pair.is_regex else value == pair.value
        if not ok:
            how = "does not match" if pair.is_regex else "is not"
            result.fail(f"{kind.capitalize()} {pair.key} is {value!r}, which {how} {pair.value!r}")


def _exact(result: Result, field: str, wanted: Any, actual: Any) -> None:
    if wanted is not None and wanted != actual:
        result.fail(f"Image {field} {actual!r} does not match expected {field} {wanted!r}")


def _members(
    result: Result,
    kind: str,
    state: str,
    wanted: list[str] | None,
    actual: list[str],
    *,
    present: bool,
) -> None:
    if wanted is None:
        return
    if present and not wanted and actual:
        result.fail(f"Expected no {kind}s {state}, found: {sorted(set(actual))}")
    for item in wanted:
        if (item in actual) != present:
            problem = f"is not {state}" if present else f"should not be {state}, but is"
            result.fail(f"{kind.capitalize()} {item} {problem}")


def check_license(image: Any, test: LicenseTest) -> Result:
    """A ``licenseTests`` entry: copyright files must not name a banned license.

    The Debian packages' copyright files are read in one walk of ``/usr/share/doc`` when
    the image can walk a directory (one archive read), one lookup each otherwise.
    """
    started, result = time.monotonic(), Result("License Test")
    texts: dict[str, str | None] = {path: None for path in test.files}
    if test.debian:
        texts.update(_debian_copyrights(image))
    for path, text in texts.items():
        if text is None:
            if image.path_info(path) is None:
                result.fail(f"Error reading license file {path}: it does not exist")
                continue
            text = image.read_file(path)
        for word in BANNED_LICENSES:
            if word in text.upper():
                result.fail(f"Invalid license for {path}, license contains {word}")
    return timed(result, started)


def _debian_copyrights(image: Any) -> dict[str, str | None]:
    """``/usr/share/doc/<package>/copyright`` of every package directory (not a link to
    one), with its text when the walk could read it (None: look it up)."""
    if not hasattr(image, "walk"):
        found: dict[str, str | None] = {}
        for package in image.list_directory(DEBIAN_DOCS):
            info = image.path_info(f"{DEBIAN_DOCS}/{package}")
            if info is not None and info.kind is PathKind.DIRECTORY:
                found[f"{DEBIAN_DOCS}/{package}/copyright"] = None
        return {p: t for p, t in found.items() if p.split("/")[-2] not in LICENSE_EXEMPT}
    packages: list[str] = []
    texts: dict[str, str] = {}
    for relative, info, data in image.walk(DEBIAN_DOCS, _is_copyright):
        if "/" not in relative and info.kind is PathKind.DIRECTORY:
            packages.append(relative)
        elif data is not None:
            texts[relative.split("/")[0]] = data.decode("utf-8", errors="replace")
    return {
        f"{DEBIAN_DOCS}/{package}/copyright": texts.get(package)
        for package in sorted(packages)
        if package not in LICENSE_EXEMPT
    }


def _is_copyright(relative: str) -> bool:
    return relative.count("/") == 1 and relative.endswith("/copyright")
