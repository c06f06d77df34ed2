"""container-structure-test on a realistic image: conu-test/debian:bookworm (debootstrap
minbase, made by ``scripts/debian-image.sh``).

* The Debian license test (every ``/usr/share/doc/<package>/copyright``): conu's
  ``run_config`` against the raw SDK doing the same in the fewest calls (one container, one
  ``get_archive`` of ``/usr/share/doc``, the words looked for in the copyright members).
  Extra: conu's median seconds, target ≤ 2 s (the issue's goal; it took 23 to 39 s when each
  lookup made a container).
* ``-j 4`` and ``-j 8`` against a serial run of the same failure configuration
  (``tests/images/debian/failure-test.yaml``): both sides are conu (the "raw" column is the
  serial run); target: the parallel run ≤ 0.5 of the serial wall time.
* The engine's floor for that: the failure configuration's command tests as bare SDK calls
  (a container each: create, start, wait, logs, remove), all at once in threads (the
  "conu" column) against one after the other. No target: it shows how far parallel
  container runs can go on this machine, whatever runs them.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness import Scenario

from conu import DockerImage
from conu.backend.docker.client import get_client
from conu.backend.docker.image import DockerImagePullPolicy
from conu.cst.loader import load, parse
from conu.cst.runner import Options, run_config
from conu.labels import session_labels

DEBIAN = "conu-test/debian:bookworm"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAILURE = os.path.join(ROOT, "tests", "images", "debian", "failure-test.yaml")
BANNED = (b"AGPL", b"WTFPL")


def debian() -> DockerImage:
    """The Debian image, made (once per machine) by scripts/debian-image.sh."""
    script = os.path.join(ROOT, "scripts", "debian-image.sh")
    subprocess.run(["bash", script, DEBIAN], check=True, timeout=1200)
    repository, tag = DEBIAN.split(":")
    return DockerImage(repository, tag=tag, pull_policy=DockerImagePullPolicy.NEVER)


def _raw_license(client: Any, ident: str) -> int:
    """Copyright files naming a banned license, the SDK way: one container, one archive."""
    cid = client.create_container(
        ident, entrypoint=["/nonexistent"], command=[], labels=session_labels()
    )["Id"]
    try:
        stream, _ = client.get_archive(cid, "/usr/share/doc")
        data = io.BytesIO(b"".join(stream))
    finally:
        client.remove_container(cid, force=True)
    found = 0
    with tarfile.open(fileobj=data, mode="r|") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isreg() and len(parts) == 3 and parts[2] == "copyright":
                text = (tar.extractfile(member) or io.BytesIO()).read().upper()
                found += any(word in text for word in BANNED)
    return found


def _raw_command(client: Any, ident: str, argv: list[str]) -> bytes:
    """One command test's container, the SDK way."""
    cid = client.create_container(
        ident, entrypoint=argv[:1], command=argv[1:], labels=session_labels()
    )["Id"]
    try:
        client.start(cid)
        client.wait(cid, timeout=60)
        return bytes(client.logs(cid))
    finally:
        client.remove_container(cid, force=True)


def _raw_commands(client: Any, ident: str, commands: list[list[str]], threads: int) -> None:
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda argv: _raw_command(client, ident, argv), commands))


def scenarios(image: DockerImage) -> list[Scenario]:
    """The license test and the parallel failure run on ``image``."""
    client, ident = get_client(), image.get_id()
    license_config = parse({"schemaVersion": "2.0.0", "licenseTests": [{"debian": True}]}, "l")
    failure = load(FAILURE)
    commands = [[t.command, *t.args] for t in failure.command_tests]
    packages = len(image.list_directory("/usr/share/doc"))
    seconds: list[float] = []

    def conu_license() -> None:
        [result] = run_config(image, license_config)
        seconds.append(result.duration)

    return [
        Scenario(
            name=f"CST license test, Debian minbase ({packages} packages)",
            conu=conu_license,
            raw=lambda: _raw_license(client, ident),
            target=1.5,
            reps=10,
            note="raw: one container, one get_archive of /usr/share/doc",
            extra=lambda: {"conu license test median (s)": sorted(seconds)[len(seconds) // 2]},
            reset=seconds.clear,
            extra_targets={"conu license test median (s)": 2.0},
        ),
        *(
            Scenario(
                name=f"CST failure config, Debian: -j {jobs} vs serial",
                conu=lambda jobs=jobs: run_config(image, failure, Options(jobs=jobs)),
                raw=lambda: run_config(image, failure, Options(jobs=1)),
                target=0.5,
                reps=5,
                note="both conu; the raw column is the serial run",
            )
            for jobs in (4, 8)
        ),
        Scenario(
            name=f"engine floor: the {len(commands)} command tests' containers, raw SDK, "
            "at once vs one by one",
            conu=lambda: _raw_commands(client, ident, commands, len(commands)),
            raw=lambda: _raw_commands(client, ident, commands, 1),
            reps=5,
            note="both raw SDK; the conu column runs them in threads, the raw one serially",
        ),
    ]
