"""Images of the archive backend: named by a path, read from the archive, never run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from conu.apidefs.image import Image, check_tag_and_policy
from conu.apidefs.metadata import ImageMetadata
from conu.apidefs.specs import PullPolicy, RunSpec
from conu.backend.archive.container import ArchiveContainer
from conu.backend.archive.engine import ArchiveEngine
from conu.backend.archive.filesystem import ArchiveImageFilesystem
from conu.exceptions import InvalidArgument
from conu.labels import session_labels

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine
    from conu.apidefs.specs import ImageInfo
    from conu.backend.archive.root import ExtractedRoot

__all__ = ["ArchiveImage"]


class ArchiveImage(Image):
    """An image in an archive on disk (see :mod:`conu.backend.archive.engine`).

    Constructing one reads nothing: the archive is opened by the first question asked
    (``is_present``, ``get_metadata``, a file check...).

    Args:
        repository: the archive: ``PATH``, ``PATH:TAG`` or ``PATH@NAME`` (a ``docker save``
            tar, an OCI layout directory or an OCI archive). None for an image known only by
            ``identifier``, an id this engine opened before.
        tag: chooses the image (``PATH:TAG``) when the archive holds several.
        identifier: the image id (``sha256:`` of its config), when known.
        pull_policy: ``NEVER`` or ``IF_NOT_PRESENT`` (nothing is ever pulled); ``ALWAYS``
            raises UnsupportedOperation.
        engine: the engine; the shared :class:`ArchiveEngine` by default.
        platform: ``os/arch[/variant]`` to choose in an image index (an engine of that
            platform is made); the engine's platform by default.

    Raises:
        InvalidArgument: neither ``repository`` nor ``identifier`` is given, or ``platform``
            is malformed.
        UnsupportedOperation: ``pull_policy`` is ``ALWAYS``.
    """

    backend_name: ClassVar[str] = "archive"
    engine_class = ArchiveEngine
    container_class = ArchiveContainer
    filesystem_class = ArchiveImageFilesystem

    def __init__(
        self,
        repository: str | os.PathLike[str] | None,
        tag: str | None = None,
        identifier: str | None = None,
        pull_policy: PullPolicy = PullPolicy.NEVER,
        *,
        engine: Engine | None = None,
        platform: str | None = None,
    ) -> None:
        # Not the generic constructor: it parses a registry reference, and a path is none.
        if platform is not None and engine is None:
            engine = ArchiveEngine(platform=platform)
        self.engine = engine or ArchiveEngine.default()
        self._id = identifier
        self._info: ImageInfo | None = None
        self.metadata = ImageMetadata()
        self.reference = None
        self.name = os.fspath(repository) if repository is not None else None
        self.tag = tag
        if self.name is None and not identifier:
            msg = "an archive image needs a path (or the id of an image opened before)"
            raise InvalidArgument(msg)
        check_tag_and_policy(tag, pull_policy)
        self.pull_policy = pull_policy
        if pull_policy is PullPolicy.ALWAYS:
            self.pull()

    def _ref(self) -> str:
        """The archive reference (``PATH[:TAG]``), so that the names are this archive's."""
        return self.get_full_name() if self.name is not None else str(self._id)

    @contextlib.contextmanager
    def helper_container(self, spec: RunSpec | None = None, **options: Any) -> Iterator[str]:
        """Yield a view of this image (see :mod:`conu.backend.archive.views`), removed
        afterwards; the default view names this archive, not only the image id, so that the
        files checked are this archive's even when another archive holds the same image."""
        if spec is not None:
            with super().helper_container(spec, **options) as cid:
                yield cid
            return
        engine = self._engine("helper_container")
        cid = engine.create_container(self._run_spec(None))
        try:
            yield cid
        finally:
            if not options.get("keep"):
                engine.remove_container(cid, force=True)

    def _run_spec(self, container_params: Any) -> RunSpec:
        """The spec of a view: by default one of this archive, labelled with the session."""
        if container_params is None:
            return RunSpec(image=self._ref(), labels=session_labels(), network="none")
        return super()._run_spec(container_params)

    def extracted_root(self) -> ExtractedRoot:
        """Return the image's root, extracted on the host (once per image in the process)."""
        engine = self._engine("extracted_root")
        assert isinstance(engine, ArchiveEngine)
        return engine.root(self._ref())

    def _never(self, operation: str) -> NoReturn:
        raise self._unsupported(operation)

    def pull(self) -> None:
        """Archives are read from disk, never pulled."""
        self._never("pull")

    def push(self, repository: str | None = None, tag: str | None = None) -> NoReturn:
        """Archives are never pushed (copy them with skopeo)."""
        self._never("push")

    def tag_image(self, repository: str | None = None, tag: str | None = None) -> NoReturn:
        """Archives are read-only."""
        self._never("tag_image")

    def run_via_binary(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Nothing runs from an archive."""
        self._never("run_via_binary")

    def run_via_binary_in_foreground(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Nothing runs from an archive."""
        self._never("run_via_binary_in_foreground")

    def run_via_api(self, container_params: Any = None) -> NoReturn:
        """Nothing runs from an archive."""
        self._never("run_via_api")

    def run_command(self, command: list[str], **kwargs: Any) -> NoReturn:
        """Nothing runs from an archive."""
        self._never("run_command")

    def has_pkgs_signed_with(self, allowed_keys: list[str], timeout: float = 0) -> NoReturn:
        """Package checks run ``rpm`` in the image; nothing runs from an archive."""
        self._never("has_pkgs_signed_with")
