"""The image: what every backend's image offers, written once over its engine.

Identity, registry operations, builds and running containers are here; file checks and
helper containers in :mod:`conu.apidefs.image_files`, archives in
:mod:`conu.apidefs.image_archives`. A backend's image class names its engine
(``engine_class``), its container class and its run builder, and adds only what is specific.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from conu.apidefs.image_archives import ImageArchivesMixin
from conu.apidefs.image_files import ImageFilesMixin
from conu.apidefs.image_packages import ImagePackagesMixin
from conu.apidefs.image_running import ImageRunMixin
from conu.apidefs.metadata import ImageMetadata, image_metadata
from conu.apidefs.s2i import S2Image
from conu.apidefs.specs import BuildSpec, PullPolicy
from conu.exceptions import (
    ConuException,
    ImageNotFound,
    InvalidArgument,
    UnsupportedOperation,
)
from conu.utils.reference import Reference, reference_of

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine
    from conu.apidefs.specs import ImageInfo

__all__ = ["Image", "S2Image", "check_tag_and_policy", "reference_of"]


class Image(ImageRunMixin, ImageFilesMixin, ImagePackagesMixin, ImageArchivesMixin):
    """A container image of some backend.

    The generic class, without an engine, is a plain name holder: a container whose image
    is unknown to conu refers to ``Image(name)``.

    Args:
        repository: ``[registry[:port]/]name``; a ``:tag`` or ``@digest`` in it is honoured.
            None for an image known only by ``identifier``.
        tag: the tag (``"latest"`` for backends' images).
        identifier: the image id, when known.
        pull_policy: when to pull at construction (a :class:`~conu.apidefs.specs.PullPolicy`).
        engine: the engine; the class's shared one (``engine_class.default()``) by default.

    Raises:
        InvalidReference: ``repository`` or ``tag`` is malformed (before any engine call).
        ConuException: ``tag`` is not a str, or ``pull_policy`` not a PullPolicy.
        InvalidArgument: neither ``repository`` nor ``identifier`` is given.
        RegistryError, ImageNotFound: the pull the policy asks for failed.
    """

    backend_name: ClassVar[str] = "<abstract_backend>"
    engine_class: ClassVar[type[Engine] | None] = None

    def __init__(
        self,
        repository: str | None,
        tag: str | None = None,
        identifier: str | None = None,
        pull_policy: PullPolicy = PullPolicy.IF_NOT_PRESENT,
        *,
        engine: Engine | None = None,
    ) -> None:
        self.engine = engine or (self.engine_class.default() if self.engine_class else None)
        self._id = identifier
        self._info: ImageInfo | None = None
        self.pull_policy = pull_policy
        self.metadata = ImageMetadata()
        if self.engine is None:  # a name holder: conu 1.0's generic Image(name)
            self.reference, self.name, self.tag = None, repository, tag
            return
        self.reference = _check_arguments(repository, tag, identifier, pull_policy)
        self.name = self.reference.name if self.reference else repository
        self.tag = self.reference.tag if self.reference else tag
        self._apply_pull_policy(pull_policy)

    def _unsupported(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(self.backend_name, f"{type(self).__name__}.{operation}")

    def _engine(self, operation: str) -> Engine:
        """Return the engine, for ``operation``.

        Raises:
            UnsupportedOperation: a generic ``Image`` (a name holder) has no engine.
        """
        if self.engine is None:
            raise self._unsupported(operation)
        return self.engine

    def __repr__(self) -> str:
        return f"{type(self).__name__}(repository={self.name}, tag={self.tag})"

    def __str__(self) -> str:
        return self.get_full_name()

    def _same(self, identifier: str, reference: Reference | None = None) -> Self:
        """Return another image of this class and engine, never pulled."""
        name, tag = (reference.name, reference.tag) if reference else (None, None)
        return type(self)(name, tag, identifier, PullPolicy.NEVER, engine=self.engine)

    # -- identity -------------------------------------------------------------------------

    def get_full_name(self) -> str:
        """Return ``repository:tag`` (``repository@digest``; the id for an unnamed image)."""
        if self.reference is not None:
            return str(self.reference)
        if self.name is not None:  # a name holder
            return f"{self.name}:{self.tag}" if self.tag else self.name
        return str(self._id)

    def _ref(self) -> str:
        return self._id or self.get_full_name()

    def info(self, refresh: bool = True) -> ImageInfo:
        """Return what the engine reports about the image (cached unless ``refresh``).

        Raises:
            ImageNotFound: the engine does not hold the image.
        """
        if refresh or self._info is None:
            self._info = self._engine("info").inspect_image(self._ref())
        return self._info

    def get_id(self) -> str:
        """Return the image id, as the engine reports it (``sha256:…``)."""
        if self._id is None:
            self._id = self.info(refresh=False).id
        return self._id

    def is_present(self) -> bool:
        """Tell whether the engine holds this image."""
        try:
            self.info()
        except ImageNotFound:
            return False
        return True

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return the engine's document describing this image (cached unless ``refresh``).

        Raises:
            ImageNotFound: the engine does not hold the image.
        """
        return cast("dict[str, Any]", self.info(refresh).raw)

    def get_metadata(self) -> ImageMetadata:
        """Return fresh metadata (labels, env, command, ports, digests…); also a mapping."""
        return image_metadata(self.metadata, self.info(refresh=True))

    def get_layer_ids(self, rev: bool = True) -> list[str]:
        """Return the ids of the image's layers, newest first (oldest first with ``rev=False``).

        Layers built elsewhere and pulled have no id in the engine: they are ``"<missing>"``.
        """
        engine = self._engine("get_layer_ids")
        ids = engine.image_history(self.get_id())
        return ids if rev else ids[::-1]

    def layers(self, rev: bool = True) -> list[Self]:
        """Return the image's layers as images (those the engine still has an id for)."""
        self._engine("layers")
        return [self._same(i) for i in self.get_layer_ids(rev) if i != "<missing>"]

    # -- registry -------------------------------------------------------------------------

    def _apply_pull_policy(self, pull_policy: PullPolicy) -> None:
        if pull_policy is PullPolicy.ALWAYS or (
            pull_policy is PullPolicy.IF_NOT_PRESENT and not self.is_present()
        ):
            self.pull()

    def pull(self) -> None:
        """Pull the image (by tag or digest) from its registry.

        Raises:
            InvalidArgument: the image is known only by its id.
            ImageNotFound: the registry has no such image.
            RegistryError: the registry refused or cannot be reached.
        """
        engine = self._engine("pull")
        if self.reference is None:
            msg = f"image {self._id!r} has no repository to pull from"
            raise InvalidArgument(msg)
        engine.pull_image(self.reference)
        self._info = None

    def push(self, repository: str | None = None, tag: str | None = None) -> Self:
        """Push the image (tagged first as ``repository:tag`` when given) and return it.

        Raises:
            InvalidArgument: the image has no repository to push to.
            RegistryError: the registry refused the push or cannot be reached.
        """
        engine = self._engine("push")
        image = self.tag_image(repository, tag) if repository or tag else self
        if image.reference is None:
            msg = f"image {self._id!r} has no repository to push to"
            raise InvalidArgument(msg)
        engine.push_image(image.reference)
        return image

    def tag_image(self, repository: str | None = None, tag: str | None = None) -> Self:
        """Tag the image as ``repository:tag`` (defaults: this repository, ``latest``).

        Raises:
            InvalidArgument: (a ValueError) neither ``repository`` nor ``tag`` is given, or the
                image has no repository and none is given.
            InvalidReference: the new name is malformed.
        """
        self._engine("tag_image")
        if not repository and not tag:
            msg = "tag_image needs a repository or a tag"
            raise InvalidArgument(msg)
        if not repository and not self.name:
            msg = f"image {self._id!r} has no repository: pass one to tag_image"
            raise InvalidArgument(msg)
        target = reference_of(repository or str(self.name), tag or "latest")
        self._engine("tag_image").tag_image(self.get_id(), target)
        return self._same(self.get_id(), target)

    def rmi(self, force: bool = False, via_name: bool = False, *, prune: bool = True) -> None:
        """Remove the image (by id, or only this name with ``via_name``).

        Args:
            force: remove it even if containers use it or it has several names.
            via_name: remove only this name.
            prune: also remove untagged parent images nothing else uses (the engine's
                default). Pass False for an image derived from one that must stay, even if
                that one has no name (e.g. an image committed from a container of it).
        """
        ref = self.get_full_name() if via_name else self.get_id()
        self._engine("rmi").remove_image(ref, force=force, prune=prune)
        self._info = None
        if self.reference is not None:
            self._id = None  # the name is gone; it may come back as another image

    @classmethod
    def build(
        cls,
        path: str,
        tag: str | None = None,
        dockerfile: str | None = None,
        *,
        labels: dict[str, str] | None = None,
        nocache: bool = False,
        timeout: float = 600,
    ) -> Self:
        """Build an image from the context directory ``path`` and return it.

        Args:
            path: the build context (a directory).
            tag: name the image ``tag`` (``repository[:tag]``).
            dockerfile: the Dockerfile's path within the context (``Dockerfile`` by default).
            labels: labels to add to the image.
            nocache: build every step afresh. An image whose layers come from the cache
                shares them with other images: removing it can remove layers a concurrent
                build is using (the engine prunes untagged parents).
            timeout: seconds the builder may stay silent.

        Raises:
            InvalidArgument: ``path`` is not a directory.
            BuildFailed: the build failed; the message has the builder's last output.
        """
        if cls.engine_class is None:
            raise UnsupportedOperation(cls.backend_name, f"{cls.__name__}.build")
        if not path or not os.path.isdir(path):
            msg = f"build needs the path of a build context directory, not {path!r}"
            raise InvalidArgument(msg)
        reference = reference_of(tag, None) if tag else None
        spec = BuildSpec(
            path=path,
            tag=str(reference) if reference else None,
            dockerfile=dockerfile,
            labels=labels or {},
            nocache=nocache,
            timeout=timeout,
        )
        engine = cls.engine_class.default()
        ident = engine.build_image(spec)
        name, tag_ = (reference.name, reference.tag) if reference else (None, None)
        return cls(name, tag_, ident, PullPolicy.NEVER, engine=engine)


def check_tag_and_policy(tag: Any, pull_policy: Any) -> None:
    """Reject a ``tag`` that is neither None nor a str, and a ``pull_policy`` that is not a
    :class:`~conu.apidefs.specs.PullPolicy` (as every image constructor does).

    Raises:
        ConuException: either is of the wrong type.
    """
    if tag is not None and not isinstance(tag, str):
        msg = f"tag must be a str or None, not {type(tag).__name__}"
        raise ConuException(msg)
    if not isinstance(pull_policy, PullPolicy):
        msg = f"pull_policy must be a PullPolicy, not {pull_policy!r}"
        raise ConuException(msg)


def _check_arguments(
    repository: str | None, tag: str | None, identifier: str | None, pull_policy: Any
) -> Reference | None:
    check_tag_and_policy(tag, pull_policy)
    if repository is None and not identifier:
        msg = "an image needs a repository or an identifier"
        raise InvalidArgument(msg)
    return reference_of(repository, tag) if repository is not None else None
