"""The Kubernetes backend (``conu.get_backend("kubernetes")``, also ``"k8s"``).

Containers are pods in the session's namespace, reached through the API server with the
official ``kubernetes`` client (``pip install conu[kubernetes]``), imported on first use.
conu 1.0's helpers live in :mod:`conu.backend.k8s.pod`, :mod:`~conu.backend.k8s.deployment`
and :mod:`~conu.backend.k8s.service`; see :mod:`conu.backend.k8s.engine` for what a cluster
offers and what it does not.
"""
