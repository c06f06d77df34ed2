"""The documentation site builds with warnings as errors, and its Docker page documents every
method of the seed page with its parameters (read from the built HTML)."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docs_seed import ROOT, SeedMethod

BACKEND_PAGES = ("docker", "podman", "kubernetes", "archive")


class Signatures(HTMLParser):
    """The parameters of every documented object of a page: ``{id: ["name = default"]}``."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[str]] = {}
        self._object: str | None = None
        self._param: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "dt" and "sig-object" in classes and attributes.get("id"):
            self._object = attributes["id"]
            self.found[self._object or ""] = []
        elif tag == "em" and "sig-param" in classes and self._object:
            self._param = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "em" and self._param is not None and self._object:
            self.found[self._object].append("".join(self._param))
            self._param = None
        elif tag == "dt":
            self._object = None

    def handle_data(self, data: str) -> None:
        if self._param is not None:
            self._param.append(data)


def _name_and_default(param: str) -> tuple[str, str | None]:
    head, _, default = param.partition(" = ")
    return head.split(":", 1)[0].strip(), default.strip() or None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as ``make docs`` builds it, into a directory of this test."""
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q"]
    command += ["-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        pytest.fail(f"the documentation does not build:\n{done.stdout}{done.stderr}")
    return out / "html"


def test_the_docker_page_documents_every_seed_method_with_its_parameters(
    site: Path, seed_methods: list[SeedMethod]
) -> None:
    parser = Signatures()
    parser.feed((site / "api" / "docker.html").read_text(encoding="utf-8"))
    for seed in seed_methods:
        ident = f"conu.{seed.cls}.{seed.name}"
        assert ident in parser.found, f"{ident} is not documented"
        params = [_name_and_default(p) for p in parser.found[ident]]
        names = [name for name, _ in params]
        wanted = [name for name, _ in seed.params]
        assert [n for n in names if n in wanted] == wanted, (ident, names, wanted)
        defaults = dict(params)
        for name, default in seed.params:
            assert default is None or defaults[name] == default, (ident, name, defaults[name])


def test_the_docker_container_section_reads_as_the_seed(site: Path) -> None:
    text = (site / "api" / "docker.html").read_text(encoding="utf-8")
    assert "Aside from methods in API definition - " in text
    assert "DockerContainer implements following methods:" in text
    assert "These generic methods are not implemented in this backend" in text


@pytest.mark.parametrize("name", BACKEND_PAGES)
def test_every_backend_page_is_built(site: Path, name: str) -> None:
    text = (site / "api" / f"{name}.html").read_text(encoding="utf-8")
    assert text.count("implements following methods:") >= 3  # Backend, Container, Image
