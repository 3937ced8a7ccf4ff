"""One thread for every request's deadline: at its time, an alarm calls its function (shut a socket).

A thread per request (threading.Timer) cost a fifth of a busy batch's CPU just to start; this one thread
sleeps until the earliest alarm. Memory follows the alarms set and not yet cancelled, not the run's length.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Alarms:
    """Call functions at their times (time.monotonic()), from one daemon thread started on first use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._due: dict[int, tuple[float, Callable[[], None]]] = {}  # alarm id -> (when, what): the live alarms
        self._heap: list[tuple[float, int]] = []  # (when, alarm id); a cancelled one is skipped, then dropped
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._wakes = float("inf")  # when the thread wakes next (a cancelled alarm's time is fine: never later)

    def set(self, seconds: float, action: Callable[[], None]) -> int:
        """Call ACTION in SECONDS (at the earliest); return the alarm's id, for cancel()."""
        now = self.clock()
        when = now + max(0.0, seconds)
        with self._cond:
            alarm = next(self._ids)
            self._due[alarm] = (when, action)
            while self._heap and self._heap[0][1] not in self._due:  # cancelled ones first out
                heapq.heappop(self._heap)
            heapq.heappush(self._heap, (when, alarm))
            if len(self._heap) > 2 * len(self._due) + 64:  # mostly cancelled ones: keep only the live
                self._heap = [(w, a) for a, (w, _) in self._due.items()]
                heapq.heapify(self._heap)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="glm-deadlines", daemon=True)
                self._thread.start()
            elif when < self._wakes or self._wakes <= now:
                self._cond.notify()  # the thread sleeps past this alarm (or its clock moved on without it)
        return alarm

    def cancel(self, alarm: int) -> None:
        """Forget the alarm (no-op if it already went off).

        Takes no lock (one dict.pop is atomic): a response closed while the interpreter shuts down may be
        cancelled after the daemon thread was frozen holding the lock, and waiting for it would never end.
        """
        self._due.pop(alarm, None)

    def pending(self) -> int:
        """How many alarms are set and not yet gone off or cancelled."""
        with self._cond:
            return len(self._due)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][1] not in self._due:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._wakes = float("inf")
                        self._cond.wait()
                        continue
                    self._wakes, alarm = self._heap[0]
                    wait = self._wakes - self.clock()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        entry = self._due.pop(alarm, None)  # None: cancelled just now (cancel takes no lock)
                        if entry is None:
                            continue
                        action = entry[1]
                        break
                    self._cond.wait(wait)
            try:
                action()
            except Exception:  # noqa: BLE001 - an alarm's failure must not stop the others
                pass


_shared: Alarms | None = None
_shared_lock = threading.Lock()


def alarms() -> Alarms:
    """The process's one Alarms."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Alarms()
        return _shared
