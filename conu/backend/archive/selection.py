"""Which archive and which of its images a reference names: ``PATH``, ``PATH:TAG``, ``PATH@NAME``.

A path may itself hold ``:`` or ``@``, so the reference is split where what comes before the
separator exists on the host (the longest such prefix wins); ``PATH`` alone names the only
image of an archive. The selector matches an image's full name (``repo:tag``, ``:latest``
implied), the tag of one of its names, an OCI ``ref.name`` annotation as written, or a digest
(the manifest's in an OCI layout, the config's, i.e. the image id, in a docker-archive).
"""

from __future__ import annotations

import os

from conu.backend.archive.manifests import Candidate, familiar
from conu.exceptions import ImageNotFound, InvalidArgument, InvalidReference
from conu.utils.reference import Reference

__all__ = ["select", "split_reference"]


def split_reference(text: str) -> tuple[str, str | None]:
    """Split an archive reference into the archive's path and the selector (None: none).

    Raises:
        InvalidArgument: ``text`` is not a non-empty str.
        ImageNotFound: no prefix of ``text`` exists on the host.
    """
    if not isinstance(text, str) or not text:
        msg = f"an archive image is named by a non-empty path, not {text!r}"
        raise InvalidArgument(msg)
    if os.path.lexists(text):
        return text, None
    for index in reversed([i for i, char in enumerate(text) if char in ":@"]):
        head, tail = text[:index], text[index + 1 :]
        if head and tail and os.path.lexists(head):
            return head, tail
    msg = f"no image archive at {text!r} (name one as PATH, PATH:TAG or PATH@NAME)"
    raise ImageNotFound(msg)


def select(candidates: list[Candidate], selector: str | None, path: str) -> Candidate:
    """Return the image of archive ``path`` that ``selector`` names.

    Raises:
        ImageNotFound: the archive holds no image, or none that ``selector`` names.
        InvalidArgument: no selector is given and the archive holds several images, or the
            selector names several.
    """
    held = "; ".join(candidate.describe() for candidate in candidates)
    if not candidates:
        msg = f"image archive {path!r} holds no image"
        raise ImageNotFound(msg)
    if selector is None:
        if len(candidates) == 1:
            return candidates[0]
        msg = (
            f"image archive {path!r} holds {len(candidates)} images ({held}):"
            f" choose one as {path}:TAG or {path}@NAME"
        )
        raise InvalidArgument(msg)
    found = [candidate for candidate in candidates if matches(candidate, selector)]
    if len(found) == 1:
        return found[0]
    if not found:
        msg = f"image archive {path!r} has no image {selector!r}; it holds: {held}"
        raise ImageNotFound(msg)
    msg = (
        f"{selector!r} names {len(found)} images of archive {path!r}"
        f" ({'; '.join(c.describe() for c in found)}): give a full name or a digest"
    )
    raise InvalidArgument(msg)


def matches(candidate: Candidate, selector: str) -> bool:
    """Tell whether ``selector`` names ``candidate`` (see the module docstring)."""
    if selector in candidate.refs or selector in candidate.digests:
        return True
    if familiar(selector) in candidate.names:
        return True
    wanted = _key(selector)
    for name in candidate.names:
        key = _key(name)
        if key is not None and (key == wanted or key[1] == selector):
            return True
    return False


def _key(text: str) -> tuple[str, str, str | None] | None:
    """Return ``(repository, tag, digest)`` of a name, ``latest`` implied; None if no name."""
    try:
        reference = Reference.parse(text)
    except InvalidReference:
        return None
    tag = reference.tag or ("latest" if reference.digest is None else "")
    return reference.name, tag, reference.digest
