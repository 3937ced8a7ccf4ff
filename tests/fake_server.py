"""A high-fidelity fake of Zhipu's GLM HTTP API (GLM-4.7 era) for tests and benchmarks.

Split by what it fakes: this module is the server, chat completions, models, tokenizer and embeddings;
tests/fake_batch_api.py the Files and Batch API; tests/fake_wire.py the wire format they share (error
bodies, ids, token counts). tests/hostile_server.py is the other fake: a server that misbehaves on purpose.

Stdlib only: an ``http.server.ThreadingHTTPServer`` on 127.0.0.1 with real sockets and daemon
threads. Wire formats follow Zhipu's documented API (§2-7, §10 of the team's API notes) and the recorded glm-4.7-flash
traffic in tests/recordings (go-vcr cassettes).

In tests::

    from tests.fake_server import FakeGLM, Fault
    with FakeGLM() as srv:            # 127.0.0.1, a free port; stopped on exit
        srv.base_url                  # "http://127.0.0.1:PORT/api/paas/v4" (srv.coding_base_url: /api/coding/paas/v4)
        srv.api_key                   # "fake-key-id.fake-secret-0000"; accepted keys: srv.keys (a mutable set)
        srv.requests                  # list[Recorded]: .method .path .headers (lower-case) .body .json .query .time
        srv.chat_requests()           # the .json bodies of POST .../chat/completions, in arrival order
        srv.reply(content="Hello!", reasoning="Thinking...", tool_calls=None, finish_reason=None, usage=None)
        srv.fault(Fault(...))         # FIFO; faults are consumed before replies
        srv.faults_always(Fault(...)) # every chat request (None to turn off)
        srv.fault_rate(status=429, code="1302", rate=0.3, seed=1)   # a seeded random share of chat requests
        srv.clear()                   # forget requests, queued replies/faults, used request_ids

Knobs (plain attributes, also accepted as FakeGLM(**knobs)):

    chunk_size = 4          characters of content/reasoning/tool arguments per SSE delta
    split_bytes = None      int n: write every chat response body in n-byte pieces (splits UTF-8 and "data:")
    split_delay = 0.0       seconds to pause between those pieces (makes the splits survive TCP coalescing)
    delay = 0.0             seconds between SSE events
    first_byte_delay = 0.0  seconds before a valid chat request's response (after its fault/reply is picked)
    tokens = None           int N: the default reply's content is "tok " * N, one token per delta
    cached_tokens = 0       reported as usage.prompt_tokens_details.cached_tokens
    usage_mode = "always"   "always": usage on the stream's finish chunk, as GLM does; "requested": as OpenAI-style
                            servers do, only with stream_options.include_usage, in a chunk of its own (choices [])
                            after the finish chunk; "never": no usage at all (non-stream answers too)
    reject_stream_options = False  True: a body with stream_options -> HTTP 400, as some OpenAI-compatible servers do
    chunked = False         stream with Transfer-Encoding: chunked instead of Connection: close
    check_request_ids = True  a request_id already used by a successful (200) chat request -> 400 1231
    models = {...}          known model ids (mutable set); models_endpoint = True; models_delay = 0.0
    max_file_bytes = 100 MiB  bigger uploads -> HTTP 435
    batch_steps_per_status = 1  GETs of a batch per status step (0: the first GET jumps to the end)
    batch_fail_custom_ids = set()  batch lines answered with status_code 500
    batch_single_model = False  True: a batch file mixing models fails validation (the documented limit)
    files, batches          dicts of what was uploaded/created: files[id] = {"object": FileObject, "content": bytes}

Default reply (queue empty): content "Echo: " + the last user message's text; reasoning "Thinking about it."
unless body.thinking.type == "disabled" (then no reasoning at all - scripted reasoning is dropped too).
Token counts are rough: count_tokens(text) = len(text) // 4 + 1 (0 for ""). prompt_tokens sums that over
each message's text, reasoning_content and tool-call arguments, plus the JSON of `tools`. completion_tokens
= content + reasoning + tool-call tokens (N exactly in `tokens` mode); reasoning_tokens = reasoning's.

Fault kinds (Fault(kind=..., ...)):
    "status" (default)  HTTP `status` (429) with {"error":{"code","message"}}; code defaults to "1302" and the
                        message to the documented one; Retry-After if retry_after; extra `headers`
    "cut"               stream `after_events` events then close with no [DONE] (non-stream: half the body)
    "finish"            a normal answer that ends with `finish_reason` ("sensitive", "network_error", ...)
    "error_frame"       stream `after_events` events, then data: {"error":{"code":"500",...}} and end (no [DONE]);
                        non-stream: HTTP 500 error JSON
    "drop"              close the connection without any response
    "hang"              sleep `seconds`, then answer normally; with `until_requests=N`, answer as soon as N chat
                        requests have arrived in all (at most `seconds`): holds one answer back deterministically
"cut", "finish", "error_frame" and "hang" take the next queued reply (or the default) for their text.

Endpoints (under /api/paas/v4 and /api/coding/paas/v4): POST chat/completions, GET models, POST/GET files,
GET/DELETE files/{id}, GET files/{id}/content, POST/GET batches, GET batches/{id}, POST batches/{id}/cancel,
POST tokenizer (models in `tokenizer_models`, others 400 1211; text as count_tokens, 256 per image, 1024 per video),
POST embeddings (embedding-3/-2, ≤ 64 inputs of ≤ 3072 tokens; vectors from embedding_of(text, dimensions)).
Anything else: a Spring-style 404 (405 for a known path with the wrong method). All but 404/405 need auth.

From a shell (benchmarks, CI): ``python tests/fake_server.py --port 0 [--tokens N] [--delay S]`` serves in
the foreground and prints the base_url as the first line of stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

if __package__ in (None, ""):  # run as a program (python tests/fake_server.py): make `tests` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.fake_batch_api import BatchApiHandlers, BatchApiState  # noqa: E402
from tests.fake_wire import (  # noqa: E402
    _TOOL_NAME,
    DEFAULT_MAX_TOKENS,
    DONE,
    EMBED_MAX_INPUTS,
    EMBED_MAX_TOKENS,
    EMBEDDING_MODELS,
    ERROR_MESSAGES,
    FAKE_KEY,
    FAULT_KINDS,
    MEDIA_TOKENS,
    MODEL_CREATED,
    MODEL_MAX_TOKENS,
    PREFIXES,
    ROLES,
    SSE_BATCH,
    TOKENIZER_MODELS,
    _b64url_decode,
    _good_part,
    count_tokens,
    dumps,
    embedding_of,
    error_body,
    parse_json,
    split_text,
    spring_body,
    task_id,
    text_of,
    tool_call_id,
)

# ------------------------------------------------------------------------------------------ data types


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    query: dict[str, str]
    time: float = 0.0


@dataclass
class Fault:
    """One injected failure for a chat request; see the module docstring for the kinds."""

    status: int = 429
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    headers: dict[str, str] | None = None
    kind: str = "status"
    after_events: int = 3
    finish_reason: str = "sensitive"
    seconds: float = 5.0
    until_requests: int | None = None
    held: dict | None = None  # set by the server: the body of the request this "hang" held back

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {FAULT_KINDS}")

    def error(self) -> dict:
        default = "500" if self.kind == "error_frame" else "1302"
        return error_body(self.code or default, self.message)

    def response_headers(self) -> dict[str, str]:
        out = dict(self.headers or {})
        if self.retry_after is not None:
            out["Retry-After"] = str(self.retry_after)
        return out


@dataclass
class Reply:
    """A scripted answer (see FakeGLM.reply)."""

    content: str = "Hello!"
    reasoning: str = "Thinking..."
    tool_calls: list | None = None
    finish_reason: str | None = None
    usage: dict | None = None
    web_search: list | None = None


@dataclass
class Answer:
    """A finished completion, rendered as a JSON body or as SSE events."""

    id: str
    created: int
    model: str
    request_id: str
    content: str
    reasoning: str
    tool_calls: list[dict]
    finish_reason: str
    usage: dict | None  # None: the answer reports no usage
    content_pieces: list[str] | None = None  # `tokens` mode: one token per delta
    web_search: list | None = None  # built-in search results: top level (JSON) / on the first chunk (SSE)

    def to_json(self) -> dict:
        message: dict[str, Any] = {"content": self.content}
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        message["role"] = "assistant"
        if self.tool_calls:
            message["tool_calls"] = [
                {"function": tc["function"], "id": tc["id"], "index": i, "type": tc["type"]}
                for i, tc in enumerate(self.tool_calls)
            ]
        out = {
            "choices": [{"finish_reason": self.finish_reason, "index": 0, "message": message}],
            "created": self.created,
            "id": self.id,
            "model": self.model,
            "object": "chat.completion",
            "request_id": self.request_id,
        }
        if self.usage is not None:
            out["usage"] = self.usage
        if self.web_search:
            out["web_search"] = self.web_search
        return out

    def events(self, chunk_size: int, tool_stream: bool, usage_chunk: bool = False) -> Iterator[bytes]:
        """SSE events without the final [DONE]: reasoning, content, tool calls, then the finish chunk.

        The usage rides on the finish chunk, or (USAGE_CHUNK) on a chunk of its own after it; none when it is None.
        """
        head = (
            'data: {"id":'
            + dumps(self.id)
            + ',"created":'
            + str(self.created)
            + ',"object":"chat.completion.chunk","model":'
            + dumps(self.model)
            + ',"choices":[{"index":0,'
        )
        if self.web_search:
            yield (
                head + '"delta":{"role":"assistant","content":""}}],"web_search":' + dumps(self.web_search) + "}\n\n"
            ).encode()
        texts = (
            ("reasoning_content", split_text(self.reasoning, chunk_size)),
            (
                "content",
                self.content_pieces if self.content_pieces is not None else split_text(self.content, chunk_size),
            ),
        )
        for key, pieces in texts:
            prefix = head + '"delta":{"role":"assistant","' + key + '":'
            cache: dict[str, bytes] = {}
            for piece in pieces:
                event = cache.get(piece)
                if event is None:
                    event = (prefix + dumps(piece) + "}}]}\n\n").encode()
                    if len(cache) < 256:
                        cache[piece] = event
                yield event

        def chunk(delta: dict) -> bytes:
            return (head + '"delta":' + dumps(delta) + "}]}\n\n").encode()

        for i, tc in enumerate(self.tool_calls):
            fn = tc["function"]
            if not tool_stream:
                yield chunk(
                    {
                        "tool_calls": [
                            {
                                "id": tc["id"],
                                "index": i,
                                "type": tc["type"],
                                "function": {"name": fn["name"], "arguments": fn["arguments"]},
                            }
                        ]
                    }
                )
                continue
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": tc["id"],
                            "type": tc["type"],
                            "function": {"name": fn["name"], "arguments": ""},
                        }
                    ]
                }
            )
            for piece in split_text(fn["arguments"], chunk_size):
                yield chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
        on_finish = self.usage is not None and not usage_chunk
        yield (
            head
            + '"finish_reason":'
            + dumps(self.finish_reason)
            + ',"delta":{"role":"assistant","content":""}}]'
            + (',"usage":' + dumps(self.usage) if on_finish else "")
            + "}\n\n"
        ).encode()
        if self.usage is not None and usage_chunk:
            head = head[: head.index(',"choices":')]
            yield (head + ',"choices":[],"usage":' + dumps(self.usage) + "}\n\n").encode()


# ------------------------------------------------------------------------------------------ the server


class FakeGLM(BatchApiState):
    """The fake GLM API. Use as a context manager, or call start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **knobs: Any) -> None:
        self.host, self.port = host, port
        self.api_key = FAKE_KEY
        self.keys: set[str] = {FAKE_KEY}
        self.models: set[str] = set(MODEL_MAX_TOKENS)
        self.requests: list[Recorded] = []
        self.chunk_size = 4
        self.split_bytes: int | None = None
        self.split_delay = 0.0
        self.delay = 0.0
        self.first_byte_delay = 0.0
        self.tokens: int | None = None
        self.cached_tokens = 0
        self.usage_mode = "always"
        self.reject_stream_options = False
        self.chunked = False
        self.check_request_ids = True
        self.models_endpoint = True
        self.models_delay = 0.0
        self.max_file_bytes = 100 * 1024 * 1024
        self.batch_steps_per_status = 1
        self.batch_fail_custom_ids: set[str] = set()
        self.batch_single_model = False
        self.tokenizer_models: set[str] = set(TOKENIZER_MODELS)
        self.embed_delay = 0.0
        self.embed_gate: threading.Event | None = None  # set: embeddings answers wait until it is set (or stop)
        self.files: dict[str, dict] = {}
        self.batches: dict[str, dict] = {}
        self.lock = threading.RLock()
        self._replies: deque[Reply] = deque()
        self._faults: deque[Fault] = deque()
        self._always: Fault | None = None
        self._rate: tuple[Fault, float, random.Random] | None = None
        self._used_request_ids: set[str] = set()
        self._batch_state: dict[str, dict] = {}
        self._conns: set[socket.socket] = set()
        self._stop = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        for name, value in knobs.items():
            if name.startswith("_") or not hasattr(self, name):
                raise TypeError(f"FakeGLM has no setting {name!r}")
            setattr(self, name, value)

    # ---- lifecycle

    def start(self) -> FakeGLM:
        self._stop.clear()
        httpd = _Server((self.host, self.port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, name=f"FakeGLM:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()  # wakes handlers sleeping in delays/hangs
        httpd.shutdown()
        with self.lock:
            conns = list(self._conns)
        for conn in conns:  # unblock keep-alive readers and streams in progress
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> FakeGLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{PREFIXES[0]}"

    @property
    def coding_base_url(self) -> str:
        return f"http://{self.host}:{self.port}{PREFIXES[1]}"

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    # ---- scripting

    def reply(
        self,
        content: str = "Hello!",
        reasoning: str = "Thinking...",
        tool_calls: list | None = None,
        finish_reason: str | None = None,
        usage: dict | None = None,
        web_search: list | None = None,
    ) -> None:
        """Queue one answer for the next chat request (FIFO). tool_calls items: {"name", "arguments"}
        (arguments a dict or a JSON string; optional "id") or the full {"id","type","function":{...}} form.
        usage is merged over the computed usage (total_tokens recomputed unless given).
        web_search: result items ({title, link, content, media, refer, ...}) sent as built-in search results."""
        with self.lock:
            self._replies.append(Reply(content, reasoning, tool_calls, finish_reason, usage, web_search))

    def fault(self, fault: Fault) -> None:
        with self.lock:
            self._faults.append(fault)

    def faults_always(self, fault: Fault | None) -> None:
        with self.lock:
            self._always = fault

    def fault_rate(
        self, status: int = 429, code: str = "1302", rate: float = 0.3, seed: int | None = 1, message: str | None = None
    ) -> None:
        """Fail a seeded random share `rate` of chat requests with that status/code (rate 0 turns it off)."""
        with self.lock:
            self._rate = (Fault(status=status, code=code, message=message), rate, random.Random(seed)) if rate else None

    def chat_requests(self) -> list[Any]:
        with self.lock:
            return [r.json for r in self.requests if r.method == "POST" and r.path.endswith("/chat/completions")]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self._replies.clear()
            self._faults.clear()
            self._always = self._rate = None
            self._used_request_ids.clear()

    # ---- internals shared by the handler

    def _record(self, rec: Recorded) -> None:
        with self.lock:
            self.requests.append(rec)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self.lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; True when it is."""
        return self._stop.wait(seconds) if seconds > 0 else self._stop.is_set()

    def _hold_until(self, requests: int, seconds: float) -> bool:
        """Wait until `requests` chat requests have arrived (at most `seconds`); True when stopping."""
        for _ in range(max(1, int(seconds / 0.005))):
            if len(self.chat_requests()) >= requests:
                return False
            if self._stop.wait(0.005):
                return True
        return self._stop.is_set()

    def _next_fault(self) -> Fault | None:
        with self.lock:
            if self._faults:
                return self._faults.popleft()
            if self._always is not None:
                return self._always
            if self._rate is not None:
                fault, rate, rng = self._rate
                if rng.random() < rate:
                    return fault
        return None

    def _next_reply(self) -> Reply | None:
        with self.lock:
            return self._replies.popleft() if self._replies else None

    def _auth_error(self, authorization: str | None) -> tuple[str, str] | None:
        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        elif token.lower() == "bearer":
            token = ""
        if not token:
            return "1001", ERROR_MESSAGES["1001"]
        with self.lock:
            if token in self.keys:
                return None
            keys = list(self.keys)
        if token.count(".") == 2:
            return self._jwt_error(token, keys)
        return "1000", ERROR_MESSAGES["1000"]

    @staticmethod
    def _jwt_error(token: str, keys: list[str]) -> tuple[str, str] | None:
        """The legacy scheme (§1.3): HS256 JWT signed with the key's secret, exp in ms."""
        h64, p64, s64 = token.split(".")
        try:
            header, payload = json.loads(_b64url_decode(h64)), json.loads(_b64url_decode(p64))
            kid, signature = payload["api_key"], _b64url_decode(s64)
        except (ValueError, KeyError, TypeError):
            return "1002", ERROR_MESSAGES["1002"]
        secret = next((k.split(".", 1)[1] for k in keys if "." in k and k.split(".", 1)[0] == kid), None)
        if secret is None:
            return "1000", ERROR_MESSAGES["1000"]
        expected = hmac.new(secret.encode(), f"{h64}.{p64}".encode(), hashlib.sha256).digest()
        if header.get("alg") != "HS256" or not hmac.compare_digest(signature, expected):
            return "1002", ERROR_MESSAGES["1002"]
        exp = payload.get("exp")
        if not isinstance(exp, (int, float)) or exp <= time.time() * 1000:
            return "1003", ERROR_MESSAGES["1003"]
        return None

    # ---- chat completion logic

    def _embeddings(self, body: Any) -> tuple[int, dict]:
        """Answer a POST /embeddings body (also a Batch API `/v4/embeddings` line): (HTTP status, JSON)."""
        if not isinstance(body, dict):
            return 400, error_body("1210", "The request body is not a JSON object.")
        known = EMBEDDING_MODELS.get(body.get("model"))
        if known is None:
            return 400, error_body("1211")
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if (
            not isinstance(texts, list)
            or not 1 <= len(texts) <= EMBED_MAX_INPUTS
            or not all(isinstance(t, str) and t for t in texts)
        ):
            return 400, error_body("1214", "input must be a non-empty string or 1-64 of them.")
        dims = body.get("dimensions", known[1])
        if dims not in known[0]:
            return 400, error_body("1210", f"Invalid API parameter: dimensions must be one of {known[0]}.")
        if any(count_tokens(t) > EMBED_MAX_TOKENS for t in texts):
            return 400, error_body("1210", "Invalid API parameter: input exceeds 3072 tokens.")
        data = [{"embedding": embedding_of(t, dims), "index": i, "object": "embedding"} for i, t in enumerate(texts)]
        tokens = sum(count_tokens(t) for t in texts)
        usage = {"completion_tokens": 0, "prompt_tokens": tokens, "total_tokens": tokens}
        return 200, {"data": data, "model": body["model"], "object": "list", "usage": usage}

    def _validate_chat(self, body: dict) -> tuple[str, str] | None:
        """(code, message) for an HTTP 400, or None when the body is acceptable."""
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return "1213", "The model parameter is required."
        with self.lock:
            known = model in self.models
        if not known:
            return "1211", ERROR_MESSAGES["1211"]
        bad_messages = "1214", ERROR_MESSAGES["1214"]
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return bad_messages
        for m in messages:
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                return bad_messages
            role, content = m["role"], m.get("content")
            if role in ("system", "user") and not isinstance(content, (str, list)):
                return bad_messages
            if isinstance(content, list) and not all(_good_part(p) for p in content):
                return bad_messages
            if role == "assistant" and content is None and not m.get("tool_calls"):
                return bad_messages
            if role == "tool" and not (isinstance(m.get("tool_call_id"), str) and isinstance(content, str)):
                return bad_messages
        if all(m["role"] in ("system", "assistant") for m in messages):
            return bad_messages
        limit = MODEL_MAX_TOKENS.get(model, DEFAULT_MAX_TOKENS)
        checks = (
            ("max_tokens", int, 1, limit),
            ("temperature", (int, float), 0.0, 1.0),
            ("top_p", (int, float), 0.01, 1.0),
        )
        for name, kind, low, high in checks:
            value = body.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high
            ):
                return "1210", f"Invalid API parameter: {name} must be between {low} and {high}."
        thinking = body.get("thinking")
        if thinking is not None and not (
            isinstance(thinking, dict) and thinking.get("type", "enabled") in ("enabled", "disabled")
        ):
            return "1210", "Invalid API parameter: thinking.type must be enabled or disabled."
        tools = body.get("tools")
        if tools is not None:
            if not isinstance(tools, list) or len(tools) > 128:
                return "1214", "The tools parameter is illegal."
            for tool in tools:
                fn = tool.get("function") if isinstance(tool, dict) else None
                if (
                    isinstance(tool, dict)
                    and tool.get("type") == "function"
                    and not (
                        isinstance(fn, dict) and isinstance(fn.get("name"), str) and _TOOL_NAME.fullmatch(fn["name"])
                    )
                ):
                    return "1214", "The tools parameter is illegal: bad function name."
        rid = body.get("request_id")
        if rid is not None and not isinstance(rid, str):
            return "1210", "Invalid API parameter: request_id must be a string."
        return None

    def _answer(self, body: dict, reply: Reply | None, fault: Fault | None = None) -> Answer:
        stream = body.get("stream") is True
        thinking_off = isinstance(body.get("thinking"), dict) and body["thinking"].get("type") == "disabled"
        pieces = None
        if reply is None:
            if self.tokens is not None:
                pieces = ["tok "] * int(self.tokens)
                content = "".join(pieces)
            else:
                users = [m for m in body["messages"] if m.get("role") == "user"]
                content = "Echo: " + (text_of(users[-1].get("content")) if users else "")
            reply = Reply(content=content, reasoning="Thinking about it.")
        reasoning = "" if thinking_off else (reply.reasoning or "")
        tool_calls = [self._tool_call(tc, stream) for tc in reply.tool_calls or []]
        finish = reply.finish_reason or ("tool_calls" if tool_calls else "stop")
        if fault is not None and fault.kind == "finish":
            finish = fault.finish_reason
        prompt = self._prompt_tokens(body)
        reasoning_tokens = count_tokens(reasoning)
        completion = (
            (len(pieces) if pieces is not None else count_tokens(reply.content))
            + reasoning_tokens
            + sum(count_tokens(tc["function"]["name"] + tc["function"]["arguments"]) for tc in tool_calls)
        )
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
        }
        if reply.usage:
            usage.update(reply.usage)
            if "total_tokens" not in reply.usage:
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        now = time.time()
        tid = task_id(now)
        return Answer(
            id=tid,
            created=int(now),
            model=body["model"],
            request_id=body.get("request_id") or tid,
            content=reply.content or "",
            reasoning=reasoning,
            tool_calls=tool_calls,
            finish_reason=finish,
            usage=None if self.usage_mode == "never" else usage,
            content_pieces=pieces,
            web_search=reply.web_search,
        )

    @staticmethod
    def _tool_call(tc: dict, stream: bool) -> dict:
        fn = tc.get("function") if isinstance(tc.get("function"), dict) else tc
        args = fn.get("arguments", {})
        if not isinstance(args, str):
            args = dumps(args)
        return {
            "id": tc.get("id") or tool_call_id(stream),
            "type": tc.get("type", "function"),
            "function": {"name": fn["name"], "arguments": args},
        }

    @staticmethod
    def _prompt_tokens(body: dict) -> int:
        total = 0
        for m in body.get("messages") or []:
            total += count_tokens(text_of(m.get("content"))) + count_tokens(m.get("reasoning_content") or "")
            for tc in m.get("tool_calls") or []:
                fn = tc.get("function") if isinstance(tc, dict) else None
                if isinstance(fn, dict):
                    total += count_tokens(str(fn.get("arguments") or ""))
        if body.get("tools"):
            total += count_tokens(dumps(body["tools"]))
        return total


# ----------------------------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    fake: FakeGLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # client went away: not worth a traceback
            super().handle_error(request, client_address)


class _Abort(Exception):
    """Stop writing this response (the server is stopping)."""


ROUTES = [
    (method, re.compile(pattern), name)
    for method, pattern, name in (
        ("POST", r"/chat/completions", "chat"),
        ("GET", r"/models", "models"),
        ("POST", r"/files", "file_upload"),
        ("GET", r"/files", "file_list"),
        ("GET", r"/files/([^/]+)", "file_get"),
        ("DELETE", r"/files/([^/]+)", "file_delete"),
        ("GET", r"/files/([^/]+)/content", "file_content"),
        ("POST", r"/batches", "batch_create"),
        ("GET", r"/batches", "batch_list"),
        ("GET", r"/batches/([^/]+)", "batch_get"),
        ("POST", r"/batches/([^/]+)/cancel", "batch_cancel"),
        ("POST", r"/tokenizer", "tokenizer"),
        ("POST", r"/embeddings", "embeddings"),
    )
]


class _Handler(BatchApiHandlers, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 120  # idle keep-alive connections are dropped after this

    # ---- plumbing

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, False)

    def version_string(self) -> str:
        return "nginx"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        body = self._read_body()
        rec = Recorded(
            self.command,
            parts.path,
            {k.lower(): v for k, v in self.headers.items()},
            body,
            parse_json(body),
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            time.time(),
        )
        fake._record(rec)
        try:
            name, args = self._route(rec.path)
            if name in ("404", "405"):
                return self._json(int(name), spring_body(int(name), rec.path))
            problem = fake._auth_error(rec.headers.get("authorization"))
            if problem:
                return self._json(401, error_body(*problem))
            getattr(self, "_h_" + name)(rec, *args)
        except (OSError, _Abort):
            self.close_connection = True
        except Exception as exc:  # a bug in the fake: say so loudly, answer 500
            traceback.print_exc()
            try:
                self._json(500, error_body("500", f"fake server bug: {exc!r}"))
            except OSError:
                self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _dispatch

    def _route(self, path: str) -> tuple[str, tuple]:
        rest = None
        for prefix in PREFIXES:
            if path.startswith(prefix + "/"):
                rest = path[len(prefix) :].rstrip("/")
        if rest is None:
            return "404", ()
        if rest == "/models" and not self.server.fake.models_endpoint:
            return "404", ()
        found = "404"
        for method, pattern, name in ROUTES:
            m = pattern.fullmatch(rest)
            if m:
                if method == self.command:
                    return name, m.groups()
                found = "405"
        return found, ()

    def _send(
        self, status: int, data: bytes, content_type: str, headers: dict | None = None, split: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.end_headers()
        if split and self.server.fake.split_bytes:
            self._write_events(iter([data]), chunked=False)
        else:
            self.wfile.write(data)

    def _json(self, status: int, obj: Any, headers: dict | None = None) -> None:
        self._send(status, dumps(obj, sort=True).encode(), "application/json; charset=UTF-8", headers)

    def _write_events(self, events: Iterator[bytes], chunked: bool) -> None:
        """Write SSE events: batched when possible; per event with `delay`; in pieces with `split_bytes`."""
        fake = self.server.fake
        write = self.wfile.write

        def out(data: bytes) -> None:
            write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

        def pause(seconds: float) -> None:
            if fake._sleep(seconds):
                raise _Abort

        size, delay = fake.split_bytes, fake.delay
        if size:
            size, buf = max(1, int(size)), bytearray()
            for i, event in enumerate(events):
                if i and delay:
                    pause(delay)
                buf += event
                while len(buf) >= size or (delay and buf):
                    out(bytes(buf[:size]))
                    del buf[:size]
                    if fake.split_delay:
                        pause(fake.split_delay)
            if buf:
                out(bytes(buf))
        elif delay:
            for i, event in enumerate(events):
                if i:
                    pause(delay)
                out(event)
        else:
            while batch := list(itertools.islice(events, SSE_BATCH)):
                out(b"".join(batch))

    # ---- chat

    def _h_chat(self, rec: Recorded) -> None:
        fake, body = self.server.fake, rec.json
        if not isinstance(body, dict):
            return self._json(400, error_body("1210", "The request body is not a JSON object."))
        problem = fake._validate_chat(body)
        if problem:
            return self._json(400, error_body(*problem))
        if fake.reject_stream_options and "stream_options" in body:  # an OpenAI-style server that knows no such field
            message = "Unrecognized request argument supplied: stream_options"
            return self._json(400, {"error": {"code": None, "message": message, "type": "invalid_request_error"}})
        rid = body.get("request_id")
        if rid and fake.check_request_ids:
            with fake.lock:
                if rid in fake._used_request_ids:
                    return self._json(400, error_body("1231"))
        fault = fake._next_fault()
        kind = fault.kind if fault else None
        reply = fake._next_reply() if kind in (None, "cut", "finish", "error_frame", "hang") else None
        if kind == "hang" and fault.until_requests is not None:
            fault.held = body
            if fake._hold_until(fault.until_requests, fault.seconds):
                raise _Abort
        elif fake._sleep(fake.first_byte_delay + (fault.seconds if kind == "hang" else 0)):
            raise _Abort
        headers = fault.response_headers() if fault else {}
        stream = body.get("stream") is True
        if kind == "status":
            return self._json(fault.status, fault.error(), headers)
        if kind == "drop":
            self.close_connection = True
            return
        if kind == "error_frame" and not stream:
            return self._json(500, fault.error(), headers)
        answer = fake._answer(body, reply, fault)
        if rid:
            with fake.lock:
                fake._used_request_ids.add(rid)
        if stream:
            return self._stream(answer, body, fault, headers)
        data = dumps(answer.to_json(), sort=True).encode()
        if kind == "cut":  # promise the whole body, deliver half, hang up
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self._send(200, data, "application/json; charset=UTF-8", headers, split=True)

    def _stream(self, answer: Answer, body: dict, fault: Fault | None, headers: dict) -> None:
        fake = self.server.fake
        chunked = bool(fake.chunked)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream;charset=UTF-8")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")  # close-delimited body
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.end_headers()
        if fake.usage_mode == "requested" and not (body.get("stream_options") or {}).get("include_usage"):
            answer.usage = None
        events: Iterable[bytes] = answer.events(
            fake.chunk_size, body.get("tool_stream") is True, fake.usage_mode == "requested"
        )
        kind = fault.kind if fault else None
        if kind == "cut":
            events = itertools.islice(events, max(0, fault.after_events))
        elif kind == "error_frame":
            frame = b"data: " + dumps(fault.error()).encode() + b"\n\n"
            events = itertools.chain(itertools.islice(events, max(0, fault.after_events)), [frame])
        else:
            events = itertools.chain(events, [DONE])
        self._write_events(iter(events), chunked)
        if kind == "cut":
            self.close_connection = True
        elif chunked:
            self.wfile.write(b"0\r\n\r\n")

    # ---- tokenizer (§8.1)

    def _h_tokenizer(self, rec: Recorded) -> None:
        fake, body = self.server.fake, rec.json
        if not isinstance(body, dict):
            return self._json(400, error_body("1210", "The request body is not a JSON object."))
        with fake.lock:
            known = body.get("model") in fake.tokenizer_models
        if not known:
            return self._json(400, error_body("1211"))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            return self._json(400, error_body("1214"))
        text = FakeGLM._prompt_tokens({"messages": messages, "tools": body.get("tools")})
        media = {
            kind: sum(
                1
                for m in messages
                if isinstance(m.get("content"), list)
                for p in m["content"]
                if isinstance(p, dict) and p.get("type") == kind
            )
            * tokens
            for kind, tokens in MEDIA_TOKENS.items()
        }
        tid = task_id()
        usage = {
            "prompt_tokens": text,
            "image_tokens": media["image_url"],
            "video_tokens": media["video_url"],
            "total_tokens": text + sum(media.values()),
        }
        self._json(
            200, {"created": int(time.time()), "id": tid, "request_id": body.get("request_id") or tid, "usage": usage}
        )

    # ---- embeddings (§8.4)

    def _h_embeddings(self, rec: Recorded) -> None:
        fake = self.server.fake
        status, answer = fake._embeddings(rec.json)
        if status == 200 and fake._sleep(fake.embed_delay):
            raise _Abort
        gate = fake.embed_gate
        while gate is not None and not gate.wait(0.01):
            if fake._stop.is_set():
                raise _Abort
        self._json(status, answer)

    # ---- models

    def _h_models(self, rec: Recorded) -> None:
        fake = self.server.fake
        if fake._sleep(fake.models_delay):
            raise _Abort
        with fake.lock:
            models = sorted(fake.models)
        data = [
            {"created": MODEL_CREATED.get(m, 1753632000), "id": m, "object": "model", "owned_by": "z-ai"}
            for m in models
        ]
        self._json(200, {"data": data, "object": "list"})


# ----------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Serve a fake GLM API in the foreground; prints the base URL.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tokens", type=int, default=None, help="default reply: N tokens, one per delta")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds between SSE events")
    ap.add_argument("--first-byte-delay", type=float, default=0.0)
    ap.add_argument("--chunk-size", type=int, default=4)
    ap.add_argument("--split-bytes", type=int, default=None)
    ap.add_argument("--cached-tokens", type=int, default=0)
    args = ap.parse_args(argv)
    srv = FakeGLM(
        args.host,
        args.port,
        tokens=args.tokens,
        delay=args.delay,
        chunk_size=args.chunk_size,
        first_byte_delay=args.first_byte_delay,
        split_bytes=args.split_bytes,
        cached_tokens=args.cached_tokens,
    )
    serve_until_stopped(srv)


def serve_until_stopped(srv: FakeGLM) -> None:
    """Start SRV, print its base URL, and serve until SIGTERM or Ctrl-C (benchmarks run it as a process)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv.start()
    try:
        print(srv.base_url, flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
