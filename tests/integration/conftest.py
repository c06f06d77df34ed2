"""Fixtures of the integration tests: containers that are always removed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conu.exceptions import NotFound


def remove(container: Any) -> None:
    """Force-remove ``container`` (and reap its ``docker run`` process); gone already is fine."""
    with contextlib.suppress(NotFound):
        container.delete(force=True, volumes=True)
    popen = getattr(container, "popen_instance", None)
    if popen is not None:
        for stream in (popen.stdin, popen.stdout, popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(Exception):
            popen.wait(timeout=10)


@pytest.fixture
def track() -> Iterator[Callable[[Any], Any]]:
    """Register containers to force-remove at the end of the test; returns its argument."""
    made: list[Any] = []

    def add(container: Any) -> Any:
        made.append(container)
        return container

    yield add
    for container in made:
        remove(container)


@pytest.fixture
def run(busybox_image: Any, track: Callable[[Any], Any]) -> Callable[..., Any]:
    """Run a busybox container in the background (``run_via_binary``); removed afterwards."""

    def start(command: list[str] | None = None, opts: list[str] | None = None, **kw: Any) -> Any:
        image = kw.pop("image", busybox_image)
        return track(image.run_via_binary(command=command, additional_opts=opts, **kw))

    return start


@pytest.fixture
def sleeper(run: Callable[..., Any]) -> Any:
    """A running busybox container that sleeps (for exec, copy and inspection)."""
    return run(["sleep", "300"])
