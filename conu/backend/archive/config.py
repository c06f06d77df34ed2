"""An image's config document as conu's :class:`~conu.apidefs.specs.ImageInfo`.

The config (Docker's or OCI's, the same fields) holds everything the metadata says: env,
entrypoint, cmd, working directory, user, exposed ports, volumes, labels, creation time,
architecture and os. The image id is the digest of its bytes, as Docker computes it.
``ImageInfo.raw`` is shaped like ``docker image inspect``, with the container config fields
Docker fills in for configs that leave them out, plus an ``Archive`` section telling where the
image was read from.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from conu.apidefs.specs import ImageInfo
from conu.exceptions import InvalidArgument

__all__ = ["ImageConfig", "docker_config"]

_CONFIG_FIELDS: tuple[tuple[str, Any], ...] = (
    ("Hostname", ""),
    ("Domainname", ""),
    ("User", ""),
    ("AttachStdin", False),
    ("AttachStdout", False),
    ("AttachStderr", False),
    ("ExposedPorts", None),
    ("Tty", False),
    ("OpenStdin", False),
    ("StdinOnce", False),
    ("Env", None),
    ("Cmd", None),
    ("Healthcheck", None),
    ("ArgsEscaped", None),
    ("Image", ""),
    ("Volumes", None),
    ("WorkingDir", ""),
    ("Entrypoint", None),
    ("NetworkDisabled", None),
    ("MacAddress", None),
    ("OnBuild", None),
    ("Labels", None),
    ("StopSignal", None),
    ("StopTimeout", None),
    ("Shell", None),
)
"""Docker's container config fields in its order, with what it shows for an absent one."""
_OMITTED_WHEN_EMPTY = frozenset(  # Go's omitempty: left out when empty, false or absent
    {
        "ExposedPorts",
        "Healthcheck",
        "ArgsEscaped",
        "NetworkDisabled",
        "MacAddress",
        "StopSignal",
        "StopTimeout",
        "Shell",
    }
)


def docker_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``config`` as ``docker image inspect`` shows it: every field Docker always
    writes present (zero values for absent ones), other fields kept."""
    given = dict(config or {})
    shown: dict[str, Any] = {}
    for key, zero in _CONFIG_FIELDS:
        value = given.pop(key, zero)
        if key in _OMITTED_WHEN_EMPTY and (
            value is None or value is False or value in ("", [], {})
        ):
            continue
        shown[key] = copy.deepcopy(value)
    shown.update(copy.deepcopy(given))
    return shown


@attrs.frozen
class ImageConfig:
    """An image's config document, its digest and its layers' digests (diff ids)."""

    id: str
    """``sha256:`` of the config's bytes: the image id."""
    document: Mapping[str, Any]
    """The decoded config."""
    diff_ids: tuple[str, ...]
    """Digests of the uncompressed layers, oldest first."""

    @classmethod
    def parse(cls, data: bytes, *, where: str, layers: int) -> ImageConfig:
        """Read the config ``data`` of an image with ``layers`` layers.

        Args:
            data: the config's bytes.
            where: what to name in messages (the archive and the config's file).
            layers: how many layers the manifest lists.

        Raises:
            InvalidArgument: it is not a config, or its diff ids do not match the layers.
        """
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            msg = f"the config {where} is not valid JSON: {exc}"
            raise InvalidArgument(msg) from exc
        rootfs = document.get("rootfs") if isinstance(document, dict) else None
        diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
            msg = f"the config {where} is not an image config (no rootfs.diff_ids)"
            raise InvalidArgument(msg)
        if len(diff_ids) != layers:
            msg = f"the config {where} lists {len(diff_ids)} layers, the manifest {layers}"
            raise InvalidArgument(msg)
        image_id = "sha256:" + hashlib.sha256(data).hexdigest()
        return cls(image_id, document, tuple(diff_ids))

    @property
    def config(self) -> Mapping[str, Any]:
        """The ``config`` section (Env, Cmd, Entrypoint, Labels...)."""
        section = self.document.get("config")
        return section if isinstance(section, Mapping) else {}

    def history_length(self) -> int:
        """How many history entries (layers and empty steps) the image has; at least one."""
        history = self.document.get("history")
        return max(len(history) if isinstance(history, Sequence) else 0, 1)

    def info(self, names: Sequence[str], source: Mapping[str, Any]) -> ImageInfo:
        """Describe the image as :class:`ImageInfo`, named ``names``, read from ``source``."""
        return ImageInfo.from_config(
            self.id,
            self.config,
            names=tuple(names),
            created=self.document.get("created"),
            raw=self.inspect(names, source),
        )

    def inspect(self, names: Sequence[str], source: Mapping[str, Any]) -> dict[str, Any]:
        """Return the document ``docker image inspect`` would show (without the engine's
        storage fields: Size, GraphDriver...), plus ``Archive``: where it was read from."""
        doc = self.document
        raw: dict[str, Any] = {
            "Id": self.id,
            "RepoTags": list(names),
            "RepoDigests": [],
            "Parent": "",
            "Comment": doc.get("comment") or "",
            "Created": doc.get("created"),
            "Container": doc.get("container") or "",
            "ContainerConfig": docker_config(doc.get("container_config")),
            "DockerVersion": doc.get("docker_version") or "",
            "Author": doc.get("author") or "",
            "Config": docker_config(self.config),
            "Architecture": doc.get("architecture"),
            "Os": doc.get("os"),
        }
        if doc.get("variant"):
            raw["Variant"] = doc["variant"]
        if doc.get("os.version"):
            raw["OsVersion"] = doc["os.version"]
        rootfs = doc.get("rootfs") or {}
        raw["RootFS"] = {"Type": rootfs.get("type") or "layers", "Layers": list(self.diff_ids)}
        raw["Archive"] = dict(source)
        return raw
