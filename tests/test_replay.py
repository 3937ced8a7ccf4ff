"""Replays of real recorded GLM-4.7-Flash traffic (tests/recordings, Apache-2.0), whole and split awkwardly."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
import yaml

from glm_cli.client import GlmClient, RetryPolicy
from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.events import ReplyBuilder
from tests.conftest import FAKE_KEY
from tests.conftest import RECORDINGS as RECORDING_DIR

RECORDINGS = sorted(RECORDING_DIR.glob("*.yaml"))
CASES = [(p, i) for p in RECORDINGS for i, _ in enumerate(yaml.safe_load(p.read_text())["interactions"])]
BASE = "https://api.z.ai/api/coding/paas/v4"


def interaction(path: Path, index: int) -> tuple[dict, bytes]:
    it = yaml.safe_load(path.read_text())["interactions"][index]
    return json.loads(it["request"]["body"]), it["response"]["body"].encode()


def expected(body: bytes, stream: bool) -> dict:
    """What the recording says, read independently of the code under test."""
    exp = {"content": "", "reasoning": "", "calls": {}, "finish": None, "usage": None}
    if stream:
        objs = [
            json.loads(line[6:])
            for line in body.decode().splitlines()
            if line.startswith("data: ") and line != "data: [DONE]"
        ]
    else:
        objs = [json.loads(body)]
    for obj in objs:
        for ch in obj.get("choices", []):
            d = ch.get("delta") or ch.get("message") or {}
            exp["content"] += d.get("content") or ""
            exp["reasoning"] += d.get("reasoning_content") or ""
            for n, tc in enumerate(d.get("tool_calls") or []):
                slot = exp["calls"].setdefault(tc.get("index", n), {"id": "", "name": "", "arguments": ""})
                slot["id"] = tc.get("id") or slot["id"]
                slot["name"] = tc["function"].get("name") or slot["name"]
                slot["arguments"] += tc["function"].get("arguments") or ""
            exp["finish"] = ch.get("finish_reason") or exp["finish"]
        if obj.get("usage"):
            exp["usage"] = obj["usage"]
    return exp


def chunks(data: bytes, size: int):
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.parametrize(("path", "index"), CASES, ids=[f"{p.stem}#{i}" for p, i in CASES])
@pytest.mark.parametrize("split", [None, 1, 7, 61])
def test_replay_gives_recorded_reply(path, index, split):
    req, body = interaction(path, index)
    stream = bool(req.get("stream"))
    content = body if split is None else chunks(body, split)
    client = GlmClient(base_url=BASE, api_key=FAKE_KEY, retry=RetryPolicy(max_retries=0))
    with respx.mock:
        respx.post(f"{BASE}/chat/completions").mock(return_value=httpx.Response(200, content=content))
        rb = ReplyBuilder()
        for d in client.chat({"stream": stream}):
            rb.add(d)
    reply, exp = rb.build(), expected(body, stream)
    assert reply.content == exp["content"]
    assert reply.reasoning == exp["reasoning"]
    assert reply.finish_reason == exp["finish"]
    assert [(c.id, c.name, c.arguments) for c in reply.tool_calls] == [
        (c["id"], c["name"], c["arguments"]) for _, c in sorted(exp["calls"].items())
    ]
    u = exp["usage"]
    assert reply.usage.prompt_tokens == u["prompt_tokens"]
    assert reply.usage.completion_tokens == u["completion_tokens"]
    assert reply.usage.cached_tokens == (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    assert reply.usage.reasoning_tokens == (u.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)


def test_recordings_present():
    assert len(RECORDINGS) == 12


@pytest.mark.parametrize(
    "name", ["OpenAICompatibleCommon--simple_streaming", "OpenAICompatibleThinking--thinking-streaming"]
)
def test_replay_through_ask_prints_exact_text(make_app, env, name):
    _, body = interaction(RECORDING_DIR / f"{name}.yaml", 0)
    exp = expected(body, True)
    app = make_app(environ={**env, "GLM_BASE_URL": BASE})
    with respx.mock:
        respx.post(f"{BASE}/chat/completions").mock(return_value=httpx.Response(200, content=chunks(body, 13)))
        run_ask(AskOptions(prompt=("q",), show_thinking=True, format=None), app)
    out = app.ios.stdout.getvalue()
    assert out == (exp["content"] + "\n" if exp["content"] and not exp["content"].endswith("\n") else exp["content"])
    assert exp["reasoning"].strip()[:40] in app.ios.stderr.getvalue() or not exp["reasoning"]
