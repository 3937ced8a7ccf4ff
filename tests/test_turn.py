"""run_turn and the thinking rules of zhipu-api.md §9: the exact bodies sent over a conversation."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from glm_cli.conversation import Conversation, Message
from glm_cli.turn import build_turn_request, preserves_thinking, run_turn, with_preserve
from tests.conftest import USAGE, chunk, sse_body

URL = "https://api.z.ai/api/paas/v4/chat/completions"
CODING_URL = "https://api.z.ai/api/coding/paas/v4/chat/completions"
REASONINGS = ["First I consider…\n\n  indented\t", "第二步：思考 \u200b\r\n", " x "]


def convo() -> Conversation:
    conv = Conversation(system="sys")
    for i, reasoning in enumerate(REASONINGS):
        conv.add_user(f"q{i}")
        conv.add(Message(role="assistant", content=f"a{i}", reasoning=reasoning))
    conv.add(Message(role="assistant", content="no thinking this turn"))  # a /think off turn: no reasoning
    conv.add_user("next")
    return conv


def test_preserved_thinking_sends_every_reasoning_unmodified_in_order(make_app):
    settings = with_preserve(make_app().settings(), True)
    body = build_turn_request(convo(), settings)
    assert body["thinking"] == {"type": "enabled", "clear_thinking": False}
    sent = json.loads(json.dumps(body, ensure_ascii=False))  # as it goes over the wire
    assert [m.get("reasoning_content") for m in sent["messages"] if m["role"] == "assistant"] == [*REASONINGS, None]
    assert sent["messages"][0] == {"role": "system", "content": "sys"}
    assert sent["messages"][-1] == {"role": "user", "content": "next"}


def test_without_preserve_history_has_no_reasoning_and_clear_thinking_is_default(make_app):
    settings = make_app().settings()
    assert not preserves_thinking(settings)
    body = build_turn_request(convo(), settings)
    assert "thinking" not in body
    assert all("reasoning_content" not in m for m in body["messages"])
    assert [m["content"] for m in body["messages"] if m["role"] == "assistant"][:3] == ["a0", "a1", "a2"]


def test_coding_endpoint_preserves_by_default_and_off_says_so(make_app):
    settings = make_app().settings({"endpoint": "zai-coding"})
    assert preserves_thinking(settings)
    body = build_turn_request(convo(), settings)
    assert [m.get("reasoning_content") for m in body["messages"] if m["role"] == "assistant"][:3] == REASONINGS
    off = with_preserve(settings, False)
    body = build_turn_request(convo(), off)
    assert body["thinking"] == {"type": "enabled", "clear_thinking": True}
    assert all("reasoning_content" not in m for m in body["messages"])


def test_think_off_sends_disabled_and_keeps_preserved_history(make_app):
    settings = with_preserve(make_app().settings(), True).with_values("chat", thinking=False)
    body = build_turn_request(convo(), settings)
    assert body["thinking"] == {"type": "disabled"}
    assert [m.get("reasoning_content") for m in body["messages"] if m["role"] == "assistant"][:3] == REASONINGS


def test_request_building_reuses_message_dicts(make_app):
    conv = convo()
    assert conv.history(True)[1] is conv.history(True)[1]  # built once, not per turn


def test_run_turn_appends_reply_with_reasoning_latency_and_usage(make_app):
    app = make_app()
    settings = app.settings()
    conv = convo()
    with respx.mock() as mock:
        mock.post(URL).mock(
            return_value=httpx.Response(
                200,
                content=sse_body(
                    chunk(reasoning="  why\n"), chunk(content="Hi"), chunk(content="", finish="stop", usage=USAGE)
                ),
            )
        )
        client = app.make_client(settings)
        reply = run_turn(conv, settings, app, client)
    assert reply.content == "Hi" and not reply.interrupted
    last = conv.messages[-1]
    assert (last.role, last.content, last.reasoning, last.model) == ("assistant", "Hi", "  why\n", "glm-4.7")
    assert last.usage.prompt_tokens == 100 and last.latency is not None and last.latency >= 0


def test_interrupt_mid_stream_returns_the_partial_reply(make_app):
    app = make_app()
    settings = app.settings()
    conv = Conversation()
    conv.add_user("q")

    class Client:
        closed = False

        def chat(self, body, **_):
            def gen():
                try:
                    yield from [chunk_delta("part one "), chunk_delta("two")]
                    raise KeyboardInterrupt
                finally:
                    Client.closed = True

            return gen()

    from glm_cli.events import ContentDelta

    def chunk_delta(text):
        return ContentDelta(text)

    reply = run_turn(conv, settings, app, Client())
    assert reply.interrupted and reply.content == "part one two" and Client.closed
    assert conv.messages[-1].interrupted and conv.messages[-1].content == "part one two"


def test_api_error_propagates_and_appends_nothing(make_app):
    from glm_cli.errors import APIError

    app = make_app()
    settings = app.settings({"max_retries": 0})
    conv = Conversation()
    conv.add_user("q")
    with respx.mock() as mock:
        mock.post(URL).mock(return_value=httpx.Response(429, json={"error": {"code": "1113", "message": "x"}}))
        with pytest.raises(APIError):
            run_turn(conv, settings, app, app.make_client(settings))
    assert [m.role for m in conv.messages] == ["user"]
    conv.truncate(conv.saved)
    assert conv.messages == []


def test_cached_history_matches_a_rebuild_through_every_change():
    conv = convo()

    def fresh(preserve):
        last_user = max(i for i, m in enumerate(conv.messages) if m.role == "user")
        return [m.to_api(preserve or i > last_user) for i, m in enumerate(conv.messages)]

    def check():
        for preserve in (True, False):
            assert conv.history(preserve) == fresh(preserve)

    check()
    conv.add(
        Message(
            role="assistant",
            content="",
            reasoning="call a tool",
            tool_calls=[{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        )
    )
    conv.add(Message(role="tool", content="42", tool_call_id="c1"))
    check()  # the current turn keeps its reasoning even without preserve
    conv.add_user("after the tool")
    check()
    conv.pop_exchange()
    check()
    conv.pop_reply()
    check()
    conv.messages.append(Message(role="assistant", content="appended directly", reasoning="r"))
    check()
    conv.saved = 3
    conv.truncate(conv.saved)
    check()
    history = conv.history(True)
    history.append({"role": "user", "content": "a caller's change"})
    check()  # callers get a copy: the cache is not theirs to change
