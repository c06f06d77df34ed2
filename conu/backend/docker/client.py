"""The engine boundary: the docker SDK client, and the translation of its errors.

One client is created per process, on first use, from the environment like the docker CLI
(``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``, ssh:// hosts). Every call to
the engine runs inside :func:`translate_errors`, so no ``docker.errors.*`` reaches a user.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from conu.exceptions import (
    Conflict,
    ConuException,
    EngineError,
    EngineUnreachable,
    NotFound,
    ProbeTimeout,
)

if TYPE_CHECKING:
    import docker

__all__ = ["CONNECT_TIMEOUT", "REQUEST_TIMEOUT", "engine_address", "get_client", "translate_errors"]

CONNECT_TIMEOUT = 5
"""Seconds to wait for the engine's first answer."""
REQUEST_TIMEOUT = float(os.environ.get("CONU_ENGINE_TIMEOUT") or 120)
"""Seconds one request to the engine may take (long-running calls set their own);
``CONU_ENGINE_TIMEOUT`` overrides the default of 120."""

_client: docker.APIClient | None = None
_lock = threading.Lock()


def engine_address() -> str:
    """Return the address of the engine conu talks to, as the user would name it."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def get_client() -> docker.APIClient:
    """Return the process-wide low-level docker client, creating it on first use.

    Raises:
        EngineUnreachable: the engine does not answer within :data:`CONNECT_TIMEOUT` seconds.
    """
    global _client
    with _lock:
        if _client is None:
            _client = _make_client()
        return _client


def reset_client() -> None:
    """Forget the process-wide client (the next :func:`get_client` connects anew)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None


def _make_client() -> docker.APIClient:
    import docker
    from docker.utils import kwargs_from_env

    kwargs: dict[str, Any] = kwargs_from_env()
    with translate_errors("configure the engine's client"):
        # A fixed version, so that the constructor does not ask the engine yet (below).
        client = docker.APIClient(
            version=docker.constants.DEFAULT_DOCKER_API_VERSION,
            timeout=CONNECT_TIMEOUT,
            max_pool_size=32,
            **kwargs,
        )
    # The engine's TLS settings come from DOCKER_CERT_PATH only: requests must not let
    # REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE or .netrc from the environment override them.
    client.trust_env = False
    with translate_errors("connect to the engine", timeout=CONNECT_TIMEOUT):
        # Asking the engine's API version doubles as the reachability check.
        client._version = client._retrieve_server_version()
    client.timeout = REQUEST_TIMEOUT
    return client


@contextlib.contextmanager
def translate_errors(
    what: str,
    *,
    not_found: type[NotFound] = NotFound,
    api_error: type[ConuException] = EngineError,
    timeout: float | None = None,
) -> Iterator[None]:
    """Translate engine errors raised inside the block into conu exceptions.

    Args:
        what: what was being done, for the message (e.g. ``"start container 'abc'"``).
        not_found: the :class:`NotFound` subclass for a 404.
        api_error: the :class:`EngineError` subclass for other refusals (409 aside).
        timeout: the request timeout, named in the message when the engine is too slow.

    Raises:
        NotFound: (``not_found``) the engine has no such object.
        Conflict: the object is in the wrong state.
        EngineUnreachable: the engine does not answer.
        ProbeTimeout: the engine did not answer within the request's timeout.
        EngineError: any other engine failure.
    """
    import docker.errors
    import requests.exceptions

    try:
        yield
    except ConuException:
        raise
    except docker.errors.NotFound as exc:
        msg = f"cannot {what}: {_explain(exc)}"
        raise not_found(msg) from exc
    except docker.errors.APIError as exc:
        cls = Conflict if exc.status_code == 409 else api_error
        msg = f"cannot {what}: {_explain(exc)}"
        raise cls(msg) from exc
    except (
        requests.exceptions.ReadTimeout,
        requests.exceptions.ConnectionError,
        docker.errors.DockerException,
    ) as exc:
        if _is_read_timeout(exc):
            waited = timeout if timeout is not None else REQUEST_TIMEOUT
            msg = f"cannot {what}: the engine at {engine_address()} did not answer in {waited}s"
            raise ProbeTimeout(msg) from exc
        if _is_unreachable(exc):
            msg = f"cannot {what}: the engine at {engine_address()} does not answer ({exc})"
            raise EngineUnreachable(msg) from exc
        msg = f"cannot {what}: {exc}"
        raise EngineError(msg) from exc


def _explain(exc: Any) -> str:
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc).strip()


def _is_read_timeout(exc: BaseException) -> bool:
    """Tell whether ``exc`` is a read timeout of a request the engine accepted.

    Over the engine's unix socket requests reports a read timeout as a ``ConnectionError``
    wrapping urllib3's ``ReadTimeoutError``, not as ``ReadTimeout``.
    """
    import requests.exceptions
    import urllib3.exceptions

    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    return any(isinstance(arg, urllib3.exceptions.ReadTimeoutError) for arg in exc.args)


def _is_unreachable(exc: BaseException) -> bool:
    import requests.exceptions

    if isinstance(exc, requests.exceptions.ConnectionError):
        return True
    text = str(exc)
    return "Connection" in text or "Error while fetching server API version" in text
