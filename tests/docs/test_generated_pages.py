"""The backend reference pages, as generated from the code (no Sphinx build, no engine)."""

from __future__ import annotations

import ast
import inspect
import io
import json
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from conu_docs.examples import Block, code_blocks, for_engine, kind_of
from conu_docs.pages import backend_page, class_pages, render
from conu_docs.support import method_support
from docs_seed import ROOT, SeedMethod

import conu
from conu.apidefs.backend import Backend
from conu.apidefs.container import Container
from conu.apidefs.image import Image
from conu.apidefs.specs import ExecStream
from conu.backend.docker.engine import DockerEngine
from conu.exceptions import UnsupportedOperation

BACKENDS = ("docker", "podman", "kubernetes", "archive")


def _compatible(seed: SeedMethod, cls: type) -> list[str]:
    """What keeps a call the seed documents from working with ``cls``'s signature."""
    params = list(inspect.signature(getattr(cls, seed.name)).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    by_name = {p.name: p for p in params}
    problems = []
    position = -1
    for name, default in seed.params:
        stars = len(name) - len(name.lstrip("*"))
        ours = by_name.get(name.lstrip("*"))
        if ours is None:
            problems.append(f"no parameter {name}")
            continue
        kinds = {
            0: (ours.POSITIONAL_OR_KEYWORD,),
            1: (ours.VAR_POSITIONAL,),
            2: (ours.VAR_KEYWORD,),
        }
        if ours.kind not in kinds[stars]:
            problems.append(f"{name} is {ours.kind.description}")
        if params.index(ours) < position:
            problems.append(f"{name} moved")
        position = params.index(ours)
        if default is not None and ours.default != ast.literal_eval(default):
            problems.append(f"{name} defaults to {ours.default!r}, not {default}")
    named = {n.lstrip("*") for n, _ in seed.params}
    for extra in params:
        if (
            extra.name not in named
            and extra.default is extra.empty
            and extra.kind
            in (
                extra.POSITIONAL_OR_KEYWORD,
                extra.KEYWORD_ONLY,
            )
        ):
            problems.append(f"new required parameter {extra.name}")
    return problems


def test_every_seed_method_is_on_the_docker_page_with_its_parameters(
    seed_methods: list[SeedMethod],
) -> None:
    pages = {page.cls.__name__: page for page in class_pages(conu.DockerBackend)}
    for seed in seed_methods:
        page = pages[seed.cls]
        assert seed.name in page.implemented, f"{seed.cls}.{seed.name} is not listed"
        assert seed.name not in page.unsupported
        members = render(page).split(":members: ", 1)[1].split("\n", 1)[0].split(", ")
        assert seed.name in members
        assert not _compatible(seed, page.cls), (seed, _compatible(seed, page.cls))


def test_the_docker_container_section_has_the_seed_shape() -> None:
    text = backend_page("docker")
    assert (
        "Aside from methods in API definition - :class:`conu.apidefs.container.Container`,"
        " DockerContainer implements following methods:" in text
    )
    section = text.split("Docker Container\n", 1)[1].split("\nDocker Container FS\n", 1)[0]
    assert ".. autoclass:: conu.DockerContainer" in section
    assert "These methods are specific to this backend: " in section
    assert "These generic methods are not implemented in this backend: none." in section


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_has_its_generated_page(name: str) -> None:
    backend = conu.get_backend(name)
    pages = {page.cls for page in class_pages(backend)}
    assert {backend, backend.ContainerClass, backend.ImageClass} <= pages
    assert f".. conu-backend:: {name}" in (ROOT / "docs" / "api" / f"{name}.rst").read_text()


# -- the derivation, on a backend made here ---------------------------------------------


class NoExecEngine(DockerEngine):
    """Docker without exec."""

    name = "no-exec"

    def exec_in_container(
        self,
        container_id: str,
        command: Sequence[str],
        *,
        options: Mapping[str, Any] | None = None,
    ) -> ExecStream:
        raise self.unsupported("exec_in_container")


class NoExecContainer(Container):
    backend_name = "no-exec"
    engine_class = NoExecEngine


class NoExecImage(Image):
    backend_name = "no-exec"
    engine_class = NoExecEngine
    container_class = NoExecContainer


class NoExecBackend(Backend):
    name = "no-exec"
    engine_class = NoExecEngine
    ContainerClass, ImageClass = NoExecContainer, NoExecImage


def test_a_primitive_left_out_makes_exactly_its_users_unsupported() -> None:
    support = method_support(NoExecBackend, NoExecContainer, ["execute", "logs", "copy_to"])
    assert support["execute"].status == "unsupported"
    assert support["execute"].reasons == ("NoExecEngine.exec_in_container",)
    assert support["logs"].status == support["copy_to"].status == "implemented"
    page = next(p for p in class_pages(NoExecBackend) if p.cls is NoExecContainer)
    assert "execute" in page.unsupported and "execute" not in page.implemented
    assert "NoExecEngine.exec_in_container" in render(page)


# -- the archive backend: what the page says is unsupported raises so ---------------------


def _docker_save(path: Path) -> Path:
    """A one-image ``docker save`` archive holding /etc/motd."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("etc/motd")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"hello\n"))
    import hashlib

    diff_id = "sha256:" + hashlib.sha256(layer.getvalue()).hexdigest()
    config = json.dumps(
        {"os": "linux", "architecture": "amd64", "config": {}, "rootfs": {"diff_ids": [diff_id]}}
    ).encode()
    manifest = [{"Config": "config.json", "RepoTags": ["docs/motd:1"], "Layers": ["l/layer.tar"]}]
    files = {
        "manifest.json": json.dumps(manifest).encode(),
        "config.json": config,
        "l/layer.tar": layer.getvalue(),
    }
    with tarfile.open(path, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _arguments(func: Any, tmp_path: Path) -> dict[str, Any]:
    """Plausible values for the parameters of ``func``, by their names."""
    values: dict[str, Any] = {
        "command": ["true"],
        "src": __file__,
        "dest": "/etc",
        "port": 8080,
        "file_path": str(tmp_path / "archive.tar"),
        "path": str(tmp_path),
        "image": str(tmp_path / "saved.tar"),
        "allowed_keys": ["199e2f91fd431d51"],
        "repository": "docs/other",
    }
    params = inspect.signature(func).parameters
    return {name: value for name, value in values.items() if name in params}


@pytest.fixture
def archive_objects(tmp_path: Path) -> Iterator[dict[type, Any]]:
    from conu.backend.archive.engine import ArchiveEngine

    engine = ArchiveEngine(tmpdir=str(tmp_path))
    image = conu.ArchiveImage(str(_docker_save(tmp_path / "archive.tar")), engine=engine)
    container = image.create_container()
    try:
        yield {conu.ArchiveImage: image, conu.ArchiveContainer: container}
    finally:
        container.delete()


def test_archive_methods_listed_unsupported_raise_unsupported_operation(
    archive_objects: dict[type, Any], tmp_path: Path
) -> None:
    checked = []
    for page in class_pages(conu.ArchiveBackend):
        target = archive_objects.get(page.cls)
        if target is None:
            continue
        assert page.unsupported, f"{page.cls.__name__}: nothing listed"
        for name in page.unsupported:
            method = getattr(target, name)
            with pytest.raises(UnsupportedOperation):
                result = method(**_arguments(method, tmp_path))
                list(result) if isinstance(result, Iterator) else result
            checked.append(f"{page.cls.__name__}.{name}")
        assert target.file_is_present("/etc/motd") if page.cls is conu.ArchiveImage else True
    assert "ArchiveContainer.start" in checked and "ArchiveImage.run_command" in checked


# -- the user guide's examples are all of a kind the tests run ----------------------------


def test_every_guide_example_is_of_a_kind_the_tests_run() -> None:
    blocks = [
        b for page in sorted((ROOT / "docs" / "guide").glob("*.rst")) for b in code_blocks(page)
    ]
    kinds = [kind_of(b) for b in blocks]
    assert "invalid" not in kinds, [b.where for b in blocks if kind_of(b) == "invalid"]
    assert kinds.count("python") + kinds.count("console") + kinds.count("pytest") >= 20
    # `make demo` in the repository's root, and the example of a TLS engine elsewhere
    classes = {c for b in blocks for c in b.classes}
    assert classes == {"repository-root", "remote-engine"}, classes


def _block(code: str, language: str = "console", **options: str) -> Block:
    return Block(Path("page.rst"), 1, language, code, options)


REMOTE_EXAMPLE = """\
$ export DOCKER_HOST=tcp://build-host.example:2376 DOCKER_TLS_VERIFY=1
$ export DOCKER_CERT_PATH=~/.docker/build-host
$ pytest test_remote.py
"""


def test_an_example_only_shown_or_of_an_unknown_class_is_an_error_of_the_page() -> None:
    assert kind_of(_block("$ make demo\n", **{"class": "not-run"})) == "invalid"
    assert kind_of(_block("$ make demo\n", **{"class": "highlighted"})) == "invalid"
    assert kind_of(_block("$ make demo\n", **{"class": "repository-root"})) == "console"
    assert kind_of(_block("print(1)\n", "python", **{"class": "repository-root"})) == "invalid"
    assert kind_of(_block(REMOTE_EXAMPLE, **{"class": "remote-engine"})) == "console"
    both = {"class": "remote-engine repository-root"}
    assert kind_of(_block(REMOTE_EXAMPLE, **both)) == "invalid"
    real_host = REMOTE_EXAMPLE.replace("build-host.example", "10.0.0.2")
    assert kind_of(_block(real_host, **{"class": "remote-engine"})) == "invalid"


def test_a_remote_engine_example_runs_against_the_tls_engine_the_tests_are_given() -> None:
    block = _block(REMOTE_EXAMPLE, **{"class": "remote-engine"})
    assert for_engine(block, {}) is None
    assert for_engine(block, {"DOCKER_HOST": "unix:///var/run/docker.sock"}) is None
    plain = {"DOCKER_HOST": "tcp://10.0.0.2:2375", "DOCKER_CERT_PATH": "/certs"}
    assert for_engine(block, plain) is None  # no TLS
    tls = {"DOCKER_HOST": "tcp://10.0.0.2:2376", "DOCKER_TLS_VERIFY": "1"}
    assert for_engine(block, {**tls, "DOCKER_CERT_PATH": "/var/lib/the certs"}) == (
        "$ export DOCKER_HOST=tcp://10.0.0.2:2376 DOCKER_TLS_VERIFY=1\n"
        "$ export DOCKER_CERT_PATH='/var/lib/the certs'\n"
        "$ pytest test_remote.py\n"
    )
