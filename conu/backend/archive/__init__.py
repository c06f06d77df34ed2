"""The image-archive backend (``conu.get_backend("archive")``): engine-less and read-only.

Images are named by a path: a ``docker save`` tar, an OCI image layout directory or an OCI
layout packed in a tar (``PATH:TAG`` or ``PATH@NAME`` when the archive holds several). Their
metadata comes from the image config, their files from the layers, merged once per image on
the host. Nothing is ever run: see :mod:`conu.backend.archive.engine` for what is offered.
"""
