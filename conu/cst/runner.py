"""Running container-structure-test configurations against an image of any conu backend.

Order and semantics follow the upstream tool: command tests, then file content, file
existence, license and metadata tests. Each command test runs in fresh containers (entrypoint
replaced): every ``setup`` command in a container committed to a new image, the command
in a container of the last one, ``teardown`` commands after it. Intermediate images are
removed when the test ends. ``$VAR`` in commands, paths and environment values expands
from the image's environment (plus ``globalEnvVars``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from conu.cst import checks
from conu.cst.checks import Result
from conu.cst.config import CommandTest, Config, RunOptions
from conu.exceptions import ConuException, NotFound

__all__ = [
    "COMMAND_TIMEOUT",
    "Options",
    "open_image",
    "planned_names",
    "planned_tests",
    "run_config",
]

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT = 300.0
"""Seconds one command (or setup step) may run."""


def open_image(backend_name: str, reference: str, *, pull: bool = False) -> Any:
    """The image ``reference`` of backend ``backend_name``: pulled first with ``pull``,
    otherwise it must be in the engine already (as with the upstream tool).

    Raises:
        ConuException: the backend or the image cannot be used (ImageNotFound if missing).
    """
    import inspect

    from conu.exceptions import ImageNotFound
    from conu.plugins import get_backend

    image_class: Any = get_backend(backend_name).ImageClass
    policy = inspect.signature(image_class).parameters.get("pull_policy")
    if policy is None:  # a backend without pull policies
        image = image_class(reference)
    else:
        policies = type(policy.default)
        image = image_class(reference, pull_policy=policies.ALWAYS if pull else policies.NEVER)
    if not image.is_present():
        msg = f"the {backend_name} engine has no image {reference!r} (pull it first)"
        raise ImageNotFound(msg)
    return image


def planned_names(config: Config) -> list[str]:
    """The names of the tests of ``config``, in the order they run."""
    return [
        *(f"Command Test: {t.name}" for t in config.command_tests),
        *(f"File Content Test: {t.name}" for t in config.file_content_tests),
        *(f"File Existence Test: {t.name}" for t in config.file_existence_tests),
        *("License Test" for _ in config.license_tests),
        *(["Metadata Test"] if config.metadata_test is not None else []),
    ]


@attrs.frozen
class Options:
    """How the tests run (``conu validate``'s flags)."""

    timeout: float = COMMAND_TIMEOUT
    """Seconds one command (or setup step) may run."""
    jobs: int = 1
    """Tests run at once (each test is independent: its own containers)."""
    save: bool = False
    """Keep the containers of command tests (the session's cleanup removes them)."""
    engine_options: dict[str, Any] = attrs.field(factory=dict)
    """The engine's own options of the command tests' containers (``RunSpec``)."""


def planned_tests(
    image: Any, config: Config, timeout: float | Options = COMMAND_TIMEOUT
) -> list[tuple[str, Callable[[], Result]]]:
    """The tests of ``config`` as ``(name, run)`` pairs, in the upstream tool's order."""
    options = timeout if isinstance(timeout, Options) else Options(timeout=timeout)
    env = _image_env(image, config)
    plan: list[tuple[str, Callable[[], Result]]] = []
    for ct in config.command_tests:
        plan.append(
            (f"Command Test: {ct.name}", _bind(run_command_test, image, ct, config, env, options))
        )
    for fc in config.file_content_tests:
        fc = attrs.evolve(fc, path=checks.expand(fc.path, env))
        plan.append((f"File Content Test: {fc.name}", _bind(checks.check_file_content, image, fc)))
    for fe in config.file_existence_tests:
        fe = attrs.evolve(fe, path=checks.expand(fe.path, env))
        plan.append(
            (f"File Existence Test: {fe.name}", _bind(checks.check_file_existence, image, fe))
        )
    for lt in config.license_tests:
        plan.append(("License Test", _bind(checks.check_license, image, lt)))
    if config.metadata_test is not None:
        plan.append(("Metadata Test", _bind(checks.check_metadata, image, config.metadata_test)))
    return plan


def run_config(
    image: Any, config: Config, timeout: float | Options = COMMAND_TIMEOUT
) -> list[Result]:
    """Run every test of ``config`` against ``image`` and return the results in order.

    The file tests share one helper container of the image (when its backend has
    ``shared_helper``); with ``Options.jobs`` above 1, that many tests run at once.
    """
    options = timeout if isinstance(timeout, Options) else Options(timeout=timeout)
    plan = planned_tests(image, config, options)
    sharing = getattr(image, "shared_helper", None)
    with sharing() if sharing is not None else contextlib.nullcontext():
        if options.jobs <= 1 or len(plan) <= 1:
            return [run_guarded(name, run) for name, run in plan]
        with ThreadPoolExecutor(options.jobs, thread_name_prefix="conu-cst") as pool:
            return list(pool.map(lambda item: run_guarded(*item), plan))


def run_guarded(name: str, run: Callable[[], Result]) -> Result:
    """Run one test; an engine or image error fails it (with the reason) instead of raising."""
    started = time.monotonic()
    try:
        return run()
    except (ConuException, OSError) as exc:
        result = Result(name)
        result.fail(f"{type(exc).__name__}: {exc}")
        return checks.timed(result, started)


def _bind(fn: Callable[..., Result], *args: Any) -> Callable[[], Result]:
    return lambda: fn(*args)


def _image_env(image: Any, config: Config) -> dict[str, str]:
    """The image's environment with ``globalEnvVars`` applied (values expanded from it)."""
    env = dict(image.get_metadata().env_variables or {})
    base = dict(env)
    for var in config.global_env_vars:
        env[var.key] = checks.expand(var.value, base)
    return env


def _test_env(test: CommandTest, config: Config, env: dict[str, str]) -> dict[str, str]:
    """What the command's container gets on top of the image's own environment."""
    extra = {var.key: env[var.key] for var in config.global_env_vars}
    extra.update(_options_env(config.run_options))
    extra.update({var.key: checks.expand(var.value, env) for var in test.env_vars})
    return extra


def _options_env(options: RunOptions) -> dict[str, str]:
    """``containerRunOptions.envFile`` then ``envVars`` (from this process's environment),
    as upstream: an unreadable envFile is warned about and skipped, and empty or unset
    values are not passed (the image's own value stays)."""
    found: dict[str, str] = {}
    if options.env_file:
        try:
            with open(options.env_file, encoding="utf-8") as stream:
                lines = stream.read().splitlines()
        except OSError as exc:
            logger.warning(
                "containerRunOptions.envFile: cannot read %r (%s): running without it",
                options.env_file,
                exc.strerror,
            )
            lines = []
        for line in lines:
            key, sep, value = line.strip().removeprefix("export ").partition("=")
            value = value.strip().strip("'\"")
            if sep and key.strip() and not key.startswith("#") and value:
                found[key.strip()] = value
    found.update({name: os.environ[name] for name in options.env_vars if os.environ.get(name)})
    return found


def _run_kwargs(options: RunOptions) -> dict[str, Any]:
    return {
        "user": options.user,
        "privileged": options.privileged,
        "cap_add": options.capabilities,
        "binds": options.bind_mounts,
    }


def run_command_test(
    image: Any,
    test: CommandTest,
    config: Config,
    env: dict[str, str],
    timeout: float | Options = COMMAND_TIMEOUT,
) -> Result:
    """One ``commandTests`` entry."""
    options = timeout if isinstance(timeout, Options) else Options(timeout=timeout)
    started, result = time.monotonic(), Result(f"Command Test: {test.name}")
    extra = _test_env(test, config, env)
    kwargs = {**_run_kwargs(config.run_options), "env": extra, "timeout": options.timeout}
    if options.save:
        kwargs["keep"] = True
    if options.engine_options:
        kwargs["engine_options"] = options.engine_options
    with _committed(image, test.setup, env, kwargs) as current:
        argv = [checks.expand(arg, env) for arg in [test.command, *test.args]]
        outcome = current.run_command(argv, tty=config.run_options.allocate_tty, **kwargs)
        for step in test.teardown:
            done = current.run_command([checks.expand(a, env) for a in step], **kwargs)
            if done.exit_code:
                logger.warning("teardown %s of %r exited %d", step, test.name, done.exit_code)
    result.stdout = outcome.stdout.decode("utf-8", "replace")
    result.stderr = outcome.stderr.decode("utf-8", "replace")
    _check_output(result, test, outcome.exit_code)
    return checks.timed(result, started)


@contextlib.contextmanager
def _committed(
    image: Any, setup: list[list[str]], env: dict[str, str], kwargs: dict[str, Any]
) -> Iterator[Any]:
    """Yield the image after the setup commands (each committed); remove what they made."""
    made: list[Any] = []
    current = image
    try:
        for step in setup:
            done = current.run_command([checks.expand(a, env) for a in step], commit=True, **kwargs)
            if done.exit_code:
                logger.warning("setup %s exited %d", step, done.exit_code)
            made.append(done.image)
            current = done.image
        yield current
    finally:
        for step_image in reversed(made):
            with contextlib.suppress(NotFound):
                step_image.rmi(force=True, prune=False)  # keep the tested image


def _check_output(result: Result, test: CommandTest, exit_code: int) -> None:
    for problem in (
        *checks.regex_problems(test.expected_error, result.stderr, expected=True, what="error"),
        *checks.regex_problems(test.excluded_error, result.stderr, expected=False, what="error"),
        *checks.regex_problems(test.expected_output, result.stdout, expected=True, what="output"),
        *checks.regex_problems(test.excluded_output, result.stdout, expected=False, what="output"),
    ):
        result.fail(problem)
    if exit_code != test.exit_code:
        result.fail(
            f"Test {test.name!r} exited with incorrect error code. "
            f"Expected: {test.exit_code}, Actual: {exit_code}"
        )
