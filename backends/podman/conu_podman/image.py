"""Podman images: identity, registry operations, builds, and running containers.

File checks and mounts live in :mod:`~conu_podman.image_files`, archives in
:mod:`~conu_podman.archives`; :class:`PodmanImage` combines them.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from conu.apidefs.image import Image
from conu.apidefs.metadata import ImageMetadata
from conu.backend.common.image import NamedImageMixin, check_image_arguments, reference_of
from conu.exceptions import ImageNotFound
from conu_podman import engine, registry
from conu_podman.archives import ArchiveMixin
from conu_podman.build import BUILD_TIMEOUT, build_image
from conu_podman.image_files import ImageFilesMixin
from conu_podman.utils import image_metadata

if TYPE_CHECKING:
    from conu_podman.container import PodmanContainer

__all__ = ["PodmanImage", "PodmanImagePullPolicy", "reference_of"]


class PodmanImagePullPolicy(enum.Enum):
    """When :class:`PodmanImage` pulls the image at construction."""

    NEVER = 0
    IF_NOT_PRESENT = 1
    ALWAYS = 2


class PodmanImage(NamedImageMixin, ImageFilesMixin, ArchiveMixin, Image):
    """A podman image.

    Args:
        repository: ``[registry[:port]/]name``; a ``:tag`` or ``@digest`` in it is honoured.
            None for an image known only by ``identifier``.
        tag: the tag (``"latest"`` by default).
        identifier: the image id, when known.
        pull_policy: when to pull at construction.

    Raises:
        InvalidReference: ``repository`` or ``tag`` is malformed (before any podman call).
        ConuException: ``tag`` is not a str, or ``pull_policy`` not a PodmanImagePullPolicy.
        RegistryError, ImageNotFound: the pull the policy asks for failed.
    """

    backend_name = "podman"

    def __init__(
        self,
        repository: str | None,
        tag: str | None = "latest",
        identifier: str | None = None,
        pull_policy: PodmanImagePullPolicy = PodmanImagePullPolicy.IF_NOT_PRESENT,
    ) -> None:
        self.reference = check_image_arguments(
            repository, tag, identifier, pull_policy, PodmanImagePullPolicy
        )
        super().__init__(
            self.reference.name if self.reference else None,
            self.reference.tag if self.reference else tag,
        )
        self._id = identifier
        self.pull_policy = pull_policy
        self._inspect_data: dict[str, Any] | None = None
        self.metadata = ImageMetadata()
        self._apply_pull_policy(pull_policy)

    # -- identity (get_id, get_full_name, is_present: NamedImageMixin) --------------------

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return ``podman image inspect`` of the image (cached unless ``refresh``).

        Raises:
            ImageNotFound: podman does not hold the image.
        """
        if refresh or self._inspect_data is None:
            what = f"inspect image {self._ref()!r}"
            found = engine.run_json(["image", "inspect", self._ref()], what=what)
            if not found:
                raise ImageNotFound(f"cannot {what}: image not known")
            self._inspect_data = found[0]
        return self._inspect_data

    def get_metadata(self) -> ImageMetadata:
        """Return fresh metadata (labels, env, command, ports, digests…); also a mapping."""
        return image_metadata(self.metadata, self.inspect(refresh=True))

    def get_layer_ids(self, rev: bool = True) -> list[str]:
        """Return the ids of the image's layers, newest first (oldest first with ``rev=False``).

        Layers podman has no image for (pulled, or empty) are ``"<missing>"``.
        """
        what = f"read history of {self._ref()!r}"
        history = engine.run_json(["history", "--format", "json", self.get_id()], what=what)
        ids = [str(layer.get("id") or "<missing>") for layer in history or []]
        return ids if rev else ids[::-1]

    def layers(self, rev: bool = True) -> list[PodmanImage]:
        """Return the image's layers as images (those podman still has an id for)."""
        never = PodmanImagePullPolicy.NEVER
        ids = [i for i in self.get_layer_ids(rev) if i != "<missing>"]
        return [PodmanImage(None, identifier=i, pull_policy=never) for i in ids]

    # -- registry -------------------------------------------------------------------------

    def pull(self) -> None:
        """Pull the image (by tag or digest) from its registry.

        Loopback registries (``127.0.0.1:5000/...``) are used without TLS, as Docker does.

        Raises:
            ImageNotFound: the registry has no such image.
            RegistryError: the registry refused or cannot be reached; podman's reason is in
                the message.
        """
        registry.pull(self._pull_reference())
        self._inspect_data = None

    def push(self, repository: str | None = None, tag: str | None = None) -> PodmanImage:
        """Push the image (tagged first as ``repository:tag`` when given) and return it.

        Raises:
            RegistryError: the registry refused the push or cannot be reached.
        """
        image = self._push_target(repository, tag)
        assert image.reference is not None
        registry.push(image.reference)
        return image

    def tag_image(self, repository: str | None = None, tag: str | None = None) -> PodmanImage:
        """Tag the image as ``repository:tag`` (defaults: this repository, ``latest``).

        Raises:
            ValueError: neither ``repository`` nor ``tag`` is given (InvalidArgument).
            InvalidReference: the new name is malformed.
        """
        target = self._tag_target(repository, tag)
        what = f"tag {self._ref()!r} as {str(target)!r}"
        engine.run(["tag", self.get_id(), str(target)], what=what)
        never = PodmanImagePullPolicy.NEVER
        return PodmanImage(target.name, tag=target.tag, identifier=self.get_id(), pull_policy=never)

    def rmi(self, force: bool = False, via_name: bool = False, *, prune: bool = True) -> None:
        """Remove the image, by id or, with ``via_name``, only this name.

        Args:
            force: remove it even if it has several names; podman then also removes the
                containers using it.
            via_name: remove only this name.
            prune: also remove untagged parent images nothing else uses (podman's default).
        """
        ref = self.get_full_name() if via_name else self.get_id()
        options = [*(["--force"] if force else []), *([] if prune else ["--no-prune"])]
        engine.run(["rmi", *options, ref], what=f"remove image {ref!r}")
        self._forget_removed()

    @classmethod
    def build(
        cls,
        path: str,
        tag: str | None = None,
        dockerfile: str | None = None,
        *,
        labels: dict[str, str] | None = None,
        nocache: bool = False,
        timeout: float = BUILD_TIMEOUT,
    ) -> PodmanImage:
        """Build an image from the context directory ``path`` and return it.

        Args:
            path: the build context (a directory).
            tag: name the image ``tag`` (``repository[:tag]``).
            dockerfile: the Dockerfile's path within the context (``Dockerfile`` by default).
            labels: labels to add to the image.
            nocache: build every step anew.
            timeout: the most seconds the whole build may take.

        Raises:
            InvalidArgument: ``path`` is not a directory.
            BuildFailed: the build failed; the message has podman's error.
            ProbeTimeout: the build took longer than ``timeout``.
        """
        identifier, reference = build_image(path, tag, dockerfile, labels, nocache, timeout)
        name, tag_ = (reference.name, reference.tag) if reference else (None, None)
        return cls(name, tag=tag_, identifier=identifier, pull_policy=PodmanImagePullPolicy.NEVER)

    # -- running containers -------------------------------------------------------------

    @staticmethod
    def get_volume_options(volumes: Any) -> list[str]:
        """Turn volume specs (``"/t"``, ``(src, tgt)``, ``(src, tgt, mode)``) into ``-v`` args."""
        from conu_podman.running import volume_options

        return volume_options(volumes)

    def run_via_binary(
        self,
        run_command_instance: Any = None,
        command: list[str] | None = None,
        volumes: Any = None,
        additional_opts: list[str] | None = None,
        **kwargs: Any,
    ) -> PodmanContainer:
        """Run a container in the background with ``podman run -d``; it carries the session's
        labels.

        Args:
            run_command_instance: a :class:`~conu_podman.PodmanRunBuilder`, or None to make
                one from ``command`` and ``additional_opts``.
            command: the command to run (the image's default when None).
            volumes: volume specs, see :meth:`get_volume_options`.
            additional_opts: more ``podman run`` options, e.g. ``["-p", "8080"]``.
            kwargs: ignored (conu 1.0 compatibility).

        Raises:
            ContainerFailed: ``podman run`` failed (e.g. the command does not exist); nothing
                is left behind.
        """
        from conu_podman.running import make_builder, run_detached

        builder = make_builder(run_command_instance, command, additional_opts)
        return run_detached(self, builder, volumes)

    def run_via_binary_in_foreground(self, *args: Any, **kwargs: Any) -> PodmanContainer:
        """Not supported: podman containers are run in the background (``run_via_binary``)."""
        raise self._unsupported("run_via_binary_in_foreground")
