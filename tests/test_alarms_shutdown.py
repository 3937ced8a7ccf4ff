"""Cancelling an alarm never waits for the alarm thread's lock.

At interpreter shutdown the daemon alarm thread can be frozen while it holds its lock; a response closed then
(a stream generator finalised at exit) cancels its alarm, and waiting for that lock hung `glm ask` forever
after an error frame mid-stream.
"""

from __future__ import annotations

import threading

from glm_cli.alarms import Alarms


def test_cancel_returns_while_another_thread_holds_the_lock_forever():
    alarms = Alarms()
    alarm = alarms.set(3600, lambda: None)
    held, release = threading.Event(), threading.Event()

    def frozen_holder() -> None:
        with alarms._cond:
            held.set()
            release.wait()

    holder = threading.Thread(target=frozen_holder, daemon=True)
    holder.start()
    held.wait()
    done = threading.Event()
    canceller = threading.Thread(target=lambda: (alarms.cancel(alarm), done.set()), daemon=True)
    canceller.start()
    finished = done.wait(30)  # a bound that only matters when it hangs
    release.set()
    assert finished, "cancel() waited for the lock"
    assert alarms.pending() == 0


def test_an_alarm_cancelled_as_it_falls_due_is_not_called():
    now = [0.0]
    alarms = Alarms(clock=lambda: now[0])
    called: list[int] = []
    first = alarms.set(1, lambda: called.append(1))
    alarms.cancel(first)
    second = alarms.set(2, lambda: called.append(2))
    now[0] = 5.0
    with alarms._cond:
        alarms._cond.notify()
    from tests.conftest import wait_until

    wait_until(lambda: alarms.pending() == 0, what="the second alarm went off")
    wait_until(lambda: called == [2], what="only the live alarm was called")
    assert second not in alarms._due
