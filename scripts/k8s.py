"""Helpers of ``make test-k8s`` (run with the project's venv, KUBECONFIG set).

* ``push DIRECTORY NAME``: build DIRECTORY (with the host's busybox) in Docker as NAME and
  push it to NAME's registry (the cluster's loopback registry), so that pods can pull it.
* ``leftovers [SECONDS]``: wait, bounded, until no namespace, pod, deployment or service
  carries a conu session label; fail naming what is left.
"""

from __future__ import annotations

import sys
import time

import images


def push(directory: str, name: str) -> None:
    """Build ``directory`` as ``name`` and push it."""
    built = images.build(directory, name)
    built.push()
    print(f"pushed {name} ({built.get_id()[:19]})")


def leftovers(timeout: float = 120.0) -> int:
    """Return 0 once the cluster holds nothing of a conu session, 1 after ``timeout``."""
    from conu.backend.k8s.engine import K8sEngine
    from conu.labels import SESSION_LABEL

    engine = K8sEngine.default()
    deadline = time.monotonic() + timeout
    while True:
        left = [labels.get(SESSION_LABEL) for labels in engine.list_session_labels()]
        if not left:
            print("the cluster holds nothing of a conu session (0 conu namespaces)")
            return 0
        if time.monotonic() > deadline:
            print(f"left in the cluster after {timeout:g} s: {len(left)} resources of {set(left)}")
            return 1
        time.sleep(2)  # namespaces take a few seconds to be emptied and deleted


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "push":
        push(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (2, 3) and sys.argv[1] == "leftovers":
        sys.exit(leftovers(*(float(a) for a in sys.argv[2:])))
    else:
        sys.exit("usage: python scripts/k8s.py push DIRECTORY NAME | leftovers [SECONDS]")
