"""Which ``docker run`` options ``run_via_binary`` creates through the API, and how."""

from __future__ import annotations

import pytest

from conu.backend.docker.cli_equivalent import FORCE_CLI_VARIABLE, run_spec
from conu.labels import SESSION_LABEL

IMAGE = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    "options",
    [
        ["--cpus", "1"],  # unknown to conu
        ["--no-such-option"],
        ["--netw", "none"],  # an abbreviation argparse would take, the client refuses
        ["--mount", "type=bind,src=/tmp,dst=/t"],  # a syntax conu does not translate
        ["-m", "64m"],
        ["--ip", "10.0.0.2"],
        ["-e=A=b"],  # pflag reads the value "A=b", argparse "=A=b"
        ["-d=true"],
        ["--rm=false"],  # a flag with a value
        ["-e"],  # no value
        ["--name", "-x"],  # a value that looks like an option
        ["-e", "=b"],  # the client's own error
        ["-p", "8000-8001:80-81"],  # a range: conu's parser is narrower than the client
        ["--health-interval", "30"],  # bare seconds: conu reads them, the client refuses
        ["busybox"],  # a positional: the client takes it for the image
        ["--", "-x"],
        ["-iz"],  # an unknown letter in combined flags
    ],
)
def test_options_that_need_the_client(options: list[str]) -> None:
    assert run_spec(IMAGE, options, ["true"]) is None


def test_the_switch_forces_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_spec(IMAGE, [], []) is not None
    monkeypatch.setenv(FORCE_CLI_VARIABLE, "cli")
    assert run_spec(IMAGE, [], []) is None


def test_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONU_TEST_HOSTVAR", "from host")
    monkeypatch.delenv("CONU_TEST_UNSET", raising=False)
    options = [
        "-it",
        "-eA=b",
        "--env=CONU_TEST_HOSTVAR",
        "-e",
        "CONU_TEST_UNSET",
        "--entrypoint",
        "",
        "-v",
        "/host:/in:ro",
        "-v",
        "/anonymous",
        "--cap-add",
        "net_admin",
        "--cap-add=CAP_NET_ADMIN",
        "--cap-drop",
        "ALL",
        "-l",
        "x=y",
        "--name",
        "web",
        "--health-interval=1m30s",
    ]
    spec = run_spec(IMAGE, options, ["sh", "-c", "true"])
    assert spec is not None
    create = spec.engine_options["create"]
    host = spec.engine_options["host_config"]
    assert create["tty"] is True and create["stdin_open"] is True
    assert create["environment"] == ["A=b", "CONU_TEST_HOSTVAR=from host", "CONU_TEST_UNSET"]
    assert create["entrypoint"] == [""]  # resets the image's, as the client sends it
    assert create["volumes"] == ["/anonymous"]
    assert host["binds"] == ["/host:/in:ro"]
    assert host["cap_add"] == ["CAP_NET_ADMIN"]
    assert host["cap_drop"] == ["ALL"]
    assert create["healthcheck"] == {"interval": 90_000_000_000}
    assert create["command"] == ["sh", "-c", "true"]
    assert spec.name == "web"
    assert spec.labels["x"] == "y"
    assert SESSION_LABEL in spec.labels
    assert create["labels"] == spec.labels
    assert spec.engine_options["host_config_defaults"]["Dns"] == ()
