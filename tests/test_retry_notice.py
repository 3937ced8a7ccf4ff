"""Every wait before a retry is said on stderr, once per wait: what failed, for how long, which attempt comes.

No -v needed. On a terminal the spinner counts the wait down instead of saying "waiting…". Batch says a
shared slow-down (a pause the server named, fewer requests in flight) once, not once per line. Time is
injected everywhere: nothing here really waits.
"""

from __future__ import annotations

import io
import threading

import httpx
import pytest

from glm_cli.client import GlmClient, RetryPolicy
from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.errors import GlmError
from glm_cli.iostreams import IOStreams
from tests.conftest import FAKE_KEY, chunk, sse_body, wait_until

RATE_LIMITED = "HTTP 429 GLM 1302: rate limit reached (concurrency)"


class Clock:
    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limited(retry_after: str | None = "60") -> httpx.Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return httpx.Response(429, json={"error": {"code": "1302", "message": "Rate limit reached"}}, headers=headers)


def ok_stream() -> httpx.Response:
    return httpx.Response(200, content=sse_body(chunk(content="answer", finish="stop")))


def scripted(*responses: httpx.Response) -> httpx.MockTransport:
    queue = list(responses)
    return httpx.MockTransport(lambda request: queue.pop(0))


def test_ask_says_each_wait_once_without_verbose(make_app):
    # Before: a 60 s wait on Retry-After printed nothing (only -v said "retrying in …").
    clock = Clock()
    app = make_app(transport=scripted(limited("60"), limited(None), ok_stream()))
    app.clock, app.sleep = clock, clock.sleep
    assert run_ask(AskOptions(prompt=("hi",), no_log=True), app) == 0
    lines = app.ios.stderr.getvalue().splitlines()
    assert app.ios.stdout.getvalue() == "answer\n"
    assert lines[0] == f"glm: {RATE_LIMITED}; retrying in 60 s, as the server asked (attempt 2 of 4)"
    assert lines[1].startswith(f"glm: {RATE_LIMITED}; retrying in ") and lines[1].endswith(" s (attempt 3 of 4)")
    assert len(lines) == 2 and clock.slept[0] == 60  # said once per wait, and waited


def test_whole_answers_and_other_requests_say_their_waits_too(make_app):
    clock = Clock()
    whole = httpx.Response(200, json={"choices": [{"message": {"content": "w"}, "finish_reason": "stop"}]})
    app = make_app(transport=scripted(httpx.Response(503, text="busy"), whole))
    app.clock, app.sleep = clock, clock.sleep
    assert run_ask(AskOptions(prompt=("hi",), no_stream=True, no_log=True), app) == 0
    (line,) = app.ios.stderr.getvalue().splitlines()
    assert line.startswith("glm: HTTP 503: error; retrying in ") and line.endswith(" s (attempt 2 of 4)")

    said: list[str] = []
    client = GlmClient(
        base_url="http://127.0.0.1:9/v4",
        api_key=FAKE_KEY,
        transport=scripted(limited("5"), httpx.Response(200, json={"data": []})),
        clock=clock,
        sleep=clock.sleep,
        notice=lambda wait: said.append(wait.text()),
    )
    assert client.request_json("GET", "/models") == {"data": []}
    assert said == [f"{RATE_LIMITED}; retrying in 5 s, as the server asked (attempt 2 of 4)"]


def test_a_chat_stream_yields_the_wait_before_waiting():
    from glm_cli.events import Waiting

    clock = Clock()
    client = GlmClient(
        base_url="http://127.0.0.1:9/v4",
        api_key=FAKE_KEY,
        transport=scripted(limited("60"), ok_stream()),
        clock=clock,
        sleep=clock.sleep,
        retry=RetryPolicy(max_retries=1),
    )
    events = client.chat({"model": "glm-4.7", "messages": [], "stream": True})
    wait = next(events)
    assert isinstance(wait, Waiting) and clock.slept == []  # announced first, then waited
    assert (wait.seconds, wait.attempt, wait.attempts, wait.rate_limited, wait.asked) == (60, 2, 2, True, True)
    assert [getattr(e, "text", None) for e in events][0] == "answer" and clock.slept == [60]


def test_no_announcement_when_the_wait_would_pass_the_deadline(make_app):
    clock = Clock()
    app = make_app(transport=scripted(limited("60")))
    app.clock, app.sleep = clock, clock.sleep
    client = app.make_client(app.settings())
    client.deadline = 30
    with pytest.raises(GlmError) as exc:
        list(client.chat({"model": "glm-4.7", "messages": [], "stream": True}))
    assert exc.value.message.endswith("gave up after 1 attempt within the 30 s deadline")
    assert app.ios.stderr.getvalue() == "" and clock.slept == []  # no wait: nothing to announce


def test_the_spinner_counts_the_wait_down_on_a_terminal():
    from glm_cli.events import Waiting
    from glm_cli.render import Pace, render_stream
    from glm_cli.response import chunk_to_deltas

    clock = Clock()
    err = io.StringIO()
    ios = IOStreams(stdin=io.StringIO(), stdout=io.StringIO(), stderr=err, stderr_tty=True)
    wait = Waiting(RATE_LIMITED, 60, 2, 4, rate_limited=True, asked=True)
    seen = threading.Event()

    def events():
        wait_until(lambda: "waiting…" in err.getvalue(), "the spinner")
        yield wait
        wait_until(lambda: "rate limited: retrying in 60 s (attempt 2 of 4)…" in err.getvalue(), "the countdown")
        clock.now += 45.5
        wait_until(lambda: "rate limited: retrying in 15 s (attempt 2 of 4)…" in err.getvalue(), "15 s to go")
        clock.now += 15
        wait_until(lambda: "rate limited: trying again (attempt 2 of 4)…" in err.getvalue(), "the new try")
        yield from chunk_to_deltas(chunk(reasoning="hmm"))  # the answer began: the spinner says what it does now
        wait_until(lambda: err.getvalue().rsplit("trying again", 1)[1].count("thinking…"), "thinking after the wait")
        seen.set()
        yield from chunk_to_deltas(chunk("hi", finish="stop"))

    render_stream(events(), ios, show_reasoning=False, pace=Pace(clock=clock, spinner=0.001))
    text = err.getvalue()
    assert seen.is_set() and ios.stdout.getvalue() == "hi\n"
    line = f"glm: {RATE_LIMITED}; retrying in 60 s, as the server asked (attempt 2 of 4)\n"
    assert text.count(line) == 1  # said once, on a line of its own above the spinner
    assert text.split(line)[0].endswith("\r")  # the spinner's line was wiped first
    assert text.endswith("\r")  # and the spinner leaves nothing behind


def test_without_a_terminal_the_renderer_writes_the_line():
    from glm_cli.events import Waiting
    from glm_cli.render import render_stream
    from glm_cli.response import chunk_to_deltas

    ios = IOStreams.for_test()
    events = [Waiting("cannot reach http://127.0.0.1:9/v4: ConnectError: refused", 0.5, 2, 4)]
    render_stream([*events, *chunk_to_deltas(chunk("hi", finish="stop"))], ios, show_reasoning=False)
    assert ios.stderr.getvalue() == (
        "glm: cannot reach http://127.0.0.1:9/v4: ConnectError: refused; retrying in 0.5 s (attempt 2 of 4)\n"
    )
