"""Write a docker-save archive of a one-layer image: FROM scratch plus the host's busybox.

    python3 mkimage.py OUT.tar NAME:TAG BUSYBOX ENTRYPOINT-ARG...

Used for the cluster's pause (sandbox) image, so that scripts/cluster.sh needs neither a
registry nor a Docker engine to start. The archive is deterministic (fixed mtimes, sorted
entries): the same busybox always gives the same image id, so a re-import is a no-op.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile


def _entry(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def layer(busybox: str) -> bytes:
    with open(busybox, "rb") as f:
        data = f.read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(_entry("bin/", tarfile.DIRTYPE, 0o755))
        tar.addfile(_entry("bin/busybox", tarfile.REGTYPE, 0o755, len(data)), io.BytesIO(data))
    return buf.getvalue()


def main(out: str, tag: str, busybox: str, entrypoint: list[str]) -> None:
    layer_tar = layer(busybox)
    layer_id = hashlib.sha256(layer_tar).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": {"Entrypoint": entrypoint, "Env": ["PATH=/bin"], "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_id}"]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "conu mkimage.py"}],
        },
        sort_keys=True,
    ).encode()
    config_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        [{"Config": f"{config_id}.json", "RepoTags": [tag], "Layers": [f"{layer_id}/layer.tar"]}]
    ).encode()
    with tarfile.open(out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(_entry(f"{layer_id}/", tarfile.DIRTYPE, 0o755))
        for name, blob in (
            (f"{layer_id}/layer.tar", layer_tar),
            (f"{config_id}.json", config),
            ("manifest.json", manifest),
        ):
            tar.addfile(_entry(name, tarfile.REGTYPE, 0o644, len(blob)), io.BytesIO(blob))


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit("usage: python3 mkimage.py OUT.tar NAME:TAG BUSYBOX ENTRYPOINT-ARG...")
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
