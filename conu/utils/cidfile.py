"""Parts of ``run_via_binary`` that are the same for every engine: volumes and cid files."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from conu.labels import tmp_prefix

__all__ = ["cidfile", "read_cid", "volume_options"]


def volume_options(volumes: Any) -> list[str]:
    """Turn one volume spec (``"/t"``, ``(src, tgt)``, ``(src, tgt, mode)``) or a list of
    them into ``["-v", spec, ...]``."""
    from conu.utils.filesystem import Volume

    if volumes is None:
        return []
    specs = volumes if isinstance(volumes, list) else [volumes]
    return [arg for spec in specs for arg in ("-v", str(Volume.create_from_tuple(spec)))]


@contextmanager
def cidfile(prefix: str) -> Iterator[str]:
    """Yield the path of a ``--cidfile`` in a new temporary directory, removed afterwards."""
    directory = tempfile.mkdtemp(prefix=tmp_prefix() + prefix)
    try:
        yield os.path.join(directory, "cid")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def read_cid(path: str) -> str:
    """Return the container id written to ``path``, or ``""`` while there is none."""
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""
