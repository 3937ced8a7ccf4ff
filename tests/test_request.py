"""The request builder: the exact body for every flag, and validation before any network."""

from __future__ import annotations

import pytest

from glm_cli.config import load_settings
from glm_cli.errors import UsageError
from glm_cli.request import Knobs, build_chat_request, build_messages


def body_for(env, flags=None, knobs=None, prompt="hi", **kw):
    s = load_settings(env, flags or {})
    return build_chat_request(s, build_messages(prompt, system=s.system), knobs or Knobs(), **kw)


def test_minimal_body(env):
    assert body_for(env) == {
        "model": "glm-4.7",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


@pytest.mark.parametrize(
    ("flags", "knobs", "expected"),
    [
        ({"thinking": True}, Knobs(), {"thinking": {"type": "enabled"}}),
        ({"thinking": False}, Knobs(), {"thinking": {"type": "disabled"}}),
        (
            {"thinking": True, "clear_thinking": False},
            Knobs(),
            {"thinking": {"type": "enabled", "clear_thinking": False}},
        ),
        ({"temperature": 0.0, "top_p": 0.5}, Knobs(), {"temperature": 0.0, "top_p": 0.5}),
        ({"max_tokens": 512}, Knobs(), {"max_tokens": 512}),
        ({}, Knobs(stop=("END",)), {"stop": ["END"]}),
        ({}, Knobs(json_mode=True), {"response_format": {"type": "json_object"}}),
        ({}, Knobs(request_id="req-123456"), {"request_id": "req-123456"}),
        ({}, Knobs(stream=False), {"stream": False}),
        ({"model": "glm-4.5-air"}, Knobs(), {"model": "glm-4.5-air"}),
    ],
)
def test_flags_map_to_body(env, flags, knobs, expected):
    body = body_for(env, flags, knobs)
    for key, value in expected.items():
        assert body[key] == value
    assert "thinking" in body or "thinking" not in expected


def test_system_prompt_first(env):
    body = body_for(env, {"system": "be terse"})
    assert body["messages"] == [{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"}]


def test_tools_add_tool_stream_only_when_streaming(env):
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    b = body_for(env, knobs=Knobs(tools=(tool,), tool_stream=True))
    assert b["tools"] == [tool] and b["tool_choice"] == "auto" and b["tool_stream"] is True
    b = body_for(env, knobs=Knobs(tools=(tool,), tool_stream=True, stream=False))
    assert "tool_stream" not in b


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"temperature": 1.5}, "--temperature must be between"),
        ({"top_p": 0.0}, "--top-p must be between"),
        ({"max_tokens": 0}, "--max-tokens must be at least 1"),
    ],
)
def test_out_of_range_is_usage_error(env, flags, message):
    with pytest.raises(UsageError, match=message):
        body_for(env, flags)


def test_history_strips_reasoning_unless_preserved():
    hist = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "reasoning_content": " exact\n reasoning "},
    ]
    plain = build_messages("next", history=hist)
    assert "reasoning_content" not in plain[1]
    kept = build_messages("next", history=hist, preserve_thinking=True)
    assert kept[1]["reasoning_content"] == " exact\n reasoning "
    assert kept[-1] == {"role": "user", "content": "next"}
