"""conu's conformance suite: the generic API, checked against any installed backend.

Run it against a backend by name, from anywhere::

    pytest --pyargs conu.conformance --conu-backend=docker

It speaks only the abstract API of :mod:`conu.apidefs` and uses conu's pytest plugin
(the ``backend`` and ``container_factory`` fixtures). Tests of an optional feature are
skipped when, and only when, the backend does not declare the matching
:class:`~conu.apidefs.backend.Capability`; an operation that fails is a failure, whatever
exception it raises.

The image the tests run is built by the backend from ``images/busybox`` with the host's
static busybox (``apt-get install busybox-static``), or given with
``--conu-test-image=NAME[:TAG]`` (a busybox image with the same files) for a backend
that cannot build.
"""
