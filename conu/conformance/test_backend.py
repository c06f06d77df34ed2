"""The backend: listing, sessions and cleanup of only this session's containers."""

from __future__ import annotations

from typing import Any

from conu.apidefs.backend import Backend, Capability
from conu.labels import SESSION_ID


def test_declares_capabilities(backend: Backend) -> None:
    assert backend.name
    assert all(isinstance(c, Capability) for c in backend.capabilities)


def test_list_containers(backend: Backend, sleeper: Any) -> None:
    listed = {c.get_id(): c for c in backend.list_containers()}
    assert sleeper.get_id() in listed
    assert isinstance(listed[sleeper.get_id()], backend.ContainerClass)


def test_list_images(backend: Backend, image: Any) -> None:
    assert image.get_id() in {i.get_id() for i in backend.list_images()}


def test_list_sessions(backend: Backend, sleeper: Any) -> None:
    assert SESSION_ID in backend.list_sessions()


def test_cleanup_removes_this_sessions_containers(backend: Backend, sleeper: Any) -> None:
    backend.cleanup_containers()
    assert sleeper.get_id() not in {c.get_id() for c in backend.list_containers()}
