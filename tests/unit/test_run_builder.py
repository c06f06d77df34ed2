"""DockerRunBuilder: the docker run command line, without an engine."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conu.backend.docker.constants import CONU_ARTIFACT_TAG
from conu.backend.docker.container_parameters import DockerContainerParameters
from conu.backend.docker.run_builder import DockerRunBuilder
from conu.exceptions import InvalidArgument


def test_artifact_tag_value() -> None:
    assert CONU_ARTIFACT_TAG == "conu.test_artifact"


def test_attributes() -> None:
    builder = DockerRunBuilder()
    assert builder.binary == ["docker"]
    assert builder.global_options == []
    assert builder.command == ["run"]
    assert builder.options == []
    assert builder.image_name is None
    assert builder.arguments == []


def test_build_without_options() -> None:
    builder = DockerRunBuilder()
    builder.image_name = "voodoo"
    assert builder.build() == ["docker", "run", "-l", "conu.test_artifact", "voodoo"]


def test_build_with_options_and_command() -> None:
    builder = DockerRunBuilder(command=["x", "y"], additional_opts=["-a", "--foo"])
    builder.image_name = "voodoo"
    expected = ["docker", "run", "-a", "--foo", "-l", "conu.test_artifact", "voodoo", "x", "y"]
    assert builder.build() == expected


def test_global_options_come_before_the_subcommand() -> None:
    builder = DockerRunBuilder(command=["true"])
    builder.global_options.append("--debug")
    builder.image_name = "img"
    assert builder.build()[:3] == ["docker", "--debug", "run"]


def test_fresh_options_list_per_instance() -> None:
    first = DockerRunBuilder()
    second = DockerRunBuilder()
    first.options.append("-d")
    assert second.options == []
    assert first.options is not second.options


def test_caller_lists_are_copied_in_order() -> None:
    opts = ["-e", "A=1", "--rm"]
    command = ["sleep", "1"]
    builder = DockerRunBuilder(command=command, additional_opts=opts)
    builder.options.append("-d")
    builder.arguments.append("2")
    assert opts == ["-e", "A=1", "--rm"]
    assert command == ["sleep", "1"]
    assert builder.options == ["-e", "A=1", "--rm", "-d"]


def test_tuples_are_accepted() -> None:
    builder = DockerRunBuilder(command=("ls", "/"), additional_opts=("-i",))
    builder.image_name = "img"
    assert builder.build() == ["docker", "run", "-i", "-l", CONU_ARTIFACT_TAG, "img", "ls", "/"]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"command": "ls /"}, "command"),
        ({"command": ["ls", 1]}, "command"),
        ({"additional_opts": "-d"}, "additional_opts"),
        ({"additional_opts": [b"-d"]}, "additional_opts"),
        ({"additional_opts": {"-d"}}, "additional_opts"),
    ],
)
def test_bad_types_raise_type_error(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(TypeError, match=repr(argument)):
        DockerRunBuilder(**kwargs)


def test_build_without_image_raises() -> None:
    with pytest.raises(InvalidArgument, match="image_name"):
        DockerRunBuilder().build()


def test_str_is_a_shell_command_line() -> None:
    builder = DockerRunBuilder(command=["bash", "-c", "ls / | grep bin"], additional_opts=["-i"])
    builder.image_name = "sha256:abc"
    text = str(builder)
    assert text == "docker run -i -l conu.test_artifact sha256:abc bash -c 'ls / | grep bin'"
    assert shlex.split(text) == builder.build()
    assert text in repr(builder)


def test_str_without_image_does_not_raise() -> None:
    assert "<image>" in str(DockerRunBuilder())


def test_get_parameters_reads_options_and_arguments() -> None:
    builder = DockerRunBuilder(command=["sleep", "50"], additional_opts=["--name", "web", "-d"])
    builder.image_name = "img"
    params = builder.get_parameters()
    assert isinstance(params, DockerContainerParameters)
    assert params.name == "web"
    assert params.detach is True
    assert params.command == ["sleep", "50"]
    # the conu label is added by build() only, it is not one of the options
    assert params.labels is None


def test_get_parameters_sees_later_changes() -> None:
    builder = DockerRunBuilder()
    builder.options.extend(["-l", "a=b"])
    assert builder.get_parameters().labels == {"a": "b"}


words = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@given(
    command=st.lists(words, max_size=4),
    opts=st.lists(words, max_size=6),
    image=st.from_regex(r"[a-z0-9]{1,10}(/[a-z0-9]{1,8})?", fullmatch=True),
)
def test_build_and_str_agree_for_any_arguments(
    command: list[str], opts: list[str], image: str
) -> None:
    builder = DockerRunBuilder(command=command, additional_opts=opts)
    before = (list(command), list(opts))
    builder.image_name = image
    argv = builder.build()
    # The options and the command come through unchanged, around the image and the label.
    assert argv[: 2 + len(opts)] == ["docker", "run", *opts]
    assert argv[-1 - len(command) :] == [image, *command]
    assert CONU_ARTIFACT_TAG in argv
    assert shlex.split(str(builder)) == argv  # str() is the same line, quoted for a shell
    assert (command, opts) == before  # the caller's lists are not touched
