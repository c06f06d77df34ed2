"""Source-to-image builder images (the generic mixin; Docker's uses the ``s2i`` tool)."""

from __future__ import annotations

from typing import Any

from conu.exceptions import UnsupportedOperation

__all__ = ["S2Image"]


class S2Image:
    """Mixin of images that are source-to-image builders."""

    backend_name = "<abstract_backend>"

    def extend(self, source: str, new_image_name: str, s2i_args: list[str] | None = None) -> Any:
        """Build ``new_image_name`` from ``source`` with this builder image.

        Raises:
            ConuException: ``s2i build`` failed.
        """
        raise UnsupportedOperation(self.backend_name, f"{type(self).__name__}.extend")

    def usage(self) -> str:
        """Return the output of ``s2i usage`` for this image."""
        raise UnsupportedOperation(self.backend_name, f"{type(self).__name__}.usage")
