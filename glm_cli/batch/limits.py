"""Rate limits shared by every batch worker: token buckets and adaptive concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

WAIT_SLICE = 0.1  # seconds; waits are sliced so a stop request is noticed quickly


class TokenBucket:
    """Allow `per_minute` units a minute with bursts of `capacity`; the balance may go negative."""

    def __init__(
        self, per_minute: float, *, capacity: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute <= 0:
            raise ValueError("a rate must be positive")
        self.rate = per_minute / 60.0
        # Six seconds' worth of burst smooths the start without letting a minute's quota out at once.
        self.capacity = capacity if capacity is not None else max(1.0, per_minute / 10.0)
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()
        self.lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def acquire(self, amount: float, stop: threading.Event) -> bool:
        """Take `amount` (waiting for it); return False if `stop` was set while waiting."""
        need = min(amount, self.capacity)
        while True:
            with self.lock:
                self._refill()
                if self.tokens >= need:
                    self.tokens -= amount
                    return True
                wait = (need - self.tokens) / self.rate
            if stop.wait(min(wait, WAIT_SLICE)):
                return False

    def adjust(self, amount: float) -> None:
        """Charge (or refund, when negative) the difference between an estimate and the real cost."""
        with self.lock:
            self._refill()
            self.tokens = min(self.capacity, self.tokens - amount)


class AdaptiveLimiter:
    """Bound requests in flight; halve the bound on throttling, win it back one step at a time."""

    def __init__(self, maximum: int, *, cooldown: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.in_flight = 0
        self.streak = 0
        self.cooldown = cooldown
        self.clock = clock
        self.last_cut = float("-inf")
        self.pause_until = 0.0
        self.cond = threading.Condition()

    def acquire(self, stop: threading.Event) -> bool:
        """Wait for a free slot (and for any shared pause to end); False if `stop` was set."""
        with self.cond:
            while True:
                if stop.is_set():
                    return False
                pause = self.pause_until - self.clock()
                if self.in_flight < self.limit and pause <= 0:
                    self.in_flight += 1
                    return True
                self.cond.wait(min(max(pause, 0.0) or WAIT_SLICE, WAIT_SLICE))

    def release(self) -> None:
        """Give a slot back."""
        with self.cond:
            self.in_flight -= 1
            self.cond.notify()

    def on_success(self) -> None:
        """Count a success; after `limit` of them in a row, allow one more request in flight."""
        with self.cond:
            self.streak += 1
            if self.streak >= self.limit and self.limit < self.maximum:
                self.limit += 1
                self.streak = 0
                self.cond.notify()

    def on_throttle(self, pause: float) -> tuple[bool, bool]:
        """The server said slow down: halve the bound (once per cooldown) and pause everyone.

        Return (a new pause began, the bound was cut): what is worth saying once, not once per request.
        """
        with self.cond:
            now = self.clock()
            self.streak = 0
            cut = False
            if now - self.last_cut >= self.cooldown:
                cut = self.limit > 1
                self.limit = max(1, self.limit // 2)
                self.last_cut = now
            began = pause > 0 and self.pause_until <= now
            self.pause_until = max(self.pause_until, now + pause)
            return began, cut

    def wake(self) -> None:
        """Wake every waiter (used when the run is stopping)."""
        with self.cond:
            self.cond.notify_all()
