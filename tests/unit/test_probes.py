"""Probe and wait_for: conu 1.0's observable semantics, in the caller's process, on time."""

from __future__ import annotations

import contextvars
import functools
import importlib.util
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from conu.exceptions import CountExceeded, InvalidArgument, ProbeTimeout
from conu.probes import Probe, wait_for


class Counter:
    """A fnc that returns ``results`` in turn (the last one forever) and counts its calls."""

    def __init__(self, *results: object, delay: float = 0.0) -> None:
        self.results = results or (False,)
        self.delay = delay
        self.calls = 0

    def __call__(self, **kwargs: object) -> object:
        self.calls += 1
        time.sleep(self.delay)
        result = self.results[min(self.calls, len(self.results)) - 1]
        if isinstance(result, BaseException):
            raise result
        return result


@pytest.fixture
def hang() -> Iterator[Callable[[], bool]]:
    """A fnc that blocks for 10 s, released when the test ends so no thread outlives it."""
    release = threading.Event()
    yield lambda: release.wait(10)
    release.set()


def elapsed_since(start: float) -> float:
    return time.monotonic() - start


# --- timing -------------------------------------------------------------------------------


def test_success_on_first_try_returns_without_pause() -> None:
    start = time.monotonic()
    assert Probe(timeout=10, pause=5, fnc=lambda: True).run() is True
    assert elapsed_since(start) < 0.5


def test_count_one_with_slow_false_raises_count_exceeded_fast() -> None:
    start = time.monotonic()
    with pytest.raises(CountExceeded):
        Probe(timeout=10, pause=1, count=1, fnc=Counter(False, delay=1)).run()
    assert elapsed_since(start) < 2


def test_timeout_beats_a_larger_count() -> None:
    fnc = Counter(False, delay=1)
    start = time.monotonic()
    with pytest.raises(ProbeTimeout):
        Probe(timeout=3, pause=1, count=10, fnc=fnc).run()
    assert 3 < elapsed_since(start) < 4.5
    assert fnc.calls == 2


def test_hung_fnc_times_out_in_foreground(hang: Callable[[], bool]) -> None:
    start = time.monotonic()
    with pytest.raises(ProbeTimeout, match="the last one was still running"):
        Probe(timeout=1, pause=1, fnc=hang).run()
    assert elapsed_since(start) < 3


def test_hung_fnc_times_out_in_background(hang: Callable[[], bool]) -> None:
    probe = Probe(timeout=1, pause=1, fnc=hang)
    start = time.monotonic()
    probe.run_in_background()
    with pytest.raises(ProbeTimeout):
        probe.join()
    assert elapsed_since(start) < 3


def test_wrong_value_times_out_with_a_useful_message() -> None:
    start = time.monotonic()
    with pytest.raises(ProbeTimeout) as caught:
        Probe(timeout=3, pause=0.5, fnc=Counter(False), port=8080).run()
    assert elapsed_since(start) > 2
    message = str(caught.value)
    assert message.startswith("timed out after 3s waiting for Counter(port=8080) to return True (")
    assert "last result: False" in message
    assert isinstance(caught.value, TimeoutError)


def test_no_pause_runs_past_the_deadline() -> None:
    start = time.monotonic()
    with pytest.raises(ProbeTimeout):
        Probe(timeout=0.3, pause=10, fnc=Counter(False)).run()
    assert 0.3 <= elapsed_since(start) < 1


# --- counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 5])
def test_count_allows_exactly_n_calls(count: int) -> None:
    fnc = Counter(False)
    with pytest.raises(CountExceeded, match=f"after {count} tr"):
        Probe(timeout=-1, pause=0.01, count=count, fnc=fnc).run()
    assert fnc.calls == count


def test_count_zero_raises_without_calling() -> None:
    fnc = Counter(ValueError("must not be called"))
    with pytest.raises(CountExceeded, match="no tries allowed"):
        Probe(count=0, fnc=fnc).run()
    assert fnc.calls == 0


def test_no_time_limit_with_minus_one_or_none() -> None:
    for timeout in (-1, None):
        fnc = Counter(False, False, False, True)
        assert Probe(timeout=timeout, pause=0.01, fnc=fnc).run()
        assert fnc.calls == 4


@pytest.mark.parametrize(
    "limits",
    [{"timeout": -2}, {"pause": -0.1}, {"count": -2}],
)
def test_negative_limits_are_rejected(limits: dict[str, float]) -> None:
    with pytest.raises(InvalidArgument):
        Probe(**limits)  # type: ignore[arg-type]


# --- exceptions ---------------------------------------------------------------------------


def test_expected_exception_means_retry() -> None:
    fnc = Counter(ConnectionError(), ConnectionError(), True)
    assert Probe(timeout=5, pause=0.01, expected_exceptions=ConnectionError, fnc=fnc).run()
    assert fnc.calls == 3


def test_expected_exception_means_retry_also_when_false_is_expected() -> None:
    # conu 1.0 took an expected exception for success when expected_retval was False.
    fnc = Counter(KeyError(), KeyError(), False)
    probe = Probe(
        timeout=5, pause=0.01, expected_exceptions=(ValueError, KeyError), expected_retval=False
    )
    probe.fnc = fnc
    assert probe.run()
    assert fnc.calls == 3


def test_expected_exception_is_the_cause_of_the_timeout() -> None:
    fnc = Counter(ValueError("x"))
    with pytest.raises(ProbeTimeout, match="last error: ValueError") as caught:
        Probe(timeout=0.2, pause=0.05, expected_exceptions=ValueError, fnc=fnc).run()
    assert isinstance(caught.value.__cause__, ValueError)


def test_expected_exception_is_the_cause_of_count_exceeded() -> None:
    with pytest.raises(CountExceeded) as caught:
        Probe(count=2, pause=0.01, expected_exceptions=ValueError, fnc=Counter(ValueError())).run()
    assert isinstance(caught.value.__cause__, ValueError)


def test_unexpected_exception_propagates_on_first_try() -> None:
    fnc = Counter(ZeroDivisionError("boom"))
    start = time.monotonic()
    with pytest.raises(ZeroDivisionError, match="boom"):
        Probe(timeout=5, pause=5, expected_exceptions=ValueError, fnc=fnc).run()
    assert fnc.calls == 1
    assert elapsed_since(start) < 0.5


# --- values and side effects --------------------------------------------------------------


def test_expected_retval_is_compared_with_equality() -> None:
    fnc = Counter("running", "running", "exited")
    assert Probe(timeout=5, pause=0.01, expected_retval="exited", fnc=fnc).run()
    assert fnc.calls == 3


def test_kwargs_are_passed_and_side_effects_are_the_callers() -> None:
    seen: list[int] = []

    def record(item: int) -> int:
        seen.append(item)
        return len(seen)

    assert Probe(timeout=5, pause=0.01, expected_retval=3, fnc=record, item=7).run()
    assert seen == [7, 7, 7]


@pytest.mark.parametrize(
    ("fnc", "name"),
    [
        (functools.partial(Counter(False), port=1), "Counter"),
        (Counter(False).__call__, "Counter.__call__"),
        (lambda **_: False, "<lambda>"),
    ],
)
def test_messages_name_the_function(fnc: Callable[..., object], name: str) -> None:
    with pytest.raises(CountExceeded, match=rf"^gave up waiting for {re.escape(name)}\(x=1\) "):
        Probe(count=1, fnc=fnc, x=1).run()


def test_unpicklable_results_work() -> None:
    lock = threading.Lock()
    assert Probe(timeout=5, expected_retval=lock, fnc=lambda: lock).run()


# --- background ---------------------------------------------------------------------------


def test_background_success() -> None:
    probe = Probe(timeout=5, pause=0.05, fnc=Counter(False, False, True))
    assert probe.run_in_background() is None  # type: ignore[func-returns-value]
    assert probe.is_alive()
    assert probe.join() is None  # type: ignore[func-returns-value]
    assert not probe.is_alive()


@pytest.mark.parametrize(
    ("probe", "error"),
    [
        (Probe(timeout=5, fnc=Counter(ValueError())), ValueError),
        (Probe(timeout=0.2, pause=0.05, fnc=Counter(False)), ProbeTimeout),
        (Probe(count=2, pause=0.01, fnc=Counter(False)), CountExceeded),
    ],
)
def test_join_reraises_the_background_error(probe: Probe, error: type[Exception]) -> None:
    probe.run_in_background()
    with pytest.raises(error):
        probe.join()


def test_join_without_a_run_returns() -> None:
    Probe().join()


def test_terminate_stops_a_probe_without_limits() -> None:
    probe = Probe(timeout=-1, pause=0.05, fnc=Counter(False))
    probe.run_in_background()
    time.sleep(0.2)
    start = time.monotonic()
    probe.terminate()
    assert not probe.is_alive()
    probe.join()
    assert elapsed_since(start) < 0.5


def test_terminate_does_not_wait_for_a_hung_fnc(hang: Callable[[], bool]) -> None:
    probe = Probe(timeout=-1, fnc=hang)
    probe.run_in_background()
    start = time.monotonic()
    probe.terminate()
    probe.join()
    assert elapsed_since(start) < 0.5


def test_terminate_forgets_an_earlier_error() -> None:
    probe = Probe(count=0)
    probe.run_in_background()
    probe.terminate()
    probe.join()


def test_several_probes_run_concurrently() -> None:
    fncs = [Counter(False, True, delay=0.5) for _ in range(5)]
    probes = [Probe(timeout=5, pause=0.1, fnc=fnc) for fnc in fncs]
    start = time.monotonic()
    for probe in probes:
        probe.run_in_background()
    for probe in probes:
        probe.join()
    assert elapsed_since(start) < 2
    assert [fnc.calls for fnc in fncs] == [2] * 5


def test_starting_twice_raises_runtime_error() -> None:
    probe = Probe(timeout=-1, pause=0.05, fnc=Counter(False))
    probe.run_in_background()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            probe.run_in_background()
        with pytest.raises(RuntimeError, match="already running"):
            probe.run()
    finally:
        probe.terminate()


def test_a_probe_can_run_again_after_join() -> None:
    fnc = Counter(True)
    probe = Probe(fnc=fnc)
    probe.run_in_background()
    probe.join()
    probe.run_in_background()
    probe.join()
    assert probe.run()
    assert fnc.calls == 3


# --- wait_for -----------------------------------------------------------------------------


def test_wait_for_returns_the_first_accepted_result() -> None:
    results = iter([0, "", "ready", "later"])
    assert wait_for(lambda: next(results), timeout=5, pause=0.01, what="x") == "ready"


def test_wait_for_with_custom_done() -> None:
    results = iter([3, 2, 1, 0, -1])
    result = wait_for(lambda: next(results), timeout=5, pause=0.01, what="x", done=lambda v: v == 0)
    assert result == 0


def test_wait_for_timeout_message_and_cause() -> None:
    def refuse() -> bool:
        raise ConnectionRefusedError("nobody home")

    with pytest.raises(ProbeTimeout) as caught:
        wait_for(refuse, timeout=0.2, pause=0.05, what="port 8080 to open", retry_on=OSError)
    message = str(caught.value)
    assert message.startswith("timed out after 0.2s waiting for port 8080 to open (")
    assert "tries; last error: ConnectionRefusedError('nobody home')" in message
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_wait_for_tries_message() -> None:
    with pytest.raises(CountExceeded) as caught:
        wait_for(lambda: None, timeout=None, pause=0, what="a result", tries=3)
    assert str(caught.value) == "gave up waiting for a result after 3 tries (last result: None)"


def test_wait_for_abandons_a_hung_predicate(hang: Callable[[], bool]) -> None:
    start = time.monotonic()
    with pytest.raises(ProbeTimeout) as caught:
        wait_for(hang, timeout=0.2, what="the hang to end")
    assert elapsed_since(start) < 1
    assert str(caught.value) == (
        "timed out after 0.2s waiting for the hang to end (1 try; the last one was still running)"
    )


def test_wait_for_shortens_long_results_in_messages() -> None:
    with pytest.raises(ProbeTimeout) as caught:
        wait_for(lambda: "x" * 10_000, timeout=0.1, what="y", done=lambda v: False)
    assert len(str(caught.value)) < 300


def test_wait_for_in_the_calling_thread() -> None:
    callers: set[int] = set()

    def note() -> bool:
        callers.add(threading.get_ident())
        return len(callers) > 0

    assert wait_for(note, timeout=1, what="x", in_thread=False)
    assert callers == {threading.get_ident()}


def test_wait_for_predicate_sees_context_variables() -> None:
    name: contextvars.ContextVar[str] = contextvars.ContextVar("name")
    name.set("conu")
    assert wait_for(name.get, timeout=1, what="x") == "conu"


# --- imports ------------------------------------------------------------------------------


def test_compatibility_import_path() -> None:
    # conu/utils/__init__.py belongs to another module's author; it may not exist yet.
    if importlib.util.find_spec("conu.utils") is None:
        pytest.skip("the conu.utils package does not exist yet")
    from conu.utils import probes

    assert probes.Probe is Probe
    assert probes.ProbeTimeout is ProbeTimeout
    assert probes.CountExceeded is CountExceeded


def test_importing_probes_is_cheap() -> None:
    code = (
        "import sys, conu.probes\n"
        "heavy = {'docker', 'requests', 'urllib3', 'attrs', 'stevedore', 'multiprocessing'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
