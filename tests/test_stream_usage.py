"""Streaming usage: glm asks for it (stream_options.include_usage), and says "unknown" when a server sends none.

A zero that is not true is never printed, recorded or priced: `-u`, `--json`, chat's lines and /usage, batch
records and summaries, and the history store all keep an unknown usage unknown.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from glm_cli.client import GlmClient
from glm_cli.events import Reply, ReplyBuilder, Usage
from tests.conftest import FAKE_KEY, USAGE, chunk, glm_env, sse_body
from tests.conftest import run_glm as run
from tests.fake_server import FakeGLM

INCLUDE_USAGE = {"include_usage": True}
USAGE_UNKNOWN = "in ? · out ? (the server reported no usage)"


def run_glm(srv: FakeGLM, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(list(args), glm_env(srv, tmp_path))


def test_a_stream_asks_for_usage_and_an_openai_style_server_reports_it(tmp_path):
    # Before: no stream_options was sent, such a server sent no usage, and -u printed "in 0 · out 0".
    with FakeGLM(usage_mode="requested") as srv:
        out = run_glm(srv, tmp_path, "ask", "-u", "--json", "hi")
        (sent,) = srv.chat_requests()
    assert out.returncode == 0, out.stderr
    assert sent["stream"] is True and sent["stream_options"] == INCLUDE_USAGE
    record = json.loads(out.stdout)
    # the usage comes on a chunk of its own after the finish chunk: the finish_reason is kept
    assert record["finish_reason"] == "stop" and record["usage"]["prompt_tokens"] > 0
    usage = record["usage"]
    assert out.stderr.startswith(f"in {usage['prompt_tokens']} · out {usage['completion_tokens']} ")


def test_no_usage_in_a_stream_is_unknown_never_zero(tmp_path):
    with FakeGLM(usage_mode="never") as srv:
        text = run_glm(srv, tmp_path, "ask", "-u", "hi")
        as_json = run_glm(srv, tmp_path, "ask", "--json", "hi")
        shown = run_glm(srv, tmp_path, "history", "show", "--json", "1")
    assert (text.returncode, text.stdout) == (0, "Echo: hi\n"), text.stderr
    assert text.stderr == USAGE_UNKNOWN + "\n"  # before: "in 0 · out 0 · free"
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["usage"] is None
    answer = json.loads(shown.stdout)["messages"][-1]
    assert answer["role"] == "assistant" and answer["usage"] is None  # stored as unknown (NULL), not as 0


def test_no_usage_without_streaming_is_unknown_too(tmp_path):
    with FakeGLM(usage_mode="never") as srv:
        out = run_glm(srv, tmp_path, "ask", "--no-stream", "-u", "hi")
        (sent,) = srv.chat_requests()
    assert out.returncode == 0 and out.stderr == USAGE_UNKNOWN + "\n"
    assert "stream_options" not in sent  # only a stream takes it


def test_a_server_that_refuses_stream_options_is_asked_again_without_them(tmp_path):
    with FakeGLM(reject_stream_options=True) as srv:
        out = run_glm(srv, tmp_path, "ask", "hi")
        first, second = srv.chat_requests()
    assert (out.returncode, out.stdout) == (0, "Echo: hi\n"), out.stderr
    assert first["stream_options"] == INCLUDE_USAGE and "stream_options" not in second


def test_the_refusal_is_remembered_for_the_next_request():
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(body)
        if "stream_options" in body:
            return httpx.Response(400, json={"error": {"message": "Unrecognized request argument: stream_options"}})
        return httpx.Response(200, content=sse_body(chunk(content="ok", finish="stop")))

    client = GlmClient(base_url="http://127.0.0.1:9/v4", api_key=FAKE_KEY, transport=httpx.MockTransport(handler))
    body = {"model": "glm-4.7", "messages": [], "stream": True, "stream_options": INCLUDE_USAGE}
    for _ in range(2):
        assert [d for d in client.chat(body) if getattr(d, "text", None)][0].text == "ok"
    assert ["stream_options" in b for b in sent] == [True, False, False]


def test_another_400_is_not_taken_for_a_stream_options_refusal():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"error": {"code": "1214", "message": "messages is illegal"}})

    client = GlmClient(base_url="http://127.0.0.1:9/v4", api_key=FAKE_KEY, transport=httpx.MockTransport(handler))
    with pytest.raises(Exception, match="GLM 1214"):
        list(client.chat({"model": "glm-4.7", "messages": [], "stream": True, "stream_options": INCLUDE_USAGE}))
    assert len(calls) == 1


def test_a_usage_chunk_after_the_finish_chunk_keeps_the_finish_reason():
    from glm_cli.response import chunk_to_deltas

    builder = ReplyBuilder()
    usage_only = {"id": "x", "model": "glm-4.7", "choices": [], "usage": USAGE}
    for raw in (chunk(content="hi"), chunk(content="", finish="length"), usage_only):
        for delta in chunk_to_deltas(raw):
            builder.add(delta)
    reply = builder.build()
    assert reply.finish_reason == "length" and reply.usage == Usage.from_api(USAGE)


def test_a_tool_turn_with_one_unknown_usage_is_unknown():
    from glm_cli.events import usage_sum
    from glm_cli.tools.loop import TurnResult

    known = Usage(10, 5, 15)
    assert usage_sum(known, known) == Usage(20, 10, 30)
    turn = TurnResult(Reply(), usage=known).add(TurnResult(Reply(content="x"), usage=None))
    assert turn.usage is None and turn.final_reply().usage is None  # not 10 + 0 taken for the whole turn
    assert turn.add(TurnResult(Reply(), usage=known)).usage is None


def test_chat_says_unknown_after_an_answer_and_in_usage(make_app):
    import respx

    from glm_cli.commands.chat import ChatOptions, run_chat
    from tests.chat.test_chat import script

    replies = [sse_body(chunk(content="A1", finish="stop", usage=USAGE)), sse_body(chunk(content="A2", finish="stop"))]
    with respx.mock:
        respx.post("https://api.z.ai/api/paas/v4/chat/completions").mock(
            side_effect=lambda request: httpx.Response(200, content=replies.pop(0))
        )
        app = make_app()
        run_chat(ChatOptions(), app, script("one", "two", "/usage"))
    err = app.ios.stderr.getvalue()
    assert f"\n{USAGE_UNKNOWN}\n" in err  # after the answer that reported none
    assert "in 100 (cached 40, 40%) · out 50 (reasoning 20)" in err
    assert " · 1 answer · 1 answer with no usage reported (not counted)\n" in err


def test_batch_records_and_summary_keep_unknown_usage_apart(tmp_path):
    src, dest = tmp_path / "in.txt", tmp_path / "out.jsonl"
    src.write_text("one\ntwo\n", encoding="utf-8")
    with FakeGLM(usage_mode="never") as srv:
        out = run_glm(srv, tmp_path, "batch", "--text", str(src), "-o", str(dest), "--stream")
        assert all(b["stream_options"] == INCLUDE_USAGE for b in srv.chat_requests())
    records = [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()]
    assert out.returncode == 0, out.stderr
    assert [r["usage"] for r in records] == [None, None]
    assert "glm batch: 2 answers with no usage reported (tokens unknown, not counted)" in out.stderr
    assert "tokens in 0" not in out.stderr
