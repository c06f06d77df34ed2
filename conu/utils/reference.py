"""Image references (``[registry[:port]/]repository[:tag][@digest]``), parsed and validated.

The grammar is Docker's (distribution/reference):

* the first path component is the registry if it contains ``.`` or ``:`` or is ``localhost``;
  a registry is a host name, an IPv4 address or a bracketed IPv6 address, with an optional port;
* the repository is one or more ``/``-separated components of lowercase letters and digits,
  joined inside a component by ``.``, ``_``, ``__`` or dashes;
* a tag is up to 128 characters ``[A-Za-z0-9_.-]`` not starting with ``.`` or ``-``;
* a digest is ``algorithm:hex``; well-known algorithms must have their exact length
  (``sha256`` takes 64 lowercase hex digits).
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from conu.exceptions import InvalidReference

__all__ = ["Reference"]

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REGISTRY = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_TAG = re.compile(r"\w[\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_NAME_MAX_LENGTH = 255


def _check_registry(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    """Reject a registry that is not ``host[:port]``."""
    if value is not None and not _REGISTRY.fullmatch(value):
        msg = f"registry {value!r} is not a valid host[:port]"
        raise InvalidReference(msg)


def _check_repository(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    """Reject a repository with an empty, uppercase or otherwise malformed component."""
    for component in value.split("/"):
        if _PATH_COMPONENT.fullmatch(component):
            continue
        if _PATH_COMPONENT.fullmatch(component.lower()):
            msg = f"repository component {component!r} must be lowercase"
        else:
            msg = (
                f"repository component {component!r} is not valid: use lowercase letters and"
                " digits, joined by '.', '_', '__' or '-'"
            )
        raise InvalidReference(msg)


def _check_tag(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    """Reject a tag that does not match ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``."""
    if value is not None and not _TAG.fullmatch(value):
        msg = (
            f"tag {value!r} is not valid: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'"
        )
        raise InvalidReference(msg)


def _check_digest(_: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    """Reject a digest that is not ``algorithm:hex`` of the algorithm's length."""
    if value is None:
        return
    if not _DIGEST.fullmatch(value):
        msg = f"digest {value!r} is not of the form algorithm:hex"
        raise InvalidReference(msg)
    algorithm, _sep, hex_digits = value.partition(":")
    length = _DIGEST_HEX_LENGTHS.get(algorithm)
    if length is not None and not re.fullmatch(f"[0-9a-f]{{{length}}}", hex_digits):
        msg = f"digest {value!r} is not valid: {algorithm} takes {length} lowercase hex digits"
        raise InvalidReference(msg)


@attrs.frozen
class Reference:
    """A validated image reference; make one with :meth:`parse`.

    ``str()`` gives the reference back as it was written. The registry is not normalized:
    ``"fedora"`` stays ``"fedora"``, not ``"docker.io/library/fedora"``.
    """

    registry: str | None = attrs.field(validator=_check_registry)
    """Registry host with optional port (``"quay.io"``, ``"localhost:5000"``), or None."""

    repository: str = attrs.field(validator=_check_repository)
    """Repository path without the registry, e.g. ``"fedora"`` or ``"user-cont/conu"``."""

    tag: str | None = attrs.field(default=None, validator=_check_tag)
    """Tag (``"27"``, ``"latest"``), or None when the reference names none."""

    digest: str | None = attrs.field(default=None, validator=_check_digest)
    """Content digest (``"sha256:<64 hex>"``), or None when the reference names none."""

    def __attrs_post_init__(self) -> None:
        """Reject names longer than Docker allows."""
        if len(self.name) > _NAME_MAX_LENGTH:
            msg = f"name is longer than {_NAME_MAX_LENGTH} characters"
            raise InvalidReference(msg)

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse ``[registry[:port]/]repository[:tag][@digest]``.

        Args:
            text: the reference, e.g. ``"registry.fedoraproject.org/fedora:27"``.

        Returns:
            The reference, with None for the parts ``text`` does not have.

        Raises:
            TypeError: ``text`` is not a string.
            InvalidReference: ``text`` is malformed; the message says which part and why.
        """
        if not isinstance(text, str):
            msg = f"an image reference must be a str, not {type(text).__name__}: {text!r}"
            raise TypeError(msg)
        problem = _obvious_problem(text)
        if problem is not None:
            msg = f"invalid image reference {text!r}: {problem}"
            raise InvalidReference(msg)
        rest, _at, digest = text.partition("@")
        name, tag = _split_tag(rest)
        registry, repository = _split_registry(name)
        try:
            return cls(registry, repository, tag, digest if _at else None)
        except InvalidReference as exc:
            msg = f"invalid image reference {text!r}: {exc}"
            raise InvalidReference(msg) from exc

    @property
    def name(self) -> str:
        """Registry and repository as written, e.g. ``"localhost:5000/fedora"``."""
        if self.registry is None:
            return self.repository
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str | None) -> Reference:
        """Return a copy with another tag (None removes it); the digest is kept.

        Raises:
            InvalidReference: ``tag`` is malformed.
        """
        return attrs.evolve(self, tag=tag)

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def _obvious_problem(text: str) -> str | None:
    """Describe what makes ``text`` unusable as a whole, or return None."""
    if not text:
        return "it is empty"
    if any(char.isspace() for char in text):
        return "it contains whitespace"
    if text.count("@") > 1:
        return "it contains more than one '@'"
    return None


def _split_tag(text: str) -> tuple[str, str | None]:
    """Split ``name[:tag]``; a colon followed by a ``/`` belongs to a registry port."""
    name, colon, tag = text.rpartition(":")
    if not colon or "/" in tag:
        return text, None
    return name, tag


def _split_registry(name: str) -> tuple[str | None, str]:
    """Split ``[registry/]repository`` the way Docker decides what is a registry."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, name


def reference_of(repository: str, tag: str | None) -> Reference:
    """Parse ``repository``; add ``tag`` unless it names a tag or a digest already.

    Raises:
        InvalidReference: the reference is malformed.
    """
    reference = Reference.parse(repository)
    if reference.tag or reference.digest or not tag:
        return reference
    return reference.with_tag(tag)
