"""``Probe``: conu 1.0's retry-a-function object, run in the caller's process.

conu 1.0 forked a process per try; this one runs each try in a daemon thread of the caller's
process (see :mod:`conu.probes.wait`), so results need not pickle and side effects stay
visible. The price is that a hung ``fnc`` cannot be killed: at the deadline it is abandoned.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any

from conu.probes.wait import Poll, PollCancelled, exception_types, short_repr

__all__ = ["Probe"]

# conu 1.0 spelled "no limit" as -1 for both timeout and count.
_NO_LIMIT = -1


class Probe:
    """Call ``fnc(**kwargs)`` until it returns ``expected_retval``, within a time and try limit.

    Args:
        timeout: the most seconds to wait; ``-1`` (or ``None``) for no limit.
        pause: seconds between the end of one try and the start of the next.
        count: the most calls of ``fnc``; ``-1`` for no limit, ``0`` gives up at once.
        expected_exceptions: exception classes (one, or a tuple) that mean "not yet": such an
            exception leads to another try, whatever ``expected_retval`` is. Any other
            exception stops the probe and reaches the caller.
        expected_retval: success is a result equal (``==``) to this.
        fnc: the function to call, with keyword arguments only.
        **kwargs: passed to ``fnc`` on every call.

    Raises:
        InvalidArgument: a limit is negative (other than ``-1``).
    """

    def __init__(
        self,
        timeout: float | None = 1,
        pause: float = 1,
        count: int = _NO_LIMIT,
        expected_exceptions: type[BaseException] | Iterable[type[BaseException]] = (),
        expected_retval: Any = True,
        fnc: Callable[..., Any] = bool,
        **kwargs: Any,
    ) -> None:
        if not callable(fnc):
            msg = f"fnc must be callable, not {type(fnc).__name__}: {fnc!r}"
            raise TypeError(msg)
        self.timeout = timeout
        self.pause = pause
        self.count = count
        self.expected_exceptions = expected_exceptions
        self.expected_retval = expected_retval
        self.fnc = fnc
        self.kwargs = kwargs
        self._lock = threading.Lock()
        self._poll: Poll[Any] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._make_poll()  # to reject bad limits now rather than at the first run

    def __repr__(self) -> str:
        return f"<Probe waiting for {self._describe()}, timeout={self.timeout!r}>"

    def run(self) -> bool:
        """Probe in the calling thread until success.

        Returns:
            True, as soon as ``fnc`` returned ``expected_retval`` (no pause follows).

        Raises:
            ProbeTimeout: the time ran out; a try still running then is abandoned.
            CountExceeded: ``count`` tries were made without success.
            RuntimeError: this probe is running in the background.
            Exception: what ``fnc`` raised, if not one of ``expected_exceptions``.
        """
        if self.is_alive():
            raise RuntimeError(self._busy_message())
        self._make_poll().run()
        return True

    def run_in_background(self) -> None:
        """Start probing in a daemon thread; :meth:`join` waits for it and reports the outcome.

        Raises:
            RuntimeError: this probe is already running in the background.
        """
        with self._lock:
            if self.is_alive():
                raise RuntimeError(self._busy_message())
            poll = self._make_poll()
            self._poll = poll
            self._error = None
            self._thread = threading.Thread(
                target=self._run_background,
                args=(poll,),
                name=f"conu-probe-{_function_name(self.fnc)}",
                daemon=True,
            )
            self._thread.start()

    def join(self) -> None:
        """Wait until the background run ends; nothing happens if none was started.

        Raises:
            ProbeTimeout: the background run ran out of time.
            CountExceeded: the background run used up its tries.
            Exception: what ``fnc`` raised in the background run, if not expected.
        """
        thread = self._thread
        if thread is not None:
            thread.join()
        if self._error is not None:
            raise self._error

    def is_alive(self) -> bool:
        """Return True while a background run is going on."""
        return self._thread is not None and self._thread.is_alive()

    def terminate(self) -> None:
        """Stop the background run, if any, and forget its outcome: a later :meth:`join` is quiet.

        It returns once the background thread has stopped waiting. A try of ``fnc`` running at
        that moment cannot be killed; it is abandoned and its result discarded.
        """
        with self._lock:
            poll, thread = self._poll, self._thread
            if poll is not None:
                poll.cancel()
            if thread is not None:
                thread.join()
            self._error = None

    def _run_background(self, poll: Poll[Any]) -> None:
        try:
            poll.run()
        except PollCancelled:
            pass
        except BaseException as exc:
            # Kept for join(), which re-raises it in the thread that asks.
            self._error = exc

    def _make_poll(self) -> Poll[Any]:
        return Poll(
            self._call,
            timeout=None if self.timeout in (None, _NO_LIMIT) else self.timeout,
            pause=self.pause,
            what=self._describe(),
            done=self._matches,
            retry_on=exception_types(self.expected_exceptions),
            tries=None if self.count == _NO_LIMIT else self.count,
        )

    def _call(self) -> Any:
        return self.fnc(**self.kwargs)

    def _matches(self, result: Any) -> bool:
        return bool(result == self.expected_retval)

    def _describe(self) -> str:
        arguments = ", ".join(f"{key}={short_repr(value)}" for key, value in self.kwargs.items())
        call = f"{_function_name(self.fnc)}({arguments})"
        return f"{call} to return {short_repr(self.expected_retval)}"

    def _busy_message(self) -> str:
        return (
            f"probe of {self._describe()} is already running in the background;"
            " join() or terminate() it first"
        )


def _function_name(fnc: Callable[..., Any]) -> str:
    """Name ``fnc`` for messages: ``Class.method`` or ``function``, without ``<locals>`` noise."""
    while isinstance(fnc, functools.partial):
        fnc = fnc.func
    name = getattr(fnc, "__qualname__", None)
    if not isinstance(name, str):
        # A callable object: its class names it better than a repr with an address.
        name = type(fnc).__qualname__
    return name.rpartition(".<locals>.")[2]
