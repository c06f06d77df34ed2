"""Turning a stream of byte chunks into a stream of lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["split_lines"]


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield each line of ``chunks`` with its trailing newline (the last one may lack it).

    Engines hand out output in frames that need not match lines (a TTY container streams
    single bytes); this regroups them without holding more than one line in memory.
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending
