"""Metadata objects, the portable container state, and how Docker inspect documents fill them."""

from __future__ import annotations

from typing import Any

import pytest

from conu.apidefs.image import Image
from conu.apidefs.metadata import ContainerMetadata, ContainerStatus, ImageMetadata, Metadata
from conu.backend.docker.utils import inspect_to_container_metadata, inspect_to_metadata

S = ContainerStatus


@pytest.mark.parametrize(
    ("string", "exit_code", "expected"),
    [
        ("created", 0, S.NOT_RUNNING),
        ("restarting", 0, S.UNKNOWN),
        ("running", 0, S.RUNNING),
        ("removing", 0, S.UNKNOWN),
        ("paused", 0, S.NOT_RUNNING),
        ("exited", 0, S.NOT_RUNNING),
        ("dead", 0, S.FAILED),
        ("no-such-state", 0, S.UNKNOWN),
        (None, 0, S.UNKNOWN),
        ("exited", 137, S.FAILED),
        ("running", 1, S.FAILED),
        ("running", None, S.FAILED),
        ("created", None, S.FAILED),
    ],
)
def test_status_from_docker(string: str | None, exit_code: int | None, expected: S) -> None:
    assert ContainerStatus.get_from_docker(string, exit_code) is expected


def test_status_members() -> None:
    assert {m.name: m.value for m in ContainerStatus} == {
        "RUNNING": 0,
        "NOT_RUNNING": 1,
        "UNKNOWN": 2,
        "FAILED": 3,
    }


def test_metadata_defaults() -> None:
    md = Metadata()
    assert (md.name, md.identifier, md.labels, md.command, md.creation_timestamp) == (None,) * 5
    assert md.env_variables == {}
    cmd = ContainerMetadata()
    assert cmd.exposed_ports == []
    assert (cmd.image, cmd.port_mappings, cmd.hostname, cmd.status) == (None,) * 4
    assert (cmd.ipv4_addresses, cmd.ipv6_addresses) == (None, None)
    imd = ImageMetadata()
    assert (imd.exposed_ports, imd.image_names, imd.digest, imd.repo_digests) == (
        [],
        None,
        None,
        None,
    )


def test_mutable_defaults_are_fresh_per_instance() -> None:
    a, b = ContainerMetadata(), ContainerMetadata()
    a.env_variables["A"] = "1"
    a.exposed_ports.append("80/tcp")
    assert b.env_variables == {} and b.exposed_ports == []
    i, j = ImageMetadata(), ImageMetadata()
    i.volumes.append("/data")
    assert j.volumes == []


def test_mapping_over_raw() -> None:
    md = ContainerMetadata(raw={"Config": {"Env": ["A=1"]}, "Id": "abc"})
    assert md["Config"]["Env"] == ["A=1"]
    assert "Config" in md and "x" not in md
    assert sorted(md) == ["Config", "Id"] and len(md) == 2
    assert md.get("missing", 42) == 42
    with pytest.raises(KeyError):
        md["missing"]


def test_metadata_is_always_truthy() -> None:
    assert bool(ContainerMetadata()) is True
    assert bool(ImageMetadata()) is True


def _container_inspect() -> dict[str, Any]:
    return {
        "Id": "sha256:0123abcd",
        "Name": "/happy_turing",
        "Created": "2024-01-01T00:00:00.000000000Z",
        "State": {"Status": "running", "ExitCode": 0},
        "Config": {
            "Env": ["PATH=/bin:/usr/bin", "EQ=a=b=c", "EMPTY=", "NOEQUALS"],
            "Cmd": ["httpd", "-f"],
            "Labels": {"app": "web"},
            "Hostname": "c0ffee",
            "ExposedPorts": {"8080/tcp": {}, "12345/tcp": {}},
        },
        "HostConfig": {
            "PortBindings": {
                "12345/tcp": [
                    {"HostIp": "", "HostPort": "1234"},
                    {"HostIp": "", "HostPort": "123"},
                ],
                "8080/tcp": [{"HostIp": "", "HostPort": ""}],
            }
        },
        "NetworkSettings": {
            "Networks": {
                "bridge": {"IPAddress": "172.17.0.2", "GlobalIPv6Address": "2001:db8::2"},
                "other": {"IPAddress": "", "GlobalIPv6Address": ""},
            }
        },
    }


def test_inspect_to_container_metadata() -> None:
    image = Image("registry.example/app", tag="1")
    data = _container_inspect()
    md = inspect_to_container_metadata(ContainerMetadata(), data, image)
    assert md.identifier == "0123abcd"
    assert md.name == "happy_turing"
    assert md.env_variables == {"PATH": "/bin:/usr/bin", "EQ": "a=b=c", "EMPTY": ""}
    assert md.port_mappings == {"12345/tcp": [1234, 123], "8080/tcp": [None]}
    assert sorted(md.exposed_ports) == ["12345/tcp", "8080/tcp"]
    assert (md.command, md.labels, md.hostname) == (["httpd", "-f"], {"app": "web"}, "c0ffee")
    assert (md.ipv4_addresses, md.ipv6_addresses) == (["172.17.0.2"], ["2001:db8::2"])
    assert md.status is ContainerStatus.RUNNING
    assert md.image is image
    assert md.creation_timestamp == data["Created"]
    assert md.raw is data and md["HostConfig"] is data["HostConfig"]


def test_inspect_to_container_metadata_of_a_killed_container() -> None:
    data = {**_container_inspect(), "State": {"Status": "exited", "ExitCode": 137}}
    md = inspect_to_container_metadata(ContainerMetadata(), data, None)
    assert md.status is ContainerStatus.FAILED


def test_inspect_to_image_metadata() -> None:
    data: dict[str, Any] = {
        "Id": "sha256:feedface",
        "RepoTags": ["registry.example/app:1", "registry.example/app:latest"],
        "RepoDigests": ["registry.example/app@sha256:99"],
        "Created": "2024-01-01T00:00:00Z",
        "Config": {
            "Env": ["A=1", "B"],
            "Cmd": None,
            "Entrypoint": ["/entry"],
            "WorkingDir": "",
            "User": "",
            "Volumes": {"/data": {}},
            "ExposedPorts": {"80/tcp": {}},
        },
    }
    md = inspect_to_metadata(ImageMetadata(), data)
    assert md.identifier == "feedface"
    assert md.name == "registry.example/app:1"
    assert md.image_names == data["RepoTags"]
    assert md.digest == "registry.example/app@sha256:99"
    assert md.env_variables == {"A": "1"}
    assert (md.entrypoint, md.working_dir, md.user) == (["/entry"], None, None)
    assert (md.volumes, md.exposed_ports, md.command) == (["/data"], ["80/tcp"], None)


def test_inspect_to_metadata_fills_in_place() -> None:
    md = Metadata()
    assert inspect_to_metadata(md, {"Id": "plainid"}) is md
    assert md.identifier == "plainid" and md.env_variables == {}
