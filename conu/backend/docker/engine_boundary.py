"""The error boundary of :class:`~conu.backend.docker.engine.DockerEngine`.

Every primitive reaches the engine through :meth:`DockerBoundary._call` (or
:meth:`DockerBoundary._stream` for streamed answers), which runs docker-py inside
:func:`conu.backend.docker.client.translate_errors`: a ``docker.errors.*`` (or ``requests``)
exception never leaves this module, and each call is translated exactly once. The only
private docker-py calls (the raw archive requests behind ``stat_path``) live in
:func:`archive_probe`, which runs inside ``_call`` too. Nothing here imports ``docker`` at
import time.
"""

from __future__ import annotations

import base64
import itertools
import json
import tarfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from conu.backend.docker.client import get_client, translate_errors
from conu.exceptions import ContainerNotFound, ConuException, EngineError, NotFound
from conu.utils.archive import IterStream

__all__ = ["DockerBoundary", "archive_probe", "no_such_path"]

T = TypeVar("T")

_NO_SUCH_CONTAINER = "no such container"
_NOTHING_THERE = (b"too many links", b"not a directory")
"""Reasons of the engine's 500s that mean "no such path": a symlink loop, or a path
through a regular file (as ``lstat`` fails with ELOOP or ENOTDIR)."""
_STAT_HEADER = "X-Docker-Container-Path-Stat"


class DockerBoundary:
    """The client, and the one place where engine errors become conu exceptions."""

    @property
    def client(self) -> Any:
        """The process-wide docker ``APIClient`` (created, and the engine reached, on first use).

        Raises:
            EngineUnreachable: the engine does not answer.
        """
        return get_client()

    def _call(
        self,
        what: str,
        fn: Callable[..., T],
        *args: Any,
        not_found: type[NotFound] = NotFound,
        api_error: type[ConuException] = EngineError,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> T:
        """Return ``fn(*args, **kwargs)``, its engine errors translated.

        Args:
            what: what is done, for messages (``"start container 'abc'"``).
            fn: the docker-py call (or a function making several).
            args: its positional arguments.
            not_found: the exception for a 404 (a generic NotFound that names a missing
                container becomes ContainerNotFound).
            api_error: the exception for other refusals (409s are Conflict).
            timeout: the request's timeout, for the message when the engine is too slow.
            kwargs: its keyword arguments.

        Raises:
            NotFound, Conflict, EngineUnreachable, ProbeTimeout, EngineError: see
                :func:`~conu.backend.docker.client.translate_errors`.
        """
        try:
            with translate_errors(what, not_found=not_found, api_error=api_error, timeout=timeout):
                return fn(*args, **kwargs)
        except NotFound as exc:
            if type(exc) is NotFound and _NO_SUCH_CONTAINER in str(exc).lower():
                raise ContainerNotFound(str(exc)) from exc.__cause__
            raise

    def _stream(
        self,
        what: str,
        fn: Callable[..., Iterator[T]],
        *args: Any,
        prime: bool = True,
        not_found: type[NotFound] = NotFound,
        **kwargs: Any,
    ) -> Iterator[T]:
        """Return the items of the stream ``fn(*args, **kwargs)``, errors translated throughout.

        Args:
            what: what is done, for messages.
            fn: the docker-py call returning a stream.
            args: its positional arguments.
            prime: read the first item now, so that a refusal the stream carries only on its
                first read (``export``, ``get_image``) is raised by this call.
            not_found: the exception for a 404.
            kwargs: its keyword arguments.
        """

        def start() -> Iterator[T]:
            stream = iter(fn(*args, **kwargs))
            if not prime:
                return stream
            first = next(stream, None)
            return stream if first is None else itertools.chain((first,), stream)

        return self._translated(what, self._call(what, start, not_found=not_found), not_found)

    def _translated(self, what: str, stream: Iterator[T], not_found: type[NotFound]) -> Iterator[T]:
        while True:
            item = self._call(what, next, stream, None, not_found=not_found)
            if item is None:
                return
            yield item


def archive_probe(client: Any, container_id: str, path: str, *, head: bool) -> Any:
    """Ask the engine about ``path`` through ``/containers/{id}/archive``; run it in ``_call``.

    The only private docker-py calls of the engine: a HEAD for the path's stat (symlinks
    resolved by the engine), or a GET read up to the archive's first header only.

    Args:
        client: the docker ``APIClient``.
        container_id: the container.
        path: an absolute path.
        head: HEAD (the stat) rather than GET (the first tar header).

    Returns:
        None when nothing is there (missing, a symlink loop, a path through a file);
        otherwise, for ``head``, the decoded stat (``name``, ``mode``, ``linkTarget``...),
        else the :class:`tarfile.TarInfo` of the first member.

    Raises:
        docker.errors.APIError: the engine refused otherwise (no such container...).
    """
    url = client._url("/containers/{0}/archive", container_id)
    params = {"path": path}
    response = (
        client.head(url, params=params) if head else client._get(url, params=params, stream=True)
    )
    if head and response.status_code == 404:
        # A HEAD carries no reason: nothing at the path, or no such container? Asking about
        # the container costs a few milliseconds, a GET of the archive tens.
        response.close()
        client.inspect_container(container_id)
        return None
    if head and response.status_code >= 400:
        # Ask again with a GET, whose error has a reason (a loop, a path through a file).
        response.close()
        response = client._get(url, params=params, stream=True)
    try:
        if _nothing_there(response.status_code, response):
            return None
        client._raise_for_status(response)
        if head:
            return json.loads(base64.b64decode(response.headers[_STAT_HEADER]))
        chunks = response.iter_content(chunk_size=64 * 1024)
        with tarfile.open(fileobj=IterStream(chunks), mode="r|") as tar:
            return tar.next()
    finally:
        response.close()


def _nothing_there(status: int, response: Any) -> bool:
    """Tell whether an answer of ``status`` means that no file is at the path."""
    if status < 400:
        return False
    reason = bytes(response.content).lower()  # a small error body, kept for docker-py
    if status == 404:
        return _NO_SUCH_CONTAINER.encode() not in reason
    return status >= 500 and no_such_path(reason)


def no_such_path(reason: bytes) -> bool:
    """Tell whether the reason of an engine's 500 about a path means that nothing is there
    (a symlink loop, or a path through a regular file)."""
    return any(hint in reason.lower() for hint in _NOTHING_THERE)
