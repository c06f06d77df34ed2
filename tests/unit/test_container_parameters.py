"""DockerContainerParameters, docker run option parsing and the docker-py mapping."""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conu.apidefs.metadata import ContainerMetadata
from conu.backend.docker.container_parameters import (
    DockerContainerParameters,
    parse_run_options,
    to_api_kwargs,
)
from conu.exceptions import InvalidArgument

SECOND = 1_000_000_000

CONSTRUCTOR_ORDER = [
    "cap_add", "cap_drop", "command", "detach", "devices", "dns", "entrypoint", "env_variables",
    "group_add", "healthcheck", "hostname", "init", "ipc_mode", "isolation", "labels",
    "mac_address", "mem_limit", "mounts", "name", "network", "pids_limit", "platform",
    "port_mappings", "privileged", "publish_all_ports", "read_only", "remove", "runtime",
    "stdin_open", "stdout", "stderr", "stop_signal", "tty", "user", "volumes", "working_dir",
]  # fmt: skip

UPSTREAM_OPTIONS = [
    "-l", "hello=there", "-l", "oh=noo", "--name", "test", "-d", "--privileged", "--rm",
    "--isolation", "default", "--mac-address", "92:d0:c6:0a:29:33", "-m", "1G",
    "-u", "my_user", "-w", "/tmp", "-e", "ENV1=my_env",
    "-p", "123:12345", "-p", "1444", "-p", "10.0.0.1::150", "-p", "10.0.0.2:2345:7654",
    "--cap-add", "MKNOD", "--cap-add", "SYS_ADMIN", "--cap-drop", "SYS_ADMIN",
    "--device", "/dev/sdc:/dev/xvdc", "--dns", "www.example.com",
    "--group-add", "group1", "--group-add", "group2", "--mount", "/tmp", "-v", "/tmp:/tmp",
]  # fmt: skip


# -- the parameters object ----------------------------------------------------------------


def test_constructor_keywords_in_conu_1_order() -> None:
    names = list(inspect.signature(DockerContainerParameters).parameters)
    assert names == CONSTRUCTOR_ORDER


def test_defaults() -> None:
    params = DockerContainerParameters()
    assert isinstance(params, ContainerMetadata)
    assert params.env_variables == {}
    assert params.exposed_ports == []
    assert params.stdout is True
    assert params.stderr is False
    assert params.healthcheck is None
    assert params.labels is None


def test_positional_arguments_follow_the_order() -> None:
    params = DockerContainerParameters(["NET_ADMIN"], None, ["true"])
    assert params.cap_add == ["NET_ADMIN"]
    assert params.command == ["true"]


def test_equality_covers_docker_fields() -> None:
    assert DockerContainerParameters(tty=True) == DockerContainerParameters(tty=True)
    assert DockerContainerParameters(tty=True) != DockerContainerParameters(tty=False)
    assert "tty=True" in repr(DockerContainerParameters(tty=True))


# -- parsing --------------------------------------------------------------------------------


def test_docker_parameters() -> None:
    params = parse_run_options(UPSTREAM_OPTIONS, ["sleep", "50"])
    assert params.labels == {"hello": "there", "oh": "noo"}
    assert params.name == "test"
    assert params.detach and params.privileged and params.remove
    assert params.isolation == "default"
    assert params.mac_address == "92:d0:c6:0a:29:33"
    assert params.mem_limit == "1G"
    assert params.user == "my_user"
    assert params.working_dir == "/tmp"
    assert "ENV1=my_env" in params.env_variables
    assert params.port_mappings == {
        "12345": 123,
        "1444": None,
        "150": ("10.0.0.1", None),
        "7654": ("10.0.0.2", 2345),
    }
    assert params.cap_add == ["MKNOD", "SYS_ADMIN"]
    assert params.cap_drop == ["SYS_ADMIN"]
    assert params.devices == ["/dev/sdc:/dev/xvdc"]
    assert params.dns == ["www.example.com"]
    assert params.group_add == ["group1", "group2"]
    assert params.mounts == ["/tmp"]
    assert params.volumes == ["/tmp:/tmp"]
    assert params.command == ["sleep", "50"]


def test_nothing_given() -> None:
    params = parse_run_options([])
    assert params == DockerContainerParameters()


def test_flags_and_long_forms() -> None:
    options = ["--interactive", "--tty", "--init", "--publish-all", "--read-only", "--detach"]
    params = parse_run_options(options)
    assert params.stdin_open and params.tty and params.init
    assert params.publish_all_ports and params.read_only and params.detach


def test_combined_short_flags() -> None:
    params = parse_run_options(["-it"])
    assert params.stdin_open is True
    assert params.tty is True


def test_net_is_an_abbreviation_of_network() -> None:
    assert parse_run_options(["--net", "host"]).network == "host"
    assert parse_run_options(["--net=none"]).network == "none"


@pytest.mark.parametrize("option", ["--ip", "--pid"])
def test_docker_options_that_look_like_abbreviations_are_ignored(option: str) -> None:
    params = parse_run_options([option, "host"])
    assert params.ipc_mode is None
    assert params.pids_limit is None


def test_unknown_options_are_ignored() -> None:
    params = parse_run_options(["--cpus", "2", "--log-opt", "max-size=1m", "--name", "x"])
    assert params.name == "x"


def test_last_single_value_wins() -> None:
    assert parse_run_options(["--name", "a", "--name", "b"]).name == "b"


def test_strings_and_integers() -> None:
    options = ["-h", "box", "--entrypoint", "/bin/sh", "--pids-limit", "-1", "--ipc=host"]
    params = parse_run_options(options)
    assert (params.hostname, params.entrypoint) == ("box", "/bin/sh")
    assert (params.pids_limit, params.ipc_mode) == (-1, "host")


def test_empty_command_means_image_default() -> None:
    assert parse_run_options([], []).command is None


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["a=b=c"], {"a": "b=c"}),
        (["a"], {"a": ""}),
        (["a="], {"a": ""}),
        (["a=1", "a=2"], {"a": "2"}),
    ],
)
def test_labels(labels: list[str], expected: dict[str, str]) -> None:
    options = [item for label in labels for item in ("-l", label)]
    assert parse_run_options(options).labels == expected


def test_env_stays_a_list_of_strings() -> None:
    params = parse_run_options(["-e", "A=1", "--env", "B", "-e", "C=x=y"])
    assert params.env_variables == ["A=1", "B", "C=x=y"]


@pytest.mark.parametrize(
    ("spec", "key", "value"),
    [
        ("80", "80", None),
        ("8080:80", "80", 8080),
        (":80", "80", None),
        ("53/udp", "53/udp", None),
        ("5353:53/udp", "53/udp", 5353),
        ("127.0.0.1::80", "80", ("127.0.0.1", None)),
        ("127.0.0.1:8080:80/tcp", "80/tcp", ("127.0.0.1", 8080)),
        ("[::1]:8080:80", "80", ("::1", 8080)),
        ("[::1]::80", "80", ("::1", None)),
        ("::80", "80", None),
    ],
)
def test_port_forms(spec: str, key: str, value: Any) -> None:
    assert parse_run_options(["-p", spec]).port_mappings == {key: value}


def test_port_published_twice_keeps_both_bindings() -> None:
    params = parse_run_options(["-p", "8080:80", "-p", "127.0.0.1:9090:80"])
    assert params.port_mappings == {"80": [8080, ("127.0.0.1", 9090)]}


@pytest.mark.parametrize(
    "spec",
    [
        "0",
        "65536",
        "abc",
        "80:0",
        "99999:80",
        "8000-8010:80",
        "1.2.3.4:1:2:3",
        "80/xyz",
        "80/",
        "not-an-ip:80:80",
        "[::1]80",
        "",
    ],
)
def test_bad_port_raises_invalid_argument(spec: str) -> None:
    with pytest.raises(InvalidArgument, match="--publish"):
        parse_run_options(["-p", spec])


@pytest.mark.parametrize(
    "options",
    [
        ["--pids-limit", "abc"],
        ["--pids-limit", "1.5"],
        ["--health-retries", "-1"],
        ["-l", "=value"],
        ["--name"],
        ["--health-interval", "soon"],
    ],
)
def test_bad_values_raise_invalid_argument(options: list[str]) -> None:
    with pytest.raises(InvalidArgument, match=options[0]):
        parse_run_options(options)


def test_bad_value_is_not_system_exit() -> None:
    try:
        parse_run_options(["--pids-limit", "abc"])
    except SystemExit:  # pragma: no cover - the failure being guarded against
        pytest.fail("parsing exited instead of raising InvalidArgument")
    except InvalidArgument as exc:
        assert "--pids-limit" in str(exc)


@pytest.mark.parametrize(
    ("options", "command"),
    [("-d --rm", None), (["-d", 1], None), ([], "sleep 1"), ([], [b"sleep"])],
)
def test_bad_types_raise_type_error(options: Any, command: Any) -> None:
    with pytest.raises(TypeError):
        parse_run_options(options, command)


# -- healthchecks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("30s", 30 * SECOND),
        ("1m30s", 90 * SECOND),
        ("500ms", SECOND // 2),
        ("1.5h", 5400 * SECOND),
        ("2h45m", (2 * 3600 + 45 * 60) * SECOND),
        ("1000us", 1_000_000),
        ("1000\u00b5s", 1_000_000),
        ("30", 30 * SECOND),
        ("0", 0),
        ("0s", 0),
    ],
)
def test_health_durations(text: str, nanoseconds: int) -> None:
    params = parse_run_options(["--health-interval", text])
    assert params.healthcheck == {"interval": nanoseconds}


@pytest.mark.parametrize("text", ["", "abc", "1x", "-1s", "1s2", "10ns", "0.5ms", "1 s"])
def test_bad_health_durations(text: str) -> None:
    with pytest.raises(InvalidArgument, match="--health-timeout"):
        parse_run_options([f"--health-timeout={text}"])


def test_no_health_options_means_no_healthcheck() -> None:
    assert parse_run_options(["-d"]).healthcheck is None


def test_full_healthcheck() -> None:
    options = [
        "--health-cmd", "curl -f http://localhost/ || exit 1", "--health-interval", "10s",
        "--health-timeout", "3s", "--health-start-period", "1m", "--health-retries", "4",
    ]  # fmt: skip
    assert parse_run_options(options).healthcheck == {
        "test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
        "interval": 10 * SECOND,
        "timeout": 3 * SECOND,
        "start_period": 60 * SECOND,
        "retries": 4,
    }


def test_no_healthcheck_disables_the_image_check() -> None:
    assert parse_run_options(["--no-healthcheck"]).healthcheck == {"test": ["NONE"]}


def test_no_healthcheck_conflicts_with_health_options() -> None:
    with pytest.raises(InvalidArgument, match="--no-healthcheck"):
        parse_run_options(["--no-healthcheck", "--health-cmd", "true"])


# -- to_api_kwargs --------------------------------------------------------------------------


def test_api_kwargs_of_defaults() -> None:
    create, host = to_api_kwargs(DockerContainerParameters())
    assert create["detach"] is True
    assert create["environment"] is None
    assert create["ports"] is None
    assert create["volumes"] is None
    assert "image" not in create and "host_config" not in create
    assert host["auto_remove"] is False
    assert host["binds"] is None
    assert host["init"] is None
    assert host["network_mode"] is None
    assert host["port_bindings"] is None


def test_api_kwargs_of_upstream_options() -> None:
    create, host = to_api_kwargs(parse_run_options(UPSTREAM_OPTIONS, ["sleep", "50"]))
    assert create["command"] == ["sleep", "50"]
    assert create["name"] == "test"
    assert create["labels"] == {"hello": "there", "oh": "noo"}
    assert create["environment"] == ["ENV1=my_env"]
    assert create["user"] == "my_user"
    assert create["working_dir"] == "/tmp"
    assert create["mac_address"] == "92:d0:c6:0a:29:33"
    assert host["auto_remove"] is True
    assert host["privileged"] is True
    assert host["mem_limit"] == "1G"
    assert host["cap_add"] == ["MKNOD", "SYS_ADMIN"]
    assert host["mounts"] == ["/tmp"]
    assert host["isolation"] == "default"


def test_volumes_become_binds() -> None:
    params = parse_run_options(["-v", "/data", "-v", "/srv:/srv:ro,Z", "-v", "named:/cache"])
    create, host = to_api_kwargs(params)
    assert host["binds"] == ["/srv:/srv:ro,Z", "named:/cache"]
    assert create["volumes"] == ["/data", "/srv", "/cache"]


@pytest.mark.parametrize("volume", ["", ":/x", "/x:", "a:b:c:d"])
def test_bad_volume_raises(volume: str) -> None:
    with pytest.raises(InvalidArgument, match="volume"):
        to_api_kwargs(DockerContainerParameters(volumes=[volume]))


def test_ports_are_exposed_and_bound() -> None:
    options = ["-p", "8080:80", "-p", "53/udp", "-p", "127.0.0.1::443", "-p", "9090:80"]
    create, host = to_api_kwargs(parse_run_options(options))
    assert create["ports"] == [80, (53, "udp"), 443]
    assert host["port_bindings"] == {
        "80/tcp": [8080, 9090],
        "53/udp": None,
        "443/tcp": ("127.0.0.1", None),
    }


def test_exposed_ports_field_is_exposed() -> None:
    params = DockerContainerParameters()
    params.exposed_ports = ["8080/tcp", "53/udp"]
    create, _host = to_api_kwargs(params)
    assert create["ports"] == [8080, (53, "udp")]


def test_network_platform_init_healthcheck() -> None:
    options = ["--net", "host", "--platform", "linux/arm64", "--init", "--no-healthcheck"]
    create, host = to_api_kwargs(parse_run_options(options))
    assert host["network_mode"] == "host"
    assert host["init"] is True
    assert create["platform"] == "linux/arm64"
    assert create["healthcheck"] == {"test": ["NONE"]}


@pytest.mark.parametrize("env", [["A=1", "B=2"], {"A": "1", "B": "2"}])
def test_environment_list_or_dict(env: Any) -> None:
    create, _host = to_api_kwargs(DockerContainerParameters(env_variables=env))
    assert create["environment"] == env


def test_docker_py_accepts_the_kwargs() -> None:
    docker = pytest.importorskip("docker")
    options = [*UPSTREAM_OPTIONS, "-p", "[::1]:9000:9000/udp", "--health-cmd", "true"]
    options += ["--health-interval", "30s", "-v", "/data"]
    create, host = to_api_kwargs(parse_run_options(options, ["sleep", "50"]))
    host_config = docker.types.HostConfig(version="1.41", **host)
    signature = inspect.signature(docker.APIClient.create_container)
    signature.bind(None, "img", host_config=host_config, **create)
    # create_container hands these two to the endpoint, not to ContainerConfig
    config_kwargs = {key: value for key, value in create.items() if key not in {"name", "platform"}}
    config = docker.types.ContainerConfig("1.41", "img", host_config=host_config, **config_kwargs)
    assert config["Healthcheck"]["Interval"] == 30 * SECOND
    assert config["ExposedPorts"]["9000/udp"] == {}
    assert host_config["PortBindings"]["9000/udp"] == [{"HostIp": "::1", "HostPort": "9000"}]
    assert host_config["PortBindings"]["1444/tcp"] == [{"HostIp": "", "HostPort": ""}]
    assert host_config["Binds"] == ["/tmp:/tmp"]
    assert host_config["AutoRemove"] is True


# -- properties -----------------------------------------------------------------------------

port_numbers = st.integers(min_value=1, max_value=65535)
protocols = st.sampled_from(["", "/tcp", "/udp", "/sctp"])
ip_addresses = st.ip_addresses()


@st.composite
def port_specs(draw: st.DrawFn) -> tuple[str, str, Any]:
    """A valid -p value with the key and value the parser must give for it."""
    container = f"{draw(port_numbers)}{draw(protocols)}"
    host = draw(st.none() | port_numbers)
    ip = draw(st.none() | ip_addresses)
    host_text = "" if host is None else str(host)
    if ip is None:
        spec = container if host is None else f"{host_text}:{container}"
        return spec, container, host
    ip_text = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"{ip_text}:{host_text}:{container}", container, (str(ip), host)


label_keys = st.text(min_size=1).filter(lambda key: "=" not in key and key.strip() != "")


@given(specs=st.lists(port_specs(), min_size=1, max_size=5))
def test_valid_port_specs_round_trip(specs: list[tuple[str, str, Any]]) -> None:
    options = [f"--publish={spec}" for spec, _key, _value in specs]
    mappings = parse_run_options(options).port_mappings
    assert mappings is not None
    for _spec, key, value in specs:
        got = mappings[key]
        assert value == got or (isinstance(got, list) and value in got)


@given(labels=st.dictionaries(label_keys, st.text()), env=st.lists(st.text()))
def test_labels_and_env_round_trip(labels: dict[str, str], env: list[str]) -> None:
    options = [f"--label={key}={value}" for key, value in labels.items()]
    options += [f"--env={item}" for item in env]
    params = parse_run_options(options)
    assert params.labels == (labels or None)
    assert params.env_variables == (env or {})


@given(values=st.lists(st.text(), max_size=4))
def test_arbitrary_values_raise_only_invalid_argument(values: list[str]) -> None:
    for option in ("-p", "-l", "--pids-limit", "--health-interval", "--health-retries"):
        with contextlib.suppress(InvalidArgument):
            parse_run_options([option, *values])
