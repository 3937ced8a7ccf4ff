"""`glm chat` honours `tools:` in the config as `glm ask` does, without a tool flag (issue 13, noticed with 16)."""

from __future__ import annotations

import respx

from glm_cli.commands.chat import ChatOptions, run_chat
from tests.conftest import write_config
from tests.tools.test_tool_loop import URL, bodies, lines, sse_answer, weather  # noqa: F401


def test_chat_offers_the_config_tools_with_no_tool_flag(make_app, env, weather):  # noqa: F811
    write_config(env, f"tools: [{weather}]\n")
    app = make_app("y\n", stdin_tty=True, stderr_tty=True)  # the approval answer comes from the terminal
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[
                sse_answer(reasoning="call it", calls=[("c1", "weather", {"city": "Rome"})]),
                sse_answer("Warm in Rome."),
            ]
        )
        assert run_chat(ChatOptions(), app, lines("weather in Rome?")) == 0
    first, second = bodies(route)
    assert [t["function"]["name"] for t in first["tools"]] == ["weather"]
    assert second["messages"][2] == {"role": "tool", "content": "18 C in Rome", "tool_call_id": "c1"}
    assert app.ios.stdout.getvalue().endswith("Warm in Rome.\n")


def test_chat_without_config_tools_sends_none(make_app, env):
    with respx.mock:
        route = respx.post(URL).mock(side_effect=[sse_answer("Hi.")])
        assert run_chat(ChatOptions(), make_app(), lines("hello")) == 0
    assert "tools" not in bodies(route)[0]
