"""Containment of a user's script: its own thread, a per-call time budget, clean error text.

No `sys.settrace`/`sys.setprofile` (they slow every line and are process-wide). Instead:

* every run executes in its own daemon thread; the server's threads never run user code;
* a watchdog thread per run notes when a call into the script (`init`, `handlebar`) started;
  when one exceeds the budget it marks the run failed ("handlebar exceeded N s"), sets the
  abort flag that every QMT function checks (a script blocked inside our API stops at once),
  and asks CPython to raise `StrategyTimeout` in the worker thread
  (`PyThreadState_SetAsyncExc`, which interrupts pure-Python loops at the next bytecode);
  a worker stuck inside C code is abandoned (it is a daemon) and its outcome ignored;
* an exception from the script becomes the run's error with only the script's own frames.
"""

from __future__ import annotations

import ctypes
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class StrategyError(Exception):
    """A run cannot go on; `str()` is the text the run's `error` shows."""


class StrategyAborted(StrategyError):
    """The run was stopped or failed elsewhere; raised from our API calls inside the script."""


class StrategyTimeout(StrategyAborted):
    """Injected into a worker whose script call ran past the budget."""


def script_error_text(exc: BaseException, script_filename: str) -> str:
    """`Type: message` plus only the frames of the user's script (never server internals)."""
    frames = [
        f'  File "{fs.filename}", line {fs.lineno}, in {fs.name}'
        + (f"\n    {fs.line}" if fs.line else "")
        for fs in traceback.extract_tb(exc.__traceback__)
        if fs.filename == script_filename
    ]
    head = str(exc) if isinstance(exc, StrategyError) else f"{type(exc).__name__}: {exc}"
    if not frames:
        return head
    return "Traceback (strategy frames only):\n" + "\n".join(frames) + "\n" + head


class Guard:
    """Shared by a run's worker, its watchdog, the QMT functions and whoever stops the run."""

    def __init__(self, budget_seconds: float) -> None:
        self.budget = budget_seconds
        self.stop_event = threading.Event()
        self.abort_reason: str | None = None
        self._call_name: str | None = None
        self._call_started = 0.0
        self._lock = threading.Lock()
        self.worker_ident: int | None = None

    def checkpoint(self) -> None:
        """Raise if the run was stopped or timed out (called by every QMT function)."""
        if self.abort_reason is not None:
            raise StrategyAborted(self.abort_reason)

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def call(self, name: str, fn: Callable[..., T], *args: Any) -> T:
        """Run one script entry point under the time budget."""
        self.checkpoint()
        with self._lock:
            self._call_name, self._call_started = name, time.monotonic()
        try:
            return fn(*args)
        finally:
            with self._lock:
                self._call_name = None
        # An async StrategyTimeout landing right here is caught by the worker's handler.

    def overdue(self) -> str | None:
        with self._lock:
            if self._call_name is None:
                return None
            if time.monotonic() - self._call_started <= self.budget:
                return None
            return f"{self._call_name} exceeded {self.budget:g} s / {self._call_name} 超时"

    def abort(self, reason: str) -> bool:
        """Mark the run aborted; True the first time."""
        with self._lock:
            if self.abort_reason is not None:
                return False
            self.abort_reason = reason
        self.stop_event.set()
        return True

    def interrupt_worker(self) -> None:
        ident = self.worker_ident
        if ident is None:
            return
        # CPython's documented C API; a no-op (returns 0) if the thread is already gone.
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(ident), ctypes.py_object(StrategyTimeout)
        )


class Execution:
    """Run `body(guard)` in a daemon thread, watched; report exactly one outcome.

    `on_done(status, error)` is called once: ("finished", None), ("stopped", None),
    ("failed", text). After a timeout the worker is abandoned and its late outcome dropped.
    """

    def __init__(
        self,
        *,
        name: str,
        body: Callable[[Guard], None],
        on_done: Callable[[str, str | None], None],
        script_filename: str,
        budget_seconds: float,
    ) -> None:
        self.guard = Guard(budget_seconds)
        self._body = body
        self._on_done = on_done
        self._script_filename = script_filename
        self._reported = False
        self._report_lock = threading.Lock()
        self.done = threading.Event()
        self._worker = threading.Thread(target=self._work, name=f"strategy-{name}", daemon=True)
        self._watchdog = threading.Thread(target=self._watch, name=f"watchdog-{name}", daemon=True)

    def start(self) -> None:
        self._worker.start()
        self._watchdog.start()

    def stop(self) -> None:
        """Ask the run to end after the current bar (trade mode) or at once (backtest)."""
        self.guard.stop_event.set()

    def finish_now(self, status: str, error: str | None) -> None:
        """Report an outcome from outside (server shutdown); the worker's later one is dropped."""
        self.guard.stop_event.set()
        self._report(status, error)

    def _report(self, status: str, error: str | None) -> None:
        with self._report_lock:
            if self._reported:
                return
            self._reported = True
        try:
            self._on_done(status, error)
        finally:
            self.done.set()

    def _work(self) -> None:
        self.guard.worker_ident = threading.get_ident()
        try:
            self._run_body()
        except StrategyTimeout:
            # Injected late (after the watchdog reported): nothing left to do.
            return

    def _run_body(self) -> None:
        try:
            self._body(self.guard)
        except StrategyAborted:
            # A timeout was already reported by the watchdog (first report wins).
            self._report("stopped", None)
            return
        except BaseException as exc:  # SystemExit from a script's exit() fails the run too
            self._report("failed", script_error_text(exc, self._script_filename))
            return
        self._report("stopped" if self.guard.stopping else "finished", None)

    def _watch(self) -> None:
        tick = min(0.05, self.guard.budget / 10)
        while self._worker.is_alive():
            reason = self.guard.overdue()
            if reason is not None and self.guard.abort(reason):
                self._report("failed", reason)
                self.guard.interrupt_worker()
                return
            self._worker.join(tick)
