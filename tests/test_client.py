"""The client: retries by class, Retry-After, error mapping to codes and exit codes."""

from __future__ import annotations

import httpx
import pytest
import respx

from glm_cli.client import GlmClient, RetryPolicy, error_from_response
from glm_cli.errors import APIError, NetworkError
from glm_cli.events import ReplyBuilder
from tests.conftest import FAKE_KEY, USAGE, chunk, sse_body

BASE = "https://glm.test/api/paas/v4"


def err(status, code, message="m", headers=None):
    return httpx.Response(status, json={"error": {"code": code, "message": message}}, headers=headers)


def make_client(sleeps):
    return GlmClient(base_url=BASE, api_key=FAKE_KEY, retry=RetryPolicy(max_retries=3), sleep=sleeps.append)


def run(client, body):
    rb = ReplyBuilder()
    for d in client.chat(body):
        rb.add(d)
    return rb.build()


@respx.mock
def test_stream_sends_key_and_body():
    route = respx.post(f"{BASE}/chat/completions").mock(
        return_value=httpx.Response(
            200,
            content=sse_body(chunk(content="hi"), chunk(content="", finish="stop", usage=USAGE)),
            headers={"content-type": "text/event-stream"},
        )
    )
    reply = run(make_client([]), {"model": "glm-4.7", "messages": [], "stream": True})
    assert reply.content == "hi" and reply.usage.prompt_tokens == 100
    req = route.calls.last.request
    assert req.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert req.headers["accept"] == "text/event-stream"


@respx.mock
def test_non_stream_response():
    respx.post(f"{BASE}/chat/completions").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "x",
                "model": "glm-4.7",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "whole", "reasoning_content": "r"},
                    }
                ],
                "usage": USAGE,
            },
        )
    )
    reply = run(make_client([]), {"model": "glm-4.7", "messages": [], "stream": False})
    assert (reply.content, reply.reasoning, reply.finish_reason, reply.id) == ("whole", "r", "stop", "x")


@respx.mock
@pytest.mark.parametrize("code", ["1302", "1303", "1305"])
def test_rate_limit_retries_then_succeeds(code):
    route = respx.post(f"{BASE}/chat/completions").mock(
        side_effect=[
            err(429, code),
            err(429, code),
            httpx.Response(200, content=sse_body(chunk(content="ok", finish="stop"))),
        ]
    )
    sleeps = []
    assert run(make_client(sleeps), {"stream": True}).content == "ok"
    assert route.call_count == 3 and len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0  # 0.5·2^n minus ≤25 % jitter


@respx.mock
def test_retry_after_header_is_honoured():
    respx.post(f"{BASE}/chat/completions").mock(
        side_effect=[
            err(429, "1302", headers={"Retry-After": "7"}),
            httpx.Response(200, content=sse_body(chunk(content="ok", finish="stop"))),
        ]
    )
    sleeps = []
    run(make_client(sleeps), {"stream": True})
    assert sleeps == [7.0]


@respx.mock
@pytest.mark.parametrize(
    ("status", "code", "exit_code", "words"),
    [
        (429, "1113", 5, "insufficient balance"),
        (401, "1000", 4, "authentication failed"),
        (400, "1301", 7, "content blocked"),
        (400, "1211", 1, "unknown model"),
        (400, "1214", 1, "invalid field value"),
    ],
)
def test_no_retry_codes(status, code, exit_code, words):
    route = respx.post(f"{BASE}/chat/completions").mock(return_value=err(status, code))
    with pytest.raises(APIError) as exc:
        run(make_client([]), {"stream": True})
    assert route.call_count == 1
    assert exc.value.exit_code == exit_code and f"GLM {code}" in exc.value.message and words in exc.value.message


def test_1113_hint_names_coding_endpoint():
    e = error_from_response(429, b'{"error":{"code":"1113","message":"Insufficient balance"}}')
    assert "--endpoint zai-coding" in e.hint and e.exit_code == 5


@respx.mock
def test_gives_up_after_max_retries_with_rate_limit_exit_code():
    route = respx.post(f"{BASE}/chat/completions").mock(return_value=err(429, "1305"))
    with pytest.raises(APIError) as exc:
        run(make_client([]), {"stream": True})
    assert route.call_count == 4 and exc.value.exit_code == 5 and "gave up after 4 attempts" in exc.value.message


@respx.mock
def test_5xx_and_connection_errors_retry():
    route = respx.post(f"{BASE}/chat/completions").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(503, text="busy"),
            httpx.Response(200, content=sse_body(chunk(content="ok", finish="stop"))),
        ]
    )
    assert run(make_client([]), {"stream": True}).content == "ok"
    assert route.call_count == 3


@respx.mock
def test_network_error_exit_code():
    respx.post(f"{BASE}/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(NetworkError) as exc:
        run(make_client([]), {"stream": True})
    assert exc.value.exit_code == 6


def test_spring_404_is_mapped():
    e = error_from_response(404, b'{"timestamp":"t","status":404,"error":"Not Found","path":"/api/x"}')
    assert "HTTP 404" in e.message and "/api/x" in e.message and "base URL" in e.hint


def test_key_never_in_error_messages():
    e = error_from_response(401, f'{{"error":{{"code":"1000","message":"bad {FAKE_KEY}"}}}}'.encode())
    # the server's message is quoted, but our own text never adds the key
    assert "check the API key" in e.hint and FAKE_KEY not in e.hint
