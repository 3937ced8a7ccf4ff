"""Tests for tests/fake_server.py, using only the stdlib (http.client, urllib, socket) as a client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fake_server import Fault

PREFIX = "/api/paas/v4"
TASK_ID = re.compile(r"\d{14}[0-9a-f]{16}")
_DEFAULT = object()


@dataclass
class Resp:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def request(
    srv, method: str, path: str, body=None, *, key=_DEFAULT, headers=None, prefix=PREFIX, timeout: float = 5
) -> Resp:
    hdrs = {} if key is None else {"Authorization": f"Bearer {srv.api_key if key is _DEFAULT else key}"}
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)
    try:
        conn.request(method, prefix + path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return Resp(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def chat(srv, content: str = "hi", _prefix: str = PREFIX, **extra) -> Resp:
    body = {"model": "glm-4.7", "messages": [{"role": "user", "content": content}], **extra}
    return request(srv, "POST", "/chat/completions", body, prefix=_prefix)


def sse(data: bytes) -> list[str]:
    """Split an SSE body by hand: every event must be exactly one `data: ` line and a blank line."""
    text = data.decode("utf-8")
    assert text.endswith("\n\n"), text[-80:]
    out = []
    for event in text[:-2].split("\n\n"):
        assert event.startswith("data: ") and "\n" not in event, event
        out.append(event[len("data: ") :])
    return out


def chunks(events: list[str]) -> list[dict]:
    return [json.loads(e) for e in events if e != "[DONE]"]


def text(chs: list[dict], key: str) -> str:
    return "".join(c["choices"][0]["delta"].get(key, "") for c in chs if c.get("choices"))


def assert_sorted_keys(obj) -> None:
    if isinstance(obj, dict):
        assert list(obj) == sorted(obj), list(obj)
        for v in obj.values():
            assert_sorted_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            assert_sorted_keys(v)


# --------------------------------------------------------------------------------------------- streams


def test_stream_wire_format(srv):
    srv.reply(content="Hello, 世界!", reasoning="Let me think")
    r = chat(srv, stream=True)
    assert r.status == 200
    assert r.headers["content-type"] == "text/event-stream;charset=UTF-8"
    assert r.headers["connection"] == "close" and "content-length" not in r.headers
    events = sse(r.body)
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    chs = chunks(events)
    *middle, last = chs
    ids = {c["id"] for c in chs}
    assert len(ids) == 1 and TASK_ID.fullmatch(ids.pop())
    for c in middle:
        assert list(c) == ["id", "created", "object", "model", "choices"]
        assert c["object"] == "chat.completion.chunk" and c["model"] == "glm-4.7"
        (choice,) = c["choices"]
        assert list(choice) == ["index", "delta"]  # no finish_reason on intermediate chunks
        delta = choice["delta"]
        assert list(delta)[0] == "role" and delta["role"] == "assistant" and len(delta) == 2
        assert len(delta.get("content", delta.get("reasoning_content"))) <= 4
    kinds = ["reasoning_content" if "reasoning_content" in c["choices"][0]["delta"] else "content" for c in middle]
    assert kinds == sorted(kinds, reverse=True)  # all reasoning, then all content
    assert text(middle, "reasoning_content") == "Let me think" and text(middle, "content") == "Hello, 世界!"
    assert last["choices"] == [{"index": 0, "finish_reason": "stop", "delta": {"role": "assistant", "content": ""}}]
    assert list(last) == ["id", "created", "object", "model", "choices", "usage"]
    u = last["usage"]
    assert list(u) == [
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
    ]
    assert u["prompt_tokens"] == 1 and u["completion_tokens"] == 3 + 4  # len//4+1 of content + reasoning
    assert u["total_tokens"] == 8 and u["completion_tokens_details"] == {"reasoning_tokens": 4}
    assert abs(last["created"] - time.time()) < 5


def test_default_reply_and_thinking_disabled(srv):
    chs = chunks(sse(chat(srv, "what?", stream=True).body))
    assert text(chs, "reasoning_content") == "Thinking about it." and text(chs, "content") == "Echo: what?"
    srv.reply(content="x", reasoning="scripted reasoning is dropped too")
    chs = chunks(sse(chat(srv, "q", stream=True, thinking={"type": "disabled"}).body))
    assert all("reasoning_content" not in c["choices"][0]["delta"] for c in chs)
    assert text(chs, "content") == "x" and chs[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    msg = chat(srv, "q2", thinking={"type": "disabled"}).json()["choices"][0]["message"]
    assert msg == {"content": "Echo: q2", "role": "assistant"}


def test_tokens_mode_and_throughput(srv):
    srv.tokens = 5
    chs = chunks(sse(chat(srv, stream=True, thinking={"type": "disabled"}).body))
    assert [c["choices"][0]["delta"]["content"] for c in chs[:-1]] == ["tok "] * 5
    assert chs[-1]["usage"]["completion_tokens"] == 5
    srv.tokens = 20_000
    t0 = time.perf_counter()
    r = chat(srv, stream=True, thinking={"type": "disabled"})
    elapsed = time.perf_counter() - t0
    assert r.body.count(b"\n\n") == 20_002 and r.body.endswith(b"data: [DONE]\n\n")
    assert elapsed < 1.5, elapsed


def test_delay_and_first_byte_delay(srv):
    srv.reply(content="abcdefgh", reasoning="")
    srv.delay = 0.03
    t0 = time.perf_counter()
    events = sse(chat(srv, stream=True).body)
    assert len(events) == 4 and time.perf_counter() - t0 >= 0.09  # 3 gaps between 4 events
    srv.delay, srv.first_byte_delay = 0.0, 0.2
    t0 = time.perf_counter()
    assert chat(srv).status == 200 and time.perf_counter() - t0 >= 0.2


def test_split_bytes_reassembles_and_really_splits(srv):
    srv.split_bytes, srv.chunk_size = 3, 1
    srv.reply(content="ünïcødé 漢字 🎉 done", reasoning="r")
    chs = chunks(sse(chat(srv, stream=True).body))
    assert text(chs, "content") == "ünïcødé 漢字 🎉 done"
    srv.reply(content="ünï 漢字")
    assert chat(srv).json()["choices"][0]["message"]["content"] == "ünï 漢字"  # non-stream bodies split too

    srv.split_bytes, srv.split_delay, srv.chunk_size = 50, 0.002, 4
    srv.reply(content="x" * 40, reasoning="")
    body = json.dumps({"model": "glm-4.7", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    with socket.create_connection((srv.host, srv.port), timeout=5) as sock:
        sock.sendall(
            (
                f"POST {PREFIX}/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {srv.api_key}"
                f"\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        )
        pieces = []
        while data := sock.recv(65536):
            pieces.append(data)
    raw = b"".join(pieces)
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head
    assert text(chunks(sse(payload)), "content") == "x" * 40
    assert len(pieces) >= 5  # the body arrived in many small reads


def test_chunked_transfer_option(srv):
    srv.chunked = True
    srv.reply(content="chunked ok", reasoning="")
    r = chat(srv, stream=True)  # http.client decodes the chunked framing
    assert r.headers["transfer-encoding"] == "chunked" and "connection" not in r.headers
    assert text(chunks(sse(r.body)), "content") == "chunked ok"


# --------------------------------------------------------------------------------------------- non-stream


def test_non_stream_shape(srv):
    srv.cached_tokens = 7
    srv.reply(content="Olá", reasoning="because")
    r = chat(srv, "hello there", request_id="my-request-0001", temperature=1.0, top_p=0.95, max_tokens=131072)
    assert r.status == 200 and r.headers["content-type"] == "application/json; charset=UTF-8"
    assert int(r.headers["content-length"]) == len(r.body) and "Olá".encode() in r.body  # raw UTF-8
    obj = r.json()
    assert_sorted_keys(obj)
    assert list(obj) == ["choices", "created", "id", "model", "object", "request_id", "usage"]
    assert TASK_ID.fullmatch(obj["id"]) and obj["request_id"] == "my-request-0001"
    assert obj["object"] == "chat.completion" and isinstance(obj["created"], int)
    assert obj["choices"] == [
        {
            "finish_reason": "stop",
            "index": 0,
            "message": {"content": "Olá", "reasoning_content": "because", "role": "assistant"},
        }
    ]
    assert obj["usage"] == {
        "completion_tokens": 3,
        "completion_tokens_details": {"reasoning_tokens": 2},
        "prompt_tokens": 3,
        "prompt_tokens_details": {"cached_tokens": 7},
        "total_tokens": 6,
    }
    again = chat(srv).json()
    assert again["request_id"] == again["id"] != obj["id"]


def test_keep_alive_and_recording(srv):
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    for i in range(3):
        conn.request(
            "POST",
            f"{PREFIX}/chat/completions?trace=1&n={i}",
            body=json.dumps({"model": "glm-4.7", "messages": [{"role": "user", "content": f"m{i}"}]}),
            headers={"Authorization": f"Bearer {srv.api_key}", "X-Custom-Thing": "yes"},
        )
        assert conn.getresponse().read()
    conn.close()
    request(srv, "GET", "/models")
    assert len(srv.requests) == 4
    rec = srv.requests[2]
    assert rec.method == "POST" and rec.path == f"{PREFIX}/chat/completions" and rec.query == {"trace": "1", "n": "2"}
    assert rec.headers["x-custom-thing"] == "yes" and rec.headers["authorization"] == f"Bearer {srv.api_key}"
    assert json.loads(rec.body) == rec.json and rec.json["messages"][0]["content"] == "m2"
    assert [b["messages"][0]["content"] for b in srv.chat_requests()] == ["m0", "m1", "m2"]


def test_usage_override_and_finish_reason(srv):
    srv.reply(content="cut short", finish_reason="length", usage={"completion_tokens": 99})
    obj = chat(srv).json()
    assert obj["choices"][0]["finish_reason"] == "length"
    usage = obj["usage"]
    assert usage["completion_tokens"] == 99 and usage["total_tokens"] == 99 + usage["prompt_tokens"]


# --------------------------------------------------------------------------------------------- errors


def test_auth_errors(srv):
    r = request(srv, "POST", "/chat/completions", {"model": "glm-4.7", "messages": []}, key=None)
    assert r.status == 401 and r.json() == {"error": {"code": "1001", "message": "Authentication header missing"}}
    r = request(srv, "GET", "/models", key="wrong.key")
    assert r.status == 401 and r.json() == {"error": {"code": "1000", "message": "Authentication Failed"}}
    srv.keys.add("second.key")
    assert request(srv, "GET", "/models", key="second.key").status == 200
    assert chat(srv, _prefix="/api/coding/paas/v4").status == 200


def jwt(key: str, exp_ms: int) -> str:
    kid, secret = key.split(".", 1)

    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    signing = (
        b64({"alg": "HS256", "sign_type": "SIGN"})
        + "."
        + b64({"api_key": kid, "exp": exp_ms, "timestamp": exp_ms - 210_000})
    )
    sig = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


def test_legacy_jwt_auth(srv):
    now = int(time.time() * 1000)
    assert request(srv, "GET", "/models", key=jwt(srv.api_key, now + 60_000)).status == 200
    assert request(srv, "GET", "/models", key=jwt(srv.api_key, now - 1)).json()["error"]["code"] == "1003"
    assert (
        request(srv, "GET", "/models", key=jwt("fake-key-id.other-secret", now + 60_000)).json()["error"]["code"]
        == "1002"
    )


@pytest.mark.parametrize(
    "body, code",
    [
        ({"model": "glm-9", "messages": [{"role": "user", "content": "x"}]}, "1211"),
        ({"model": "glm-4.7", "messages": []}, "1214"),
        ({"model": "glm-4.7"}, "1214"),
        ({"model": "glm-4.7", "messages": [{"role": "system", "content": "only system"}]}, "1214"),
        ({"model": "glm-4.7", "messages": [{"role": "wizard", "content": "x"}]}, "1214"),
        ({"model": "glm-4.7", "messages": [{"role": "user", "content": "x"}], "max_tokens": 131073}, "1210"),
        ({"model": "glm-4.5", "messages": [{"role": "user", "content": "x"}], "max_tokens": 100_000}, "1210"),
        ({"model": "glm-4.7", "messages": [{"role": "user", "content": "x"}], "temperature": 1.5}, "1210"),
    ],
)
def test_validation_errors(srv, body, code):
    r = request(srv, "POST", "/chat/completions", body)
    assert r.status == 400 and r.json()["error"]["code"] == code
    assert isinstance(r.json()["error"]["message"], str)
    if code == "1211":
        assert r.json()["error"]["message"] == "Unknown Model, please check the model code."


def test_custom_models_and_request_id_reuse(srv):
    srv.models.add("my-model")
    assert (
        request(
            srv, "POST", "/chat/completions", {"model": "my-model", "messages": [{"role": "user", "content": "x"}]}
        ).status
        == 200
    )
    srv.fault(Fault(status=429, code="1302"))
    assert chat(srv, request_id="rid-000001").status == 429
    assert chat(srv, request_id="rid-000001").status == 200  # a failed attempt does not burn the id
    r = chat(srv, request_id="rid-000001")
    assert r.status == 400 and r.json()["error"]["code"] == "1231"


def test_spring_404_and_405(srv):
    r = request(srv, "GET", "/xyz", key=None)
    obj = r.json()
    assert r.status == 404 and set(obj) == {"timestamp", "status", "error", "path"}
    assert obj["status"] == 404 and obj["error"] == "Not Found" and obj["path"] == "/api/paas/v4/xyz"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", obj["timestamp"])
    assert request(srv, "GET", "/nothing", prefix="").json()["path"] == "/nothing"
    r = request(srv, "GET", "/chat/completions")
    assert r.status == 405 and r.json()["error"] == "Method Not Allowed"


# --------------------------------------------------------------------------------------------- faults


def test_status_faults_fifo_before_replies(srv):
    srv.fault(
        Fault(
            status=429,
            code="1302",
            message="Rate limit reached for requests",
            retry_after=2,
            headers={"x-should-retry": "true"},
        )
    )
    srv.fault(Fault(status=429, code="1113"))
    srv.reply(content="after retry")
    r = chat(srv)
    assert r.status == 429 and r.headers["retry-after"] == "2" and r.headers["x-should-retry"] == "true"
    assert r.json() == {"error": {"code": "1302", "message": "Rate limit reached for requests"}}
    r = chat(srv)
    assert r.status == 429 and r.json()["error"] == {
        "code": "1113",
        "message": "Insufficient balance or no resource package. Please recharge.",
    }
    assert "retry-after" not in r.headers
    assert chat(srv).json()["choices"][0]["message"]["content"] == "after retry"
    assert len(srv.chat_requests()) == 3


def test_cut_fault(srv):
    srv.reply(content="a" * 40, reasoning="")
    srv.fault(Fault(kind="cut", after_events=3))
    events = sse(chat(srv, stream=True).body)
    assert len(events) == 3 and "[DONE]" not in events
    assert text(chunks(events), "content") == "a" * 12
    srv.fault(Fault(kind="cut"))
    with pytest.raises(http.client.IncompleteRead):  # non-stream: half of a Content-Length body
        chat(srv)


def test_finish_fault(srv):
    srv.fault(Fault(kind="finish", finish_reason="network_error"))
    srv.reply(content="partial", reasoning="")
    events = sse(chat(srv, stream=True).body)
    assert events[-1] == "[DONE]" and chunks(events)[-1]["choices"][0]["finish_reason"] == "network_error"
    assert text(chunks(events), "content") == "partial"
    srv.fault(Fault(kind="finish", finish_reason="model_context_window_exceeded"))
    assert chat(srv).json()["choices"][0]["finish_reason"] == "model_context_window_exceeded"


def test_error_frame_fault(srv):
    srv.fault(Fault(kind="error_frame", after_events=2, message="boom"))
    events = sse(chat(srv, stream=True).body)
    assert len(events) == 3 and "[DONE]" not in events
    assert json.loads(events[-1]) == {"error": {"code": "500", "message": "boom"}}
    srv.fault(Fault(kind="error_frame"))
    r = chat(srv)
    assert r.status == 500 and r.json()["error"]["code"] == "500"


def test_drop_and_hang_faults(srv):
    srv.fault(Fault(kind="drop"))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        chat(srv)
    assert chat(srv).status == 200
    srv.fault(Fault(kind="hang", seconds=0.25))
    srv.reply(content="late")
    t0 = time.perf_counter()
    assert chat(srv).json()["choices"][0]["message"]["content"] == "late"
    assert time.perf_counter() - t0 >= 0.25
    srv.fault(Fault(kind="hang", seconds=5))
    with pytest.raises(TimeoutError):
        request(
            srv,
            "POST",
            "/chat/completions",
            {"model": "glm-4.7", "messages": [{"role": "user", "content": "x"}]},
            timeout=0.2,
        )


def test_faults_always_and_fault_rate(srv):
    srv.faults_always(Fault(status=503, code="1305"))
    assert [chat(srv).status for _ in range(3)] == [503] * 3
    srv.faults_always(None)
    assert chat(srv).status == 200

    def pattern() -> list[int]:
        srv.fault_rate(status=429, code="1302", rate=0.3, seed=1)
        return [chat(srv).status for _ in range(60)]

    first = pattern()
    assert first == pattern()  # seeded: the same requests fail
    assert 8 <= first.count(429) <= 30 and set(first) == {200, 429}
    srv.fault_rate(rate=0)
    assert chat(srv).status == 200


def test_invalid_request_does_not_consume_fault(srv):
    srv.fault(Fault(status=429))
    assert request(srv, "POST", "/chat/completions", {"model": "nope", "messages": []}).status == 400
    assert chat(srv).status == 429


# --------------------------------------------------------------------------------------------- tools

WEATHER = {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}


def test_tool_calls_non_stream(srv):
    srv.reply(content="", reasoning="I should call it", tool_calls=[WEATHER])
    obj = chat(srv).json()
    choice = obj["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] == ""
    (tc,) = choice["message"]["tool_calls"]
    assert list(tc) == ["function", "id", "index", "type"] and re.fullmatch(r"call_-\d{19}", tc["id"])
    assert tc["index"] == 0 and tc["type"] == "function"
    assert tc["function"] == {"arguments": '{"city":"Paris","unit":"celsius"}', "name": "get_weather"}


def test_tool_calls_stream_whole(srv):
    second = {"id": "call_fixed", "type": "function", "function": {"name": "add", "arguments": '{"a":2}'}}
    srv.reply(content="Calling.", reasoning="think", tool_calls=[WEATHER, second])
    chs = chunks(sse(chat(srv, stream=True).body))
    tool_chunks = [c for c in chs if "tool_calls" in c["choices"][0]["delta"]]
    assert chs.index(tool_chunks[0]) > max(
        i for i, c in enumerate(chs) if "content" in c["choices"][0]["delta"] and "finish_reason" not in c["choices"][0]
    )
    assert [list(c["choices"][0]["delta"]) for c in tool_chunks] == [["tool_calls"], ["tool_calls"]]  # no role
    first, other = (c["choices"][0]["delta"]["tool_calls"][0] for c in tool_chunks)
    assert re.fullmatch(r"call_[0-9a-f]{24}", first["id"]) and first["index"] == 0
    assert first["function"] == {"name": "get_weather", "arguments": '{"city":"Paris","unit":"celsius"}'}
    assert other == {
        "id": "call_fixed",
        "index": 1,
        "type": "function",
        "function": {"name": "add", "arguments": '{"a":2}'},
    }
    assert chs[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_stream_fragments(srv):
    srv.reply(content="", reasoning="", tool_calls=[WEATHER, {"name": "noop", "arguments": "{}"}])
    chs = chunks(sse(chat(srv, stream=True, tool_stream=True).body))
    frags = [c["choices"][0]["delta"]["tool_calls"][0] for c in chs[:-1]]
    assert all(list(c["choices"][0]["delta"]) == ["tool_calls"] for c in chs[:-1])
    starts = [f for f in frags if "id" in f]
    assert [list(f) for f in starts] == [["index", "id", "type", "function"]] * 2
    assert [f["function"] for f in starts] == [
        {"name": "get_weather", "arguments": ""},
        {"name": "noop", "arguments": ""},
    ]
    rest = [f for f in frags if "id" not in f]
    assert all(set(f) == {"index", "function"} and list(f["function"]) == ["arguments"] for f in rest)
    assert all(len(f["function"]["arguments"]) <= 4 for f in rest)
    args = {i: "".join(f["function"]["arguments"] for f in rest if f["index"] == i) for i in (0, 1)}
    assert json.loads(args[0]) == WEATHER["arguments"] and args[1] == "{}"
    assert chs[-1]["choices"][0]["finish_reason"] == "tool_calls"


# --------------------------------------------------------------------------------------------- models


def test_models_endpoint(srv):
    obj = request(srv, "GET", "/models").json()
    assert obj["object"] == "list"
    ids = [m["id"] for m in obj["data"]]
    assert "glm-4.7" in ids and "glm-4.5-air" in ids and ids == sorted(ids)
    assert all(set(m) == {"id", "object", "created", "owned_by"} and m["object"] == "model" for m in obj["data"])
    srv.models.discard("glm-4.5-air")
    assert "glm-4.5-air" not in [m["id"] for m in request(srv, "GET", "/models").json()["data"]]
    srv.models_delay = 0.2
    with pytest.raises(TimeoutError):
        request(srv, "GET", "/models", timeout=0.05)
    srv.models_endpoint = False
    r = request(srv, "GET", "/models")
    assert r.status == 404 and r.json()["path"] == "/api/paas/v4/models"


# --------------------------------------------------------------------------------------------- files and batches


def upload(srv, content: bytes, filename: str = "requests.jsonl", purpose: str = "batch") -> Resp:
    boundary = "----fakeboundary7MA4YWxkTrZu0gW"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/jsonl\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return request(srv, "POST", "/files", body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def line(cid: str, content: str, model: str = "glm-4.7") -> dict:
    return {
        "custom_id": cid,
        "method": "POST",
        "url": "/v4/chat/completions",
        "body": {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 64},
    }


def jsonl(*objs) -> bytes:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs).encode()


def test_files_and_batch_end_to_end(srv):
    srv.batch_fail_custom_ids = {"r3"}
    content = jsonl(line("r1", "hello ünï"), line("r2", "x", model="glm-nope"), line("r3", "y"))
    f = upload(srv, content)
    assert f.status == 200
    fobj = f.json()
    assert re.fullmatch(r"\d{10}_[0-9a-f]{32}", fobj["id"]) and fobj["object"] == "file"
    assert fobj["bytes"] == len(content) and fobj["filename"] == "requests.jsonl" and fobj["purpose"] == "batch"
    assert request(srv, "GET", f"/files/{fobj['id']}/content").body == content
    assert [o["id"] for o in request(srv, "GET", "/files?purpose=batch").json()["data"]] == [fobj["id"]]

    created = request(
        srv,
        "POST",
        "/batches",
        {
            "input_file_id": fobj["id"],
            "endpoint": "/v4/chat/completions",
            "completion_window": "24h",
            "metadata": {"description": "t"},
        },
    )
    b = created.json()
    assert created.status == 200 and b["status"] == "validating" and re.fullmatch(r"batch_\d{19}", b["id"])
    assert b["request_counts"] == {"completed": 0, "failed": 0, "total": 3} and b["metadata"] == {"description": "t"}
    assert len(str(b["created_at"])) == 13 and b["expires_at"] - b["created_at"] == 86_400_000
    statuses = [request(srv, "GET", f"/batches/{b['id']}").json() for _ in range(4)]
    assert [s["status"] for s in statuses] == ["in_progress", "finalizing", "completed", "completed"]
    done = statuses[-1]
    assert done["request_counts"] == {"completed": 1, "failed": 2, "total": 3}
    assert all(len(str(done[k])) == 13 for k in ("in_progress_at", "finalizing_at", "completed_at"))
    assert request(srv, "GET", f"/files/{fobj['id']}").status == 404  # auto_delete_input_file defaults to true

    out = [json.loads(x) for x in request(srv, "GET", f"/files/{done['output_file_id']}/content").body.splitlines()]
    assert len(out) == 1 and list(out[0]) == ["response", "custom_id", "id"]
    assert out[0]["custom_id"] == "r1" and out[0]["id"] == b["id"] and out[0]["response"]["status_code"] == 200
    answer = out[0]["response"]["body"]
    assert answer["choices"][0]["message"]["content"] == "Echo: hello ünï" and answer["object"] == "chat.completion"
    errs = {
        e["custom_id"]: e["response"]
        for e in map(json.loads, request(srv, "GET", f"/files/{done['error_file_id']}/content").body.splitlines())
    }
    assert errs["r2"]["status_code"] == 400 and errs["r2"]["body"]["error"]["code"] == "1211"
    assert errs["r3"] == {"status_code": 500, "body": {"error": {"code": "500", "message": "Internal server error"}}}
    assert srv.chat_requests() == []  # batch lines are not HTTP requests

    listed = request(srv, "GET", "/batches?limit=1").json()
    assert listed["object"] == "list" and listed["first_id"] == listed["last_id"] == b["id"]
    assert listed["has_more"] is False and listed["data"][0]["status"] == "completed"
    deleted = request(srv, "DELETE", f"/files/{done['output_file_id']}").json()
    assert deleted == {"deleted": True, "id": done["output_file_id"], "object": "file"}


def test_batch_validation_cancel_list_and_limits(srv):
    bad = upload(
        srv,
        b'{"custom_id":"a","method":"POST","url":"/v4/chat/completions","body":{"model":"glm-4.7"}}\n'
        b"{not json\n" + jsonl(line("a", "dup")),
    ).json()
    b = request(
        srv,
        "POST",
        "/batches",
        {"input_file_id": bad["id"], "endpoint": "/v4/chat/completions", "auto_delete_input_file": False},
    ).json()
    failed = request(srv, "GET", f"/batches/{b['id']}").json()
    assert failed["status"] == "failed" and len(str(failed["failed_at"])) == 13
    assert [e["code"] for e in failed["errors"]["data"]] == ["invalid_json_line", "duplicate_custom_id"]
    assert request(srv, "GET", f"/files/{bad['id']}").status == 200  # kept: auto_delete_input_file false

    r = request(srv, "POST", "/batches", {"input_file_id": "nope", "endpoint": "/v4/chat/completions"})
    assert r.status == 400 and r.json()["error"]["code"] == "1214"
    assert request(srv, "GET", "/batches/batch_1").status == 404

    good = upload(srv, jsonl(line("k1", "a"), line("k2", "b"))).json()
    ids = [
        request(
            srv,
            "POST",
            "/batches",
            {"input_file_id": good["id"], "endpoint": "/v4/chat/completions", "auto_delete_input_file": False},
        ).json()["id"]
        for _ in range(3)
    ]
    c = request(srv, "POST", f"/batches/{ids[0]}/cancel").json()
    assert c["status"] == "cancelling" and len(str(c["cancelling_at"])) == 13
    assert request(srv, "GET", f"/batches/{ids[0]}").json()["status"] == "cancelled"
    assert request(srv, "POST", f"/batches/{ids[0]}/cancel").status == 400

    srv.batch_steps_per_status = 2
    assert [request(srv, "GET", f"/batches/{ids[1]}").json()["status"] for _ in range(4)] == [
        "validating",
        "in_progress",
        "in_progress",
        "finalizing",
    ]
    srv.batch_steps_per_status = 0
    assert request(srv, "GET", f"/batches/{ids[2]}").json()["status"] == "completed"

    page = request(srv, "GET", "/batches?limit=2").json()  # newest first
    assert [x["id"] for x in page["data"]] == [ids[2], ids[1]] and page["has_more"] is True
    nxt = request(srv, "GET", f"/batches?limit=2&after={page['last_id']}").json()
    assert [x["id"] for x in nxt["data"]] == [ids[0], b["id"]] and nxt["has_more"] is False

    srv.max_file_bytes = 10
    r = upload(srv, b"x" * 11)
    assert r.status == 435 and "error" in r.json()
    assert upload(srv, b"{}", purpose="nonsense").status == 400


# --------------------------------------------------------------------------------------------- as a program


def test_runs_as_a_program():
    script = Path(__file__).with_name("fake_server.py")
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--tokens", "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/paas/v4", base)
        req = urllib.request.Request(
            base + "/chat/completions",
            data=json.dumps(
                {
                    "model": "glm-4.7",
                    "stream": True,
                    "thinking": {"type": "disabled"},
                    "messages": [{"role": "user", "content": "x"}],
                }
            ).encode(),
            headers={"Authorization": "Bearer fake-key-id.fake-secret-0000", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert text(chunks(sse(resp.read())), "content") == "tok tok tok "
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(base + "/models", timeout=5)
        assert info.value.code == 401
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
