"""An in-memory conu backend, installed by the tests as a third party would install one.

It shows the whole extension path: an :class:`~conu.apidefs.engine.Engine` subclass that
implements only the engine primitives (:class:`~conu_fakebackend.engine.FakeEngine`), three
thin classes naming it, and one entry point in the ``conu.backends`` group. Everything users
call (file checks, mounts, copies, run helpers, cleanup...) is conu's own code over those
primitives; the shipped conformance suite passes against it with no container engine.
"""

from __future__ import annotations

from typing import ClassVar

from conu.apidefs.backend import Backend
from conu.apidefs.container import Container
from conu.apidefs.image import Image
from conu_fakebackend.engine import FakeEngine

__all__ = ["FakeBackend", "FakeContainer", "FakeEngine", "FakeImage"]


class FakeContainer(Container):
    """A container of :class:`FakeEngine`."""

    backend_name: ClassVar[str] = "fake"
    engine_class = FakeEngine


class FakeImage(Image):
    """An image of :class:`FakeEngine`."""

    backend_name: ClassVar[str] = "fake"
    engine_class = FakeEngine
    container_class = FakeContainer


class FakeBackend(Backend):
    """The in-memory backend."""

    name: ClassVar[str] = "fake"
    engine_class = FakeEngine
    ContainerClass: ClassVar[type[Container]] = FakeContainer
    ImageClass: ClassVar[type[Image]] = FakeImage
