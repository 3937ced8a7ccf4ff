"""The one deadline thread: alarms go off in order, cancelled ones never, and memory follows the live ones."""

from __future__ import annotations

import threading

from glm_cli.alarms import Alarms, alarms
from glm_cli.client import GlmClient
from tests.conftest import FAKE_KEY
from tests.fake_server import FakeGLM

BOUND = 30.0  # only reached when the test is failing


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_alarm_goes_off() -> None:
    rang = threading.Event()
    Alarms().set(0.0, rang.set)
    assert rang.wait(BOUND)


def test_a_cancelled_alarm_never_goes_off_and_the_others_keep_their_order() -> None:
    clock, fired = Clock(), []
    done = threading.Event()
    a = Alarms(clock)
    first = a.set(100.0, lambda: fired.append("cancelled"))
    a.set(150.0, lambda: fired.append("kept"))
    a.cancel(first)
    clock.now = 200.0
    a.set(0.0, lambda: (fired.append("last"), done.set()))
    assert done.wait(BOUND)
    assert fired == ["kept", "last"] and a.pending() == 0


def test_a_failing_alarm_does_not_stop_the_others() -> None:
    rang = threading.Event()
    a = Alarms()
    a.set(0.0, lambda: 1 / 0)  # type: ignore[func-returns-value]
    a.set(0.0, rang.set)
    assert rang.wait(BOUND)


def test_memory_follows_the_live_alarms_not_how_many_were_set() -> None:
    a = Alarms(Clock())
    live = a.set(1000.0, lambda: None)
    for _ in range(10_000):  # a long batch: every request sets its deadline and cancels it
        a.cancel(a.set(600.0, lambda: None))
    assert a.pending() == 1 and len(a._heap) <= 2 * 1 + 64 + 1
    a.cancel(live)


def test_every_request_shares_one_deadline_thread() -> None:
    before = set(threading.enumerate())
    with FakeGLM() as srv:
        client = GlmClient(base_url=srv.base_url, api_key=FAKE_KEY)
        try:
            for _ in range(20):
                body = {"model": "glm-4.7", "messages": [{"role": "user", "content": "hi"}], "stream": True}
                assert list(client.chat(body))
        finally:
            client.close()
    started = [t.name for t in set(threading.enumerate()) - before if t.name == "glm-deadlines"]
    assert len(started) <= 1 and [t.name for t in threading.enumerate()].count("glm-deadlines") >= 1
    assert alarms().pending() == 0  # each answer's alarm was cancelled when it ended
