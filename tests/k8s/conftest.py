"""Fixtures of the Kubernetes tests: the cluster (a failure in CI when it does not answer),
the test image in the cluster's registry, and a leak check at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

TEST_IMAGE = os.environ.get("CONU_K8S_TEST_IMAGE", "127.0.0.1:5001/conu-conformance/busybox:latest")
"""The conformance image (conu/conformance/images/busybox), pushed to the cluster's
registry by ``make test-k8s``."""


@pytest.fixture(scope="session")
def k8s_engine() -> Any:
    """The session's K8sEngine; skips without a cluster locally, fails in CI."""
    from conu.backend.k8s.engine import K8sEngine
    from conu.exceptions import ConuException

    engine = K8sEngine.default()
    try:
        engine.version()
    except ConuException as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a Kubernetes cluster (scripts/cluster.sh start): {exc}")
        pytest.skip(f"no Kubernetes cluster: {exc}")
    return engine


@pytest.fixture(scope="session")
def k8s_backend(k8s_engine: Any) -> Iterator[Any]:
    """A K8sBackend removing the session's pods and namespace at the end; fails the run if
    a pod of the session was left by a test."""
    from conu import K8sBackend
    from conu.apidefs.backend import CleanupPolicy
    from conu.labels import SESSION_ID, SESSION_LABEL
    from conu.watchdog import ensure_started

    ensure_started("kubernetes")
    with K8sBackend(cleanup=[CleanupPolicy.CONTAINERS, CleanupPolicy.VOLUMES]) as backend:
        yield backend
        leaked = k8s_engine.list_containers({SESSION_LABEL: SESSION_ID})
        if leaked:
            pytest.fail(f"the tests leaked {len(leaked)} pod(s): {[c.id for c in leaked]}")


@pytest.fixture(scope="session")
def k8s_image(k8s_backend: Any) -> Any:
    """The test image, as a K8sImage (its registry must serve it)."""
    return k8s_backend.ImageClass(TEST_IMAGE)
