"""Byte streams over iterators of chunks, so archives of any size stream through tarfile."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["CHUNK_SIZE", "IterStream", "as_stream", "resume"]

CHUNK_SIZE = 1024 * 1024
"""Bytes read at a time from a file object."""


class IterStream(io.RawIOBase):
    """A read-only, non-seekable binary stream over an iterator of byte chunks.

    Only the chunk being consumed is held, so wrapping a docker-py ``get_archive`` or
    ``export`` iterator lets :mod:`tarfile` stream an archive of any size.

    Args:
        chunks: the byte chunks, in order; empty ones are allowed.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks: Iterator[bytes] = iter(chunks)
        self._source = chunks
        self._view = memoryview(b"")

    def readable(self) -> bool:
        """Tell that the stream can be read (always True)."""
        return True

    def read(self, size: int = -1, /) -> bytes:
        """Read up to ``size`` bytes (everything left when negative); b"" at the end."""
        data = super().read(size)
        return data if data is not None else b""

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Copy the next bytes into ``buffer``; 0 means the chunks are exhausted."""
        while not self._view:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._view = memoryview(chunk).cast("B")
        target = memoryview(buffer).cast("B")
        count = min(len(target), len(self._view))
        target[:count] = self._view[:count]
        self._view = self._view[count:]
        return count

    def close(self) -> None:
        """Close the stream and the chunk source, so an HTTP response is released early."""
        self._view = memoryview(b"")
        closer = getattr(self._source, "close", None)
        if callable(closer):
            closer()
        super().close()


def as_stream(source: bytes | IO[bytes] | Iterable[bytes]) -> IterStream:
    """Present any accepted ``source`` as an :class:`IterStream`."""
    if isinstance(source, bytes | bytearray):
        return IterStream([bytes(source)])
    if hasattr(source, "read"):
        reader = functools.partial(source.read, CHUNK_SIZE)
        return IterStream(iter(reader, b""))
    return IterStream(source)


def resume(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """Yield ``first`` (unless empty), then the rest of an iterator already started (whose
    first chunk was read to see whether it fails at once)."""
    if first:
        yield first
    yield from rest
