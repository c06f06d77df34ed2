"""The one polling loop under every conu wait: call something until it is done, within bounds.

:func:`wait_for` is the public face; :class:`Poll` is the same loop as an object, so that
:class:`conu.probes.Probe` can cancel it from another thread. Only the standard library is
imported here: waiting must not pull in an engine SDK.

Each try runs, by default, in a fresh daemon thread that the loop waits for with the time left
before the deadline. That keeps every wait bounded even when the predicate hangs (a socket
without a timeout, a stuck engine call). A thread cannot be killed, though: a try still running
at the deadline is abandoned, its eventual result is thrown away, and it keeps its thread until
it returns on its own.
"""

from __future__ import annotations

import contextvars
import reprlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from conu.exceptions import CountExceeded, InvalidArgument, ProbeTimeout

__all__ = ["wait_for"]

T = TypeVar("T")

ExceptionTypes = type[BaseException] | tuple[type[BaseException], ...]

# Results can be large (a log, an inspect dict); a message only needs a glimpse of them.
_glimpse = reprlib.Repr()
_glimpse.maxstring = 80
_glimpse.maxother = 120


def short_repr(value: object) -> str:
    """Return ``repr(value)`` cut down to a length that fits in an error message."""
    return _glimpse.repr(value)


def exception_types(spec: type[BaseException] | Iterable[type[BaseException]]) -> ExceptionTypes:
    """Normalize one exception class or several into what ``except`` and isinstance accept."""
    if isinstance(spec, type):
        return spec
    return tuple(spec)


class PollCancelled(Exception):
    """A :class:`Poll` was cancelled; internal to ``conu.probes``, never reaches a user."""


class _Outcome(Generic[T]):
    """What one try gave: a value, or the exception it raised, once ``finished``."""

    value: T

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.finished = False


def _try_once(predicate: Callable[[], T], outcome: _Outcome[T], wake: threading.Event) -> None:
    """Call ``predicate`` and record how it went, then wake the waiting loop."""
    try:
        outcome.value = predicate()
    except BaseException as exc:
        # Whatever it is, the waiting thread decides: retry it or re-raise it to the caller.
        outcome.error = exc
    finally:
        outcome.finished = True
        wake.set()


class Poll(Generic[T]):
    """One wait: the arguments of :func:`wait_for`, plus :meth:`cancel` for another thread.

    A Poll is run once. All of its sleeping is done on one :class:`threading.Event`, which a
    finished try or :meth:`cancel` sets, so nothing ever spins and a cancel is seen at once.
    """

    def __init__(
        self,
        predicate: Callable[[], T],
        *,
        timeout: float | None,
        pause: float,
        what: str,
        done: Callable[[T], object] = bool,
        retry_on: ExceptionTypes = (),
        tries: int | None = None,
        in_thread: bool = True,
    ) -> None:
        _check_limits(timeout, pause, tries)
        self._predicate = predicate
        self._timeout = timeout
        self._pause = pause
        self._what = what
        self._done = done
        self._retry_on = retry_on
        self._tries_allowed = tries
        self._in_thread = in_thread
        self._wake = threading.Event()
        self._cancelled = False
        self._deadline: float | None = None
        self._tries = 0
        self._last: _Outcome[T] | None = None

    def cancel(self) -> None:
        """Make :meth:`run` raise :class:`PollCancelled` as soon as it waits or starts a try."""
        self._cancelled = True
        self._wake.set()

    def run(self) -> T:
        """Try until done; see :func:`wait_for` for what is returned and raised.

        Raises:
            PollCancelled: :meth:`cancel` was called.
        """
        if self._timeout is not None:
            self._deadline = time.monotonic() + self._timeout
        while True:
            if not self._tries_left():
                raise CountExceeded(self._count_message()) from self._last_error()
            outcome = self._attempt()
            if outcome.error is None and self._done(outcome.value):
                return outcome.value
            if outcome.error is not None and not isinstance(outcome.error, self._retry_on):
                raise outcome.error
            self._last = outcome
            if self._tries_left():
                self._sleep()

    def _tries_left(self) -> bool:
        return self._tries_allowed is None or self._tries < self._tries_allowed

    def _remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _check_cancelled(self) -> None:
        if self._cancelled:
            raise PollCancelled

    def _attempt(self) -> _Outcome[T]:
        self._tries += 1
        outcome: _Outcome[T] = _Outcome()
        self._wake.clear()
        self._check_cancelled()
        if not self._in_thread:
            _try_once(self._predicate, outcome, self._wake)
            return outcome
        # A copied context lets the predicate see the caller's context variables.
        context = contextvars.copy_context()
        worker = threading.Thread(
            target=context.run,
            args=(_try_once, self._predicate, outcome, self._wake),
            name=f"conu-wait-try-{self._tries}",
            daemon=True,
        )
        worker.start()
        self._await(outcome)
        return outcome

    def _await(self, outcome: _Outcome[T]) -> None:
        while not outcome.finished:
            self._check_cancelled()
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                msg = self._timeout_message(abandoned=True)
                raise ProbeTimeout(msg) from self._last_error()
            self._wake.wait(remaining)

    def _sleep(self) -> None:
        """Pause between tries, but never past the deadline."""
        self._wake.clear()
        end = time.monotonic() + self._pause
        while True:
            self._check_cancelled()
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                msg = self._timeout_message(abandoned=False)
                raise ProbeTimeout(msg) from self._last_error()
            left = end - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left if remaining is None else min(left, remaining))

    def _last_error(self) -> BaseException | None:
        return None if self._last is None else self._last.error

    def _last_seen(self) -> str | None:
        if self._last is None:
            return None
        if self._last.error is not None:
            return f"last error: {short_repr(self._last.error)}"
        return f"last result: {short_repr(self._last.value)}"

    def _timeout_message(self, *, abandoned: bool) -> str:
        details = [_plural_tries(self._tries)]
        if abandoned:
            details.append("the last one was still running")
        last = self._last_seen()
        if last is not None:
            details.append(last)
        limit = f"{self._timeout:g}s"
        return f"timed out after {limit} waiting for {self._what} ({'; '.join(details)})"

    def _count_message(self) -> str:
        last = self._last_seen() or "no tries allowed"
        return f"gave up waiting for {self._what} after {_plural_tries(self._tries)} ({last})"


def _plural_tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def _check_limits(timeout: float | None, pause: float, tries: int | None) -> None:
    if timeout is not None and timeout < 0:
        msg = f"timeout must be >= 0 seconds, or None for no limit, not {timeout!r}"
        raise InvalidArgument(msg)
    if pause < 0:
        msg = f"pause must be >= 0 seconds, not {pause!r}"
        raise InvalidArgument(msg)
    if tries is not None and tries < 0:
        msg = f"tries must be >= 0, or None for no limit, not {tries!r}"
        raise InvalidArgument(msg)


def wait_for(
    predicate: Callable[[], T],
    *,
    timeout: float | None,
    what: str,
    pause: float = 0.5,
    done: Callable[[T], object] = bool,
    retry_on: ExceptionTypes = (),
    tries: int | None = None,
    in_thread: bool = True,
) -> T:
    """Call ``predicate`` until ``done`` accepts its result, and return that result.

    Tries are ``pause`` seconds apart; success returns at once, without a trailing pause. No
    pause runs past the deadline, so the wait overruns ``timeout`` by at most the time the
    caller's own code takes, never by a pause.

    Args:
        predicate: called without arguments, once per try (use a lambda or functools.partial
            to bind arguments).
        timeout: the most seconds to wait, counted from the call. ``None`` waits without a
            time limit; it must be passed explicitly, so that no wait is unbounded by accident.
        what: what is awaited, worded to follow "waiting for", e.g.
            ``"container 'web' to be running"``; it goes into the error messages.
        pause: seconds between the end of one try and the start of the next.
        done: tells whether a result is the one awaited; the default accepts any truthy value.
        retry_on: exception classes that mean "not yet": such an exception is remembered and
            the predicate tried again. Any other exception propagates at once.
        tries: the most calls of ``predicate``; ``None`` for no limit. ``0`` gives up at once.
        in_thread: run each try in a fresh daemon thread (the default), so that a try that hangs
            cannot hold the wait past its deadline; the predicate still sees the caller's
            context variables. ``False`` calls it in the calling thread: cheaper, but a hanging
            predicate then delays the timeout until it returns.

    Returns:
        The first result of ``predicate`` that ``done`` accepted.

    Raises:
        ProbeTimeout: ``timeout`` passed first. The message says what was awaited, for how
            long, how many tries were made and the last result or exception; a last exception
            is also the ``__cause__``. A try still running at the deadline is abandoned (its
            thread cannot be killed) and its result is discarded.
        CountExceeded: all ``tries`` were used up first; message and cause as above.
        InvalidArgument: ``timeout``, ``pause`` or ``tries`` is negative.
        BaseException: whatever the predicate raised that is not in ``retry_on``.
    """
    poll = Poll(
        predicate,
        timeout=timeout,
        pause=pause,
        what=what,
        done=done,
        retry_on=retry_on,
        tries=tries,
        in_thread=in_thread,
    )
    return poll.run()
