"""A small Dockerfile interpreter: each COPY, ADD and RUN (and a WORKDIR that creates its
directory) adds one layer, the difference it made to a working root directory.

Supported: FROM (``scratch`` or an image of the engine; a later FROM starts over), ARG, ENV,
LABEL, EXPOSE, VOLUME, CMD, ENTRYPOINT, SHELL, WORKDIR, USER, COPY and ADD (files and
directories of the context, globs; ADD does not fetch URLs or unpack archives), RUN (exec
and shell form, chrooted like a container's process). STOPSIGNAL, HEALTHCHECK, ONBUILD and
MAINTAINER are accepted and ignored; anything else fails the build.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import posixpath
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from typing import Any

import attrs

from conu.apidefs.specs import BuildSpec
from conu.exceptions import BuildFailed, ConuException
from conu.utils.archive import extract_tar_stream, remove_tree, tar_path
from conu.utils.rootfs import is_within, resolve_in_root
from conu_fakebackend import layers as fs
from conu_fakebackend.images import StoredImage, empty_config
from conu_fakebackend.process import container_path, reap, spawn, wait_exited

__all__ = ["BuildResult", "parse_dockerfile", "run_build"]

_VARIABLE = re.compile(r"\\\$|\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")
_IGNORED = {"STOPSIGNAL", "HEALTHCHECK", "ONBUILD", "MAINTAINER"}
_OUTPUT_TAIL = 2000


@attrs.define
class BuildResult:
    """What a build made: the image's config, its layers (base first) and its base's id."""

    config: dict[str, Any]
    layers: list[bytes]
    parent: str | None


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """Split a Dockerfile into ``(INSTRUCTION, arguments)``, joining continued lines."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in [*text.splitlines(), ""]:  # the empty line ends a trailing continuation
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        keyword, rest = [*(pending + line).split(None, 1), ""][:2]
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def _exec_form(text: str) -> list[str] | None:
    """Return the JSON array ``text`` is, or None (shell form)."""
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _pairs(text: str) -> list[tuple[str, str]]:
    """Parse ``K=V K2="V 2"`` or the legacy ``K the value`` form."""
    first = text.split(None, 1)
    if first and "=" not in first[0]:
        return [(first[0], first[1] if len(first) > 1 else "")]
    return [tuple(word.split("=", 1)) for word in shlex.split(text) if "=" in word]  # type: ignore[misc]


@attrs.define
class _Build:
    """The state of one build: the current stage's config, layers and working root."""

    spec: BuildSpec
    lookup: Callable[[str], StoredImage]
    scratch: str
    config: dict[str, Any] = attrs.Factory(empty_config)
    layers: list[bytes] = attrs.Factory(list)
    parent: str | None = None
    root: str | None = None
    index: fs.Index = attrs.Factory(dict)
    args: dict[str, str] = attrs.Factory(dict)
    shell: list[str] = attrs.Factory(lambda: ["/bin/sh", "-c"])

    def expand(self, text: str) -> str:
        """Substitute ``$VAR``, ``${VAR}`` and ``${VAR:-default}`` from ENV and ARG values."""
        values = {**self.args, **dict(_pairs_of(self.config["Env"]))}

        def value(match: re.Match[str]) -> str:
            if match[0] == "\\$":
                return "$"
            name = match[1] or match[3]
            return values.get(name) or (match[2] or "")

        return _VARIABLE.sub(value, text)

    def step(self, keyword: str, text: str) -> None:
        """Apply one instruction."""
        if keyword == "ARG":
            name, _, default = text.partition("=")
            self.args[name] = self.spec.build_args.get(name, default)
        elif keyword == "FROM":
            self.start(self.expand(text))
        elif self.root is None:
            msg = f"{keyword} before FROM"
            raise BuildFailed(msg)
        elif keyword in ("RUN", "COPY", "ADD"):
            if keyword == "RUN":
                self.run(text)
            else:
                self.copy(self.expand(text))
            self.commit(always=True)
        elif keyword == "WORKDIR":
            workdir = container_path(self.config["WorkingDir"], self.expand(text))
            self.config["WorkingDir"] = workdir
            os.makedirs(resolve_in_root(self.root, workdir), exist_ok=True)
            self.commit(always=False)
        else:
            self.configure(keyword, text)

    def configure(self, keyword: str, text: str) -> None:
        """Apply an instruction that only changes the config."""
        config = self.config
        if keyword == "ENV":
            env = dict(_pairs_of(config["Env"]))
            env.update(_pairs(self.expand(text)))
            config["Env"] = [f"{k}={v}" for k, v in env.items()]
        elif keyword == "LABEL":
            config["Labels"] = {**(config["Labels"] or {}), **dict(_pairs(self.expand(text)))}
        elif keyword == "EXPOSE":
            for port in self.expand(text).split():
                number, _, proto = port.partition("/")
                config["ExposedPorts"][f"{number}/{(proto or 'tcp').lower()}"] = {}
        elif keyword == "VOLUME":
            for volume in _exec_form(text) or self.expand(text).split():
                config["Volumes"][volume] = {}
        elif keyword in ("CMD", "ENTRYPOINT"):
            key = "Cmd" if keyword == "CMD" else "Entrypoint"
            config[key] = _exec_form(text) or [*self.shell, text]
        elif keyword == "SHELL":
            self.shell = _exec_form(text) or self.shell
        elif keyword == "USER":
            config["User"] = self.expand(text)
        elif keyword not in _IGNORED:
            msg = f"unknown or unsupported instruction {keyword} {text}"
            raise BuildFailed(msg)

    def start(self, text: str) -> None:
        """FROM: start a stage from ``scratch`` or an image of the engine."""
        words = [word for word in text.split() if not word.startswith("--")]
        if self.root is not None:
            remove_tree(self.root)
        self.root = tempfile.mkdtemp(dir=self.scratch) + "/root"
        if words[0] == "scratch":
            self.config, self.layers, self.parent = empty_config(), [], None
        else:
            try:
                base = self.lookup(words[0])
            except ConuException as exc:
                msg = f"FROM {words[0]}: {exc}"
                raise BuildFailed(msg) from exc
            inherited = copy.deepcopy(base.config)
            self.config = {
                k: v if inherited.get(k) is None else inherited[k]
                for k, v in empty_config().items()
            }
            self.config.update({k: v for k, v in inherited.items() if k not in self.config})
            self.layers, self.parent = list(base.layers), base.id
        fs.materialise(self.root, self.layers)
        self.index = fs.index_tree(self.root)

    def commit(self, *, always: bool) -> None:
        """Record the root's changes as a layer (``always``: even when there are none)."""
        assert self.root is not None
        before = self.index
        layer, self.index = fs.diff_layer(self.root, before)
        if always or self.index != before:
            self.layers.append(layer)

    def run(self, text: str) -> None:
        """RUN: run the command in the working root; a failure fails the build."""
        assert self.root is not None
        argv = _exec_form(text) or [*self.shell, text]
        env = {**self.args, **dict(_pairs_of(self.config["Env"]))}
        workdir = self.config["WorkingDir"] or "/"
        os.makedirs(resolve_in_root(self.root, workdir), exist_ok=True)
        with tempfile.TemporaryFile(dir=self.scratch) as output:
            try:
                process = spawn(
                    self.root, argv, env, workdir, self.config["User"] or "",
                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                )  # fmt: skip
            except ConuException as exc:
                msg = f"RUN {text}: {exc}"
                raise BuildFailed(msg) from exc
            finished = wait_exited(process.pid, self.spec.timeout)
            if not finished:
                process.kill()
            code = reap(process, self.root)
            output.seek(0)
            tail = output.read()[-_OUTPUT_TAIL:].decode(errors="replace")
        if not finished or code:
            problem = "timed out" if not finished else f"returned exit code {code}"
            msg = f"RUN {text} {problem}:\n{tail}"
            raise BuildFailed(msg)

    def copy(self, text: str) -> None:
        """COPY/ADD: copy files and directories of the context into the working root."""
        assert self.root is not None
        words = _exec_form(text) or text.split()
        if any(word.startswith("--from") for word in words):
            msg = f"COPY --from is not supported: {text}"
            raise BuildFailed(msg)
        words = [word for word in words if not word.startswith("--")]
        if len(words) < 2:
            msg = f"COPY needs a source and a destination: {text}"
            raise BuildFailed(msg)
        dest = container_path(self.config["WorkingDir"], words[-1])
        context = os.path.realpath(self.spec.path)
        sources = []
        for pattern in words[:-1]:
            found = sorted(glob.glob(os.path.join(context, pattern)))
            if not found or not all(is_within(context, os.path.realpath(p)) for p in found):
                msg = f"COPY {pattern}: no such file in the build context"
                raise BuildFailed(msg)
            sources.extend(found)
        host_dest = resolve_in_root(self.root, dest)
        into = words[-1].endswith("/") or len(sources) > 1 or os.path.isdir(host_dest)
        for source in sources:
            if os.path.isdir(source):
                self.put(source, dest, ".")
            elif into:
                self.put(source, dest, os.path.basename(source))
            else:
                self.put(source, posixpath.dirname(dest), posixpath.basename(dest))

    def put(self, source: str, directory: str, name: str) -> None:
        """Extract the host path ``source`` as ``name`` into ``directory`` of the root."""
        assert self.root is not None
        host_dir = resolve_in_root(self.root, directory)
        os.makedirs(host_dir, exist_ok=True)
        with tar_path(source, arcname=name) as archive:
            extract_tar_stream(archive, host_dir)


def _pairs_of(env: list[str] | None) -> list[tuple[str, str]]:
    return [tuple(item.split("=", 1)) for item in env or () if "=" in item]  # type: ignore[misc]


def run_build(spec: BuildSpec, lookup: Callable[[str], StoredImage], scratch: str) -> BuildResult:
    """Interpret the Dockerfile of ``spec`` in a directory below ``scratch``.

    Raises:
        BuildFailed: the Dockerfile cannot be read or a step failed.
    """
    dockerfile = os.path.join(spec.path, spec.dockerfile or "Dockerfile")
    try:
        with open(dockerfile, encoding="utf-8") as file:
            instructions = parse_dockerfile(file.read())
    except OSError as exc:
        msg = f"cannot read the Dockerfile: {exc}"
        raise BuildFailed(msg) from exc
    work = tempfile.mkdtemp(dir=scratch, prefix="build-")
    build = _Build(spec, lookup, work)
    try:
        for keyword, text in instructions:
            try:
                build.step(keyword, text)
            except (ConuException, OSError) as exc:
                if isinstance(exc, BuildFailed):
                    raise
                msg = f"{keyword} {text}: {exc}"
                raise BuildFailed(msg) from exc
        if build.root is None:
            msg = "the Dockerfile has no FROM"
            raise BuildFailed(msg)
        build.config["Labels"] = {**(build.config["Labels"] or {}), **spec.labels}
        return BuildResult(build.config, build.layers, build.parent)
    finally:
        remove_tree(work)
