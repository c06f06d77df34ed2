"""Image identity shared by the backends: constructor checks, names, ids, tags, pull policy.

:class:`NamedImageMixin` goes before :class:`conu.apidefs.image.Image` in an image class's
bases; the class supplies ``inspect``, ``pull`` and ``tag_image`` for its engine.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Self

from conu.exceptions import ConuException, ImageNotFound, InvalidArgument
from conu.utils.reference import Reference

__all__ = ["NamedImageMixin", "check_image_arguments", "reference_of"]


def reference_of(repository: str, tag: str | None) -> Reference:
    """Parse ``repository``; add ``tag`` unless it names a tag or a digest already.

    Raises:
        InvalidReference: the reference is malformed.
    """
    reference = Reference.parse(repository)
    if reference.tag or reference.digest or not tag:
        return reference
    return reference.with_tag(tag)


def check_image_arguments(
    repository: str | None,
    tag: str | None,
    identifier: str | None,
    pull_policy: enum.Enum,
    policy_class: type[enum.Enum],
) -> Reference | None:
    """Check an image constructor's arguments, before any engine call; return its reference.

    Returns:
        ``repository`` parsed (with ``tag`` unless it has one), or None without a repository.

    Raises:
        ConuException: ``tag`` is not a str, or ``pull_policy`` not a ``policy_class``.
        InvalidArgument: neither ``repository`` nor ``identifier`` is given.
        InvalidReference: ``repository`` or ``tag`` is malformed.
    """
    if tag is not None and not isinstance(tag, str):
        msg = f"tag must be a str or None, not {type(tag).__name__}"
        raise ConuException(msg)
    if not isinstance(pull_policy, policy_class):
        msg = f"pull_policy must be a {policy_class.__name__}, not {pull_policy!r}"
        raise ConuException(msg)
    if repository is None and not identifier:
        msg = "an image needs a repository or an identifier"
        raise InvalidArgument(msg)
    return reference_of(repository, tag) if repository is not None else None


class NamedImageMixin:
    """Identity of an image known by a :class:`Reference`, an id, or both."""

    if TYPE_CHECKING:
        reference: Reference | None
        name: str | None
        _id: str | None
        _inspect_data: dict[str, Any] | None

        def inspect(self, refresh: bool = True) -> dict[str, Any]: ...

        def pull(self) -> None: ...

        def tag_image(self, repository: str | None = None, tag: str | None = None) -> Any: ...

    def __str__(self) -> str:
        return self.get_full_name()

    def get_full_name(self) -> str:
        """Return ``repository:tag`` (``repository@digest``; the id for an unnamed image)."""
        return str(self.reference) if self.reference is not None else str(self._id)

    def _ref(self) -> str:
        return self._id or self.get_full_name()

    def get_id(self) -> str:
        """Return the image id, as the engine reports it."""
        if self._id is None:
            self._id = str(self.inspect(refresh=False)["Id"])
        return self._id

    def is_present(self) -> bool:
        """Tell whether the engine holds this image."""
        try:
            self.inspect()
        except ImageNotFound:
            return False
        return True

    def _apply_pull_policy(self, pull_policy: enum.Enum) -> None:
        """Pull as the constructor's policy (``NEVER``, ``IF_NOT_PRESENT``, ``ALWAYS``) says."""
        if pull_policy.name == "ALWAYS" or (
            pull_policy.name == "IF_NOT_PRESENT" and not self.is_present()
        ):
            self.pull()

    def _pull_reference(self) -> Reference:
        """Return the reference to pull.

        Raises:
            InvalidArgument: the image is known only by its id.
        """
        if self.reference is None:
            msg = f"image {self._id!r} has no repository to pull from"
            raise InvalidArgument(msg)
        return self.reference

    def _push_target(self, repository: str | None, tag: str | None) -> Self:
        """Return the image to push: this one, or it tagged ``repository:tag`` first.

        Raises:
            InvalidArgument: that image has no repository.
        """
        image: Self = self.tag_image(repository, tag) if repository or tag else self
        if image.reference is None:
            msg = f"image {self._id!r} has no repository to push to"
            raise InvalidArgument(msg)
        return image

    def _tag_target(self, repository: str | None, tag: str | None) -> Reference:
        """Return the name ``tag_image`` gives: ``repository:tag`` (defaults: this
        repository, ``latest``).

        Raises:
            InvalidArgument: neither ``repository`` nor ``tag`` is given, or the image has no
                repository and none is given.
            InvalidReference: the new name is malformed.
        """
        if not repository and not tag:
            msg = "tag_image needs a repository or a tag"
            raise InvalidArgument(msg)
        if not repository and not self.name:
            msg = f"image {self._id!r} has no repository: pass one to tag_image"
            raise InvalidArgument(msg)
        return reference_of(repository or str(self.name), tag or "latest")

    def _forget_removed(self) -> None:
        """Drop what ``rmi`` made stale: the inspect cache, and the id of a named image."""
        self._inspect_data = None
        if self.reference is not None:
            self._id = None  # the name is gone; it may come back as another image
