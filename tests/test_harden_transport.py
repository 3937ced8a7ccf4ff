"""Bounds on what comes in (issue 11 items 5, 6, 9, 14), in-process: the SSE decoder and the client.

The installed `glm` against tests/hostile_server.py is in test_harden_transport_e2e.py.
"""

from __future__ import annotations

import gzip
import threading
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.client import ERROR_BODY_BYTES, DeadlineError, GlmClient, RetryPolicy
from glm_cli.config import load_settings
from glm_cli.errors import APIError, ConfigError, GlmError, NetworkError
from glm_cli.events import ReplyBuilder
from glm_cli.sse import MAX_EVENT_BYTES, SSEDecoder, SSEEvent, StreamCutError, iter_sse
from glm_cli.tls import tls_context
from glm_cli.transport import Transport
from tests.conftest import FAKE_KEY, chunk, sse_body
from tests.hostile_server import Hostile, MiB, gzip_pieces, padded

BASE = "https://glm.test/api/paas/v4"
ANSWER = sse_body(chunk(content="Hello "), chunk(content="world", finish="stop"))
WHOLE = b'{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"whole"}}]}'


# ------------------------------------------------------------------------------------------ SSE decoder


def outcome(pieces, max_event: int = MAX_EVENT_BYTES):
    """The events a decoder gives for PIECES, or the message of the protocol error it stops with."""
    dec, events = SSEDecoder(max_event), []
    try:
        for piece in pieces:
            events += dec.feed(piece)
        events += dec.close()
    except APIError as exc:
        return ("error", exc.message)
    return ("events", events)


def test_one_long_line_costs_linear_time():
    # Before: the buffer was searched and copied whole per chunk: this took 21 s with 512-byte chunks (4x more here).
    line = b"data: " + b"a" * (MAX_EVENT_BYTES - 10) + b"\n\n"
    pieces = [line[i : i + 256] for i in range(0, len(line), 256)]
    started = time.monotonic()
    events = list(iter_sse(pieces))
    assert time.monotonic() - started < 20  # a did-not-hang bound: linear takes well under a second
    assert [len(e.data) for e in events] == [MAX_EVENT_BYTES - 10]


def test_a_line_past_the_limit_stops_reading_at_the_limit():
    consumed = 0

    def endless_line():
        nonlocal consumed
        yield b"data: "
        for _ in range(1_000_000):  # 1 GB if it were all read
            consumed += 1
            yield b"a" * 1024

    with pytest.raises(APIError) as exc:
        list(iter_sse(endless_line()))
    assert "stream line longer than 8 MiB" in exc.value.message and exc.value.exit_code == 1
    assert consumed <= MAX_EVENT_BYTES // 1024 + 1


def test_an_event_past_the_limit_is_a_protocol_error():
    lines = [b"data: " + b"x" * 1000 + b"\n"] * 20
    assert outcome(lines, max_event=10_000) == (
        "error",
        "the server sent a stream event longer than 0.00953674 MiB, glm's limit for one event: "
        "this is not a GLM answer stream",
    )
    assert outcome([*lines[:9], b"\n"], max_event=10_000)[0] == "events"


def test_line_ends_comments_and_utf8_are_unchanged():
    raw = b': keep-alive\r\n\r\ndata: {"a":1}\r\n\r\ndata: x\rdata: \xe4\xb8\xad\xff\r\revent: e\ndata: z'
    assert outcome([raw]) == ("events", [SSEEvent('{"a":1}'), SSEEvent("x\n中\ufffd"), SSEEvent("z", event="e")])


SSE_BITS = st.sampled_from(
    [
        b"data:",
        b"data: ",
        b"event:",
        b": c",
        b"\r",
        b"\n",
        b"\r\n",
        b"x",
        b"{}",
        b"\xe4\xb8\xad",
        b"\xff",
        b" ",
        b"[DONE]",
        b"retry: 1",
        b"id:",
    ]
)
STREAMS = st.lists(st.one_of(SSE_BITS, st.binary(max_size=12)), max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(STREAMS, st.lists(st.integers(min_value=0, max_value=500), max_size=12), st.sampled_from([8, 40, 10_000]))
def test_any_bytes_split_anywhere_end_the_same_in_events_or_a_protocol_error(data, cuts, max_event):
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    whole = outcome([data], max_event)
    assert outcome(pieces, max_event) == whole
    assert outcome([data[i : i + 1] for i in range(len(data))], max_event) == whole
    if whole[0] == "events":
        assert all(isinstance(e, SSEEvent) and isinstance(e.data, str) for e in whole[1])


# ----------------------------------------------------------------------------------------------- client


class FakeClock:
    """Time that passes only when the test (or the client's sleep) says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def reply(status: int, *body: bytes | str, **headers: str) -> httpx.Response:
    """A response whose body streams in pieces, as on a real connection (bytes would be read and unpacked at once)."""
    pieces = [b.encode() if isinstance(b, str) else b for b in body]
    return httpx.Response(status, headers={k.replace("_", "-"): v for k, v in headers.items()}, content=iter(pieces))


def client_for(handler, clock: FakeClock | None = None, **kw) -> GlmClient:
    clock = clock or FakeClock()
    return GlmClient(
        base_url=BASE, api_key=FAKE_KEY, transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep, **kw
    )


def answer(client: GlmClient, stream: bool = True):
    rb = ReplyBuilder()
    for d in client.chat({"model": "glm-4.7", "messages": [], "stream": stream}):
        rb.add(d)
    return rb.build()


def test_endless_keepalives_end_at_the_deadline():
    clock, sent = FakeClock(), []

    def keepalives():
        for _ in range(100_000):  # bounded, so that a failing test ends
            clock.now += 2  # one comment every 2 s, for ever
            sent.append(1)
            yield b": keep-alive\n\n"

    def handler(request):
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=keepalives())

    with pytest.raises(DeadlineError) as exc:
        answer(client_for(handler, clock, deadline=60))
    assert exc.value.exit_code == 6 and "timed out: no complete answer within the 60 s deadline" in exc.value.message
    assert "deadline" in exc.value.hint and len(sent) <= 31


def test_a_silent_server_costs_the_deadline_not_the_timeout_times_the_tries():
    clock, read_timeouts = FakeClock(), []

    def handler(request):
        read = request.extensions["timeout"]["read"]
        read_timeouts.append(read)
        clock.now += read  # nothing comes for as long as the client waits
        raise httpx.ReadTimeout("silence", request=request)

    with pytest.raises(DeadlineError) as exc:
        answer(client_for(handler, clock, timeout=300, deadline=600, retry=RetryPolicy(max_retries=3)))
    assert len(read_timeouts) == 2 and read_timeouts[0] == 300 and 299 < read_timeouts[1] < 300
    assert clock.now - 1000 == pytest.approx(600) and "(2 attempts)" in exc.value.message


def test_no_retry_wait_past_the_deadline_and_the_error_keeps_its_class():
    def handler(request):
        return reply(429, '{"error": {"code": "1302", "message": "busy"}}', retry_after="50")

    with pytest.raises(APIError) as exc:
        answer(client_for(handler, deadline=30))
    assert exc.value.exit_code == 5 and exc.value.message.endswith("gave up after 1 attempt within the 30 s deadline")


def test_a_deadline_error_is_never_retried():
    assert not RetryPolicy().retryable(DeadlineError("late")) and RetryPolicy().retryable(NetworkError("reset"))


def glm_transport() -> httpx.BaseTransport:
    return Transport(tls_context())


@pytest.mark.parametrize("base", [httpx.HTTPTransport, glm_transport], ids=["httpx", "glm"])
def test_a_read_blocked_past_the_deadline_is_cut_by_the_watchdog(base):
    # The try starts with 1000 s left (read timeout 300 s); when the headers arrive the clock says 0.3 s are left:
    # the silence that follows must end then, not after the 300 s read timeout. On httpx's own transport
    # (proxied connections) and on glm's (direct ones).
    clock = FakeClock()
    transport = base()
    handle = transport.handle_request

    class Late(httpx.BaseTransport):
        def handle_request(self, request):
            response = handle(request)
            clock.now += 999.7
            return response

        def close(self):
            transport.close()

    errors: list[BaseException] = []
    with Hostile("silent_headers") as srv:
        client = GlmClient(
            base_url=srv.base_url, api_key=FAKE_KEY, transport=Late(), clock=clock, timeout=300, deadline=1000
        )

        def run():
            try:
                answer(client)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                errors.append(exc)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(30)
        assert not worker.is_alive(), "the read was not cut at the deadline"
    assert len(errors) == 1 and isinstance(errors[0], DeadlineError)


def test_gzip_streamed_and_whole_answers_are_unpacked():
    def handler(request):
        assert request.headers["accept-encoding"] == "gzip"
        stream = b'"stream":true' in request.content
        body, ctype = (ANSWER, "text/event-stream") if stream else (WHOLE, "application/json")
        packed = gzip.compress(body) + b"\0\0"  # padding after the gzip data is ignored
        return reply(200, packed[:9], packed[9:], content_type=ctype, content_encoding="gzip")

    client = client_for(handler)
    assert answer(client).content == "Hello world"
    assert answer(client, stream=False).content == "whole"


@pytest.mark.parametrize("stream", [True, False])
def test_a_gzip_bomb_stops_at_the_size_bound_after_little_reading(stream):
    read = []

    def bomb():
        head = b'data: {"choices":[{"delta":{"content":"' if stream else b'{"choices":[{"message":{"content":"'
        for piece in gzip_pieces(padded(head, 1024 * MiB, b'"}}]}'), flush_each=False):
            read.append(len(piece))
            yield piece

    def handler(request):
        ctype = "text/event-stream" if stream else "application/json"
        return httpx.Response(200, headers={"content-type": ctype, "content-encoding": "gzip"}, content=bomb())

    with pytest.raises(APIError) as exc:
        answer(client_for(handler, max_response_bytes=MiB), stream=stream)
    assert "larger than 1 MiB" in exc.value.message and "max_response_mb" in exc.value.hint
    assert sum(read) < 100_000  # 1 GiB was on offer; about 1 MiB of it was unpacked


def test_a_huge_plain_answer_stops_at_the_size_bound():
    pieces = []

    def huge():
        for piece in padded(b'{"choices":[{"message":{"content":"', 200 * MiB, b'"}}]}'):
            pieces.append(piece)
            yield piece

    with pytest.raises(APIError, match="larger than 2 MiB"):
        answer(client_for(lambda r: httpx.Response(200, content=huge()), max_response_bytes=2 * MiB), stream=False)
    assert sum(map(len, pieces)) <= 2 * MiB + 64 * 1024


def test_a_corrupt_gzip_body_is_a_clear_error():
    def handler(request):
        return reply(
            200, b"\x1f\x8b\x08\x00garbage-not-deflate", content_type="application/json", content_encoding="gzip"
        )

    with pytest.raises(APIError, match="the server's gzip-compressed answer is corrupt"):
        answer(client_for(handler), stream=False)


def test_an_encoding_glm_did_not_ask_for_is_refused():
    def handler(request):
        return reply(200, b"\x0b\x02\x80", content_type="text/event-stream", content_encoding="br")

    with pytest.raises(APIError, match="Content-Encoding 'br', which glm did not ask for"):
        answer(client_for(handler))


def test_a_redirect_is_named_and_not_followed_or_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return reply(302, "<html>moved", location="https://login.example/sso?next=/v4")

    with pytest.raises(APIError) as exc:
        answer(client_for(handler))
    assert len(calls) == 1 and exc.value.exit_code == 1
    assert exc.value.message == (
        "HTTP 302: the server redirects to https://login.example/sso?next=/v4; glm does not follow redirects"
    )


@pytest.mark.parametrize("stream", [True, False])
def test_an_html_page_is_named_with_its_start_and_never_the_key(stream):
    page = f"<!DOCTYPE html>\n<html><title>Sign in</title>\x1b[31m you sent Bearer {FAKE_KEY}</html>"

    def handler(request):
        return reply(200, page, content_type="text/html; charset=utf-8")

    with pytest.raises(APIError) as exc:
        answer(client_for(handler), stream=stream)
    wanted = "an event stream" if stream else "JSON"
    assert exc.value.message == (
        f"the server answered HTTP 200 with text/html; charset=utf-8, not {wanted}: "
        '"<!DOCTYPE html> <html><title>Sign in</title> [31m you sent Bearer ***</html>"'
    )
    assert FAKE_KEY not in exc.value.message and exc.value.exit_code == 1


def test_json_where_a_stream_was_asked_for_is_named():
    def handler(request):
        return reply(200, '{"error": "boom"}', content_type="application/json")

    with pytest.raises(APIError, match=r'with application/json, not an event stream: "\{"error": "boom"\}"'):
        answer(client_for(handler))


def test_an_event_stream_with_no_events_says_what_it_held():
    def handler(request):
        return reply(200, "<html>oops</html>", content_type="text/event-stream")

    with pytest.raises(StreamCutError) as exc:
        answer(client_for(handler))
    assert exc.value.message.endswith('(no [DONE]); it held no answer, only: "<html>oops</html>"')


def test_only_the_start_of_a_huge_error_body_is_read():
    pieces = []

    def body():
        yield b'{"error":{"code":"1214","message":"bad"}}'
        for _ in range(10_000):
            pieces.append(1)
            yield b" " * 65536

    with pytest.raises(APIError) as exc:
        answer(client_for(lambda r: httpx.Response(400, content=body())))
    assert len(pieces) <= 1 + ERROR_BODY_BYTES // 65536 and exc.value.code == "1214"  # the first MiB, not 640 MiB


# ----------------------------------------------------------------------------------------------- config


def test_deadline_and_size_bound_come_from_the_config(make_app, env):
    from tests.conftest import write_config

    write_config(env, "deadline: 42\nprofiles:\n  p:\n    max_response_mb: 0.5\n")
    app = make_app()
    client = app.make_client(app.settings(profile="p"))
    assert client.deadline == 42 and client.max_response_bytes == 512 * 1024 and client.clock is app.clock
    defaults = make_app().make_client(load_settings({"XDG_CONFIG_HOME": "/nonexistent", "GLM_API_KEY": "x"}))
    assert defaults.deadline == 600 and defaults.max_response_bytes == 64 * MiB


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("deadline: 0\n", "`deadline` must be more than 0 seconds, got 0"),
        ("max_response_mb: -1\n", "`max_response_mb` must be more than 0 (MiB), got -1"),
        ("deadline: soon\n", "`deadline` must be a number, got 'soon'"),
    ],
)
def test_bad_bounds_are_config_errors(env, text, message):
    from tests.conftest import write_config

    write_config(env, text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
        load_settings(env)
    assert exc.value.exit_code == 3


def test_every_error_here_is_a_glm_error():
    assert issubclass(DeadlineError, NetworkError) and issubclass(NetworkError, GlmError)
