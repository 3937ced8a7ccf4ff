"""run_ask with tools, web search and --schema over respx: the bodies sent at each step, and what was printed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
import respx
import yaml

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.commands.tooling import ToolOptions
from glm_cli.errors import GlmError, InvalidOutputError, UsageError
from tests.conftest import RECORDINGS, write_config

URL = "https://api.z.ai/api/paas/v4/chat/completions"
PY = sys.executable


def answer(
    content: str = "", reasoning: str = "", calls: list[tuple[str, str, dict | str]] = (), usage: int = 10, **extra
) -> httpx.Response:
    """A non-stream chat completion; calls are (id, name, arguments)."""
    msg: dict = {"role": "assistant", "content": content}
    if reasoning:
        msg["reasoning_content"] = reasoning
    if calls:
        msg["tool_calls"] = [
            {
                "id": cid,
                "index": i,
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for i, (cid, name, args) in enumerate(calls)
        ]
    body = {
        "id": "20260101000000abcdef0123456789",
        "model": "glm-4.7",
        "created": 1,
        "choices": [{"index": 0, "finish_reason": "tool_calls" if calls else "stop", "message": msg}],
        "usage": {"prompt_tokens": usage, "completion_tokens": 1, "total_tokens": usage + 1},
        **extra,
    }
    return httpx.Response(200, json=body)


def bodies(route) -> list[dict]:
    return [json.loads(c.request.content) for c in route.calls]


@pytest.fixture
def weather(tmp_path) -> str:
    path = tmp_path / "weather.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "weather",
                "description": "Current weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                "command": [PY, "-c", "import json,sys; a=json.load(sys.stdin); print(f\"18 C in {a['city']}\")"],
            }
        )
    )
    return str(path)


def ask(app, *prompt: str, **kw) -> int:
    tools = ToolOptions(**{k: kw.pop(k) for k in list(kw) if k in ToolOptions.__dataclass_fields__})
    return run_ask(AskOptions(prompt=prompt or ("q",), no_stream=kw.pop("no_stream", True), tools=tools, **kw), app)


def test_two_step_loop_sends_reasoning_tool_calls_and_results(make_app, weather):
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[
                answer("Let me look.", "I should call weather.", [("call_1", "weather", {"city": "Paris"})]),
                answer("It is 18 C in Paris.", "Done."),
            ]
        )
        assert ask(app, "weather in Paris?", tools=(weather,), yes=True) == 0
    first, second = bodies(route)
    assert first["tools"][0]["function"]["name"] == "weather" and first["tool_choice"] == "auto"
    assert "tool_stream" not in first  # only with stream: true
    assert second["messages"] == [
        {"role": "user", "content": "weather in Paris?"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "reasoning_content": "I should call weather.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}
            ],
        },
        {"role": "tool", "content": "18 C in Paris", "tool_call_id": "call_1"},
    ]
    assert app.ios.stdout.getvalue() == "Let me look.\nIt is 18 C in Paris.\n"
    assert 'tool: weather {"city": "Paris"}' in app.ios.stderr.getvalue()


def test_streaming_requests_tool_stream_on_glm_47(make_app, weather):
    with respx.mock:
        route = respx.post(URL).mock(
            return_value=httpx.Response(
                200,
                content=b'data: {"choices":[{"index":0,'
                b'"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
            )
        )
        ask(make_app(), tools=(weather,), yes=True, no_stream=False)
        ask(make_app(), tools=(weather,), yes=True, no_stream=False, model="glm-4.5")
    assert [b.get("tool_stream") for b in bodies(route)] == [True, None]


def test_no_terminal_refuses_before_sending(make_app, weather):
    with respx.mock:
        route = respx.post(URL).mock(return_value=answer("x"))
        with pytest.raises(UsageError) as err:
            ask(make_app(stdin_tty=False), tools=(weather,))
    assert "no terminal to ask on" in err.value.message and "--yes" in err.value.hint and not route.called


def test_allow_runs_that_tool_and_refuses_others_without_a_terminal(make_app, weather, tmp_path):
    other = tmp_path / "rm.yaml"
    other.write_text(f'name: rm\ncommand: [{PY}, -c, \'open("{tmp_path}/ran", "w")\']\n')
    app = make_app(stdin_tty=False)
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[answer(calls=[("c1", "weather", {"city": "Oslo"}), ("c2", "rm", {})]), answer("ok")]
        )
        ask(app, tools=(weather, str(other)), allow=("weather",))
    results = [m for m in bodies(route)[1]["messages"] if m["role"] == "tool"]
    assert results[0]["content"] == "18 C in Oslo"
    assert results[1]["content"].startswith("error: the user did not allow") and not (tmp_path / "ran").exists()
    assert "tool rm failed: not approved (no terminal: use --yes or --allow rm)" in app.ios.stderr.getvalue()


def test_allow_names_are_checked(make_app, weather):
    with pytest.raises(UsageError, match="--allow wether: no such tool"):
        ask(make_app(), tools=(weather,), allow=("wether",))


def test_terminal_approval_yes_no_always(make_app, weather):
    calls = [("c1", "weather", {"city": "A"}), ("c2", "weather", {"city": "B"})]
    app = make_app("n\na\n", stdin_tty=True, stderr_tty=True)
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[answer(calls=calls), answer(calls=[("c3", "weather", {"city": "C"})]), answer("done")]
        )
        ask(app, tools=(weather,))
    msgs = bodies(route)[2]["messages"]
    assert [m["content"] for m in msgs if m["role"] == "tool"] == [
        "error: the user did not allow this tool call; it was not run",
        "18 C in B",
        "18 C in C",
    ]
    assert app.ios.stderr.getvalue().count("run tool weather? [y]es / [n]o / [a]lways") == 2  # "always" sticks


def test_unknown_tool_and_bad_arguments_go_back_to_the_model(make_app, weather):
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[answer(calls=[("c1", "nope", {}), ("c2", "weather", "{not json")]), answer("sorry")]
        )
        assert ask(app, tools=(weather,), yes=True) == 0
    contents = [m["content"] for m in bodies(route)[1]["messages"] if m["role"] == "tool"]
    assert contents[0].startswith("error: there is no tool named 'nope' (tools: weather)")
    assert contents[1].startswith("error: the arguments are not valid JSON")


def test_failing_tool_is_reported_to_model_and_user(make_app, tmp_path):
    path = tmp_path / "slow.yaml"
    path.write_text(f"name: slow\ncommand: [{PY}, -c, 'import time; time.sleep(30)']\ntimeout: 0.2\n")
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(side_effect=[answer(calls=[("c1", "slow", {})]), answer("gave up")])
        assert ask(app, tools=(str(path),), yes=True) == 0
    assert bodies(route)[1]["messages"][-1]["content"] == "error: the tool timed out after 0.2s"
    assert "glm: tool slow failed: timed out after 0.2s" in app.ios.stderr.getvalue()


def test_max_steps(make_app, weather):
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[answer(calls=[(f"c{i}", "weather", {"city": "X"})]) for i in range(5)]
        )
        with pytest.raises(GlmError, match="after 2 rounds"):
            ask(make_app(), tools=(weather,), yes=True, max_steps=2)
    assert route.call_count == 3
    with pytest.raises(UsageError, match="at least 1"):
        ask(make_app(), tools=(weather,), yes=True, max_steps=0)


def test_output_json_has_tool_runs_and_summed_usage(make_app, weather):
    app = make_app()
    with respx.mock:
        respx.post(URL).mock(
            side_effect=[answer(calls=[("c1", "weather", {"city": "Rome"})], usage=100), answer("warm", usage=200)]
        )
        ask(app, tools=(weather,), yes=True, format="json", usage=True)
    rec = json.loads(app.ios.stdout.getvalue())
    assert rec["content"] == "warm" and rec["usage"]["prompt_tokens"] == 300
    assert rec["tool_runs"] == [
        {
            "id": "c1",
            "name": "weather",
            "arguments": '{"city": "Rome"}',
            "approved": True,
            "ok": True,
            "result": "18 C in Rome",
        }
    ]
    assert "in 300" in app.ios.stderr.getvalue()


def test_dry_run_shows_tools_without_a_key(make_app, env, weather):
    app = make_app(environ={k: v for k, v in env.items() if k != "GLM_API_KEY"})
    ask(app, tools=(weather,), web_search=True, dry_run="json", no_stream=False)
    body = json.loads(app.ios.stdout.getvalue())
    assert [t["type"] for t in body["tools"]] == ["function", "web_search"] and body["tool_stream"] is True


def test_tools_from_config_relative_to_it(make_app, env, weather):
    cfg = write_config(env, "presets:\n  w:\n    tools: [tools/weather.yaml]\n")
    (cfg.parent / "tools").mkdir()
    (cfg.parent / "tools" / "weather.yaml").write_text(Path(weather).read_text())
    app = make_app()
    ask(app, preset="w", dry_run="json")
    assert json.loads(app.ios.stdout.getvalue())["tools"][0]["function"]["name"] == "weather"


# ---------------------------------------------------------------------------------------------- web search


def test_web_search_sources_on_stderr_and_in_json(make_app):
    results = [{"title": "GLM-4.7", "link": "https://z.ai/blog", "media": "Z.ai", "refer": "ref_1"}]
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(return_value=answer("GLM-4.7 is out [ref_1].", web_search=results))
        ask(app, web_search=True, search_count=5, search_recency="oneMonth")
    [tool] = bodies(route)[0]["tools"]
    assert tool == {
        "type": "web_search",
        "web_search": {
            "enable": True,
            "search_engine": "search-prime",
            "search_result": True,
            "count": 5,
            "search_recency_filter": "oneMonth",
        },
    }
    assert app.ios.stdout.getvalue() == "GLM-4.7 is out [ref_1].\n"
    assert "Sources:\n  [1] GLM-4.7 — https://z.ai/blog (Z.ai)\n" in app.ios.stderr.getvalue()
    app = make_app()
    with respx.mock:
        respx.post(URL).mock(return_value=answer("x", web_search=results))
        ask(app, search_domain="z.ai", format="json")  # a search option implies --web-search
    assert json.loads(app.ios.stdout.getvalue())["web_search"] == results


def test_web_search_results_on_an_early_stream_chunk(make_app):
    early = {
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
        "web_search": [{"title": "T", "link": "https://e.x"}],
    }
    body = (
        f"data: {json.dumps(early)}\n\n"
        'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
        'data: {"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],'
        '"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\ndata: [DONE]\n\n'
    )
    app = make_app()
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(200, content=body.encode()))
        ask(app, web_search=True, no_stream=False)
    assert "[1] T — https://e.x" in app.ios.stderr.getvalue()


# --------------------------------------------------------------------------------------------------- schema

SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
)


def test_schema_goes_in_the_system_prompt_with_json_object(make_app):
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(return_value=answer('```json\n{"name": "Ada", "age": 36}\n```'))
        assert ask(app, system="Extract.", schema=SCHEMA) == 0
    [body] = bodies(route)
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]["content"]
    assert system.startswith("Extract.\n\nAnswer with one JSON value") and '"required"' in system
    assert app.ios.stdout.getvalue() == '{"name": "Ada", "age": 36}\n'


def test_schema_repair_sends_the_errors_once(make_app):
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[answer('{"name": "Ada", "age": "old"}'), answer('{"name": "Ada", "age": 36}')]
        )
        assert ask(app, schema=SCHEMA) == 0
    second = bodies(route)[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": '{"name": "Ada", "age": "old"}'}
    assert second[-1]["role"] == "user" and "$.age: 'old' is not of type 'integer'" in second[-1]["content"]
    assert app.ios.stdout.getvalue() == '{"name": "Ada", "age": 36}\n'
    assert "asking the model to correct it" in app.ios.stderr.getvalue()


def test_schema_failure_after_one_repair_exits_9(make_app):
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(side_effect=[answer("not json at all"), answer('{"name": "Ada"}')])
        with pytest.raises(InvalidOutputError) as err:
            ask(app, schema=SCHEMA)
    assert route.call_count == 2 and err.value.exit_code == 9
    assert "'age' is a required property" in err.value.message
    assert "not valid JSON" in bodies(route)[1]["messages"][-1]["content"]
    assert app.ios.stdout.getvalue() == ""


def test_bad_schema_is_a_usage_error_before_sending(make_app):
    with respx.mock:
        route = respx.post(URL).mock(return_value=answer("{}"))
        with pytest.raises(UsageError, match="not a valid JSON Schema"):
            ask(make_app(), schema='{"type": 12}')
    assert not route.called


# ------------------------------------------------------------------------------ replays of recorded tool loops


def recording(name: str) -> list[tuple[dict, bytes]]:
    data = yaml.safe_load((RECORDINGS / f"{name}.yaml").read_text())
    return [(json.loads(it["request"]["body"]), it["response"]["body"].encode()) for it in data["interactions"]]


@pytest.mark.parametrize(
    "name",
    [
        "OpenAICompatibleCommon--tool",
        "OpenAICompatibleCommon--tool_streaming",
        "OpenAICompatibleCommon--multi_tool",
        "OpenAICompatibleCommon--multi_tool_streaming",
    ],
)
def test_replayed_tool_loop_sends_what_the_recorded_client_sent(make_app, tmp_path, name):
    (req1, resp1), (req2, resp2) = recording(name)
    files = []
    for tool in req1["tools"]:  # the recorded tools, run by commands that give the recorded results
        fn = {k: v for k, v in tool["function"].items() if k != "strict"}
        code = {
            "weather": "print('40 C')",
            "add": "import json,sys; a=json.load(sys.stdin); print(a['a'] + a['b'])",
            "multiply": "import json,sys; a=json.load(sys.stdin); print(a['a'] * a['b'])",
        }[fn["name"]]
        path = tmp_path / f"{fn['name']}.json"
        path.write_text(json.dumps({**fn, "command": [PY, "-c", code]}))
        files.append(str(path))
    system, user = req1["messages"][0]["content"], req1["messages"][1]["content"]
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[httpx.Response(200, content=resp1), httpx.Response(200, content=resp2)]
        )
        ask(
            app,
            user,
            system=system,
            model=req1["model"],
            tools=tuple(files),
            yes=True,
            no_stream=not req1.get("stream"),
            max_tokens=req1["max_tokens"],
        )
    mine1, mine2 = bodies(route)
    assert mine1["messages"] == req1["messages"] and mine2["messages"] == req2["messages"]
    assert mine1["tools"] == [
        {**t, "function": {k: v for k, v in t["function"].items() if k != "strict"}} for t in req1["tools"]
    ]
    final = json.loads(resp2) if not req1.get("stream") else None
    if final:
        assert app.ios.stdout.getvalue().endswith(final["choices"][0]["message"]["content"] + "\n")


# ------------------------------------------------------------------------------------------------------ chat


def sse_answer(content: str = "", reasoning: str = "", calls: list[tuple[str, str, dict]] = ()) -> httpx.Response:
    """A streamed answer: reasoning, content, whole tool calls, then the finish chunk."""

    def event(delta: dict, finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, **({"finish_reason": finish} if finish else {})}
        extra = {"usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}} if finish else {}
        return "data: " + json.dumps({"model": "glm-4.7", "choices": [choice], **extra}) + "\n\n"

    out = event({"role": "assistant", "reasoning_content": reasoning}) if reasoning else ""
    out += event({"role": "assistant", "content": content}) if content else ""
    for i, (cid, name, args) in enumerate(calls):
        out += event(
            {
                "tool_calls": [
                    {
                        "id": cid,
                        "index": i,
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)},
                    }
                ]
            }
        )
    out += event({"role": "assistant", "content": ""}, "tool_calls" if calls else "stop") + "data: [DONE]\n\n"
    return httpx.Response(200, content=out.encode())


def lines(*items: str):
    queue = list(items)

    def read() -> str:
        if not queue:
            raise EOFError
        return queue.pop(0)

    return read


def test_chat_runs_the_tool_loop_and_keeps_it_in_the_conversation(make_app, weather):
    from glm_cli.commands.chat import ChatOptions, run_chat

    app = make_app("y\n", stdin_tty=True, stderr_tty=True)  # the approval answer comes from the terminal
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[
                sse_answer(reasoning="call it", calls=[("c1", "weather", {"city": "Rome"})]),
                sse_answer("Warm in Rome.", "got it"),
                sse_answer("You're welcome."),
            ]
        )
        assert run_chat(ChatOptions(tools=ToolOptions(tools=(weather,))), app, lines("weather in Rome?", "thanks")) == 0
    first, second, third = bodies(route)
    assert first["tools"][0]["function"]["name"] == "weather" and first["tool_stream"] is True
    assert second["messages"][1]["reasoning_content"] == "call it"  # the current turn keeps its reasoning
    assert second["messages"][2] == {"role": "tool", "content": "18 C in Rome", "tool_call_id": "c1"}
    assert [m["role"] for m in third["messages"]] == ["user", "assistant", "tool", "assistant", "user"]
    assert all("reasoning_content" not in m for m in third["messages"])  # earlier turns: cleared (default)
    assert "run tool weather?" in app.ios.stderr.getvalue()
    assert app.ios.stdout.getvalue().endswith("Warm in Rome.\nYou're welcome.\n")


def test_chat_schema_and_allow_typos(make_app, weather):
    from glm_cli.commands.chat import ChatOptions, run_chat

    with pytest.raises(UsageError, match="--allow nope: no such tool"):
        run_chat(ChatOptions(tools=ToolOptions(tools=(weather,), allow=("nope",))), make_app(), lines("x"))
    app = make_app()
    with respx.mock:
        route = respx.post(URL).mock(side_effect=[sse_answer('{"name": "Ada", "age": 36}')])
        run_chat(ChatOptions(system="Extract.", tools=ToolOptions(schema=SCHEMA)), app, lines("Ada, 36"))
    [body] = bodies(route)
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["content"].startswith("Extract.\n\nAnswer with one JSON value")


def test_interrupted_tool_call_still_gets_an_answer_message():
    from glm_cli.events import Reply, ToolCall
    from glm_cli.iostreams import IOStreams
    from glm_cli.tools.files import ToolSpec
    from glm_cli.tools.loop import Toolbox, run_tool_loop

    added = []
    reply = Reply(tool_calls=(ToolCall("c1", "t", '{"a'),), interrupted=True)
    run_tool_loop(
        lambda: reply,
        lambda cid, text: added.append((cid, text)),
        toolbox=Toolbox([ToolSpec("t")]),
        approver=None,
        ios=IOStreams.for_test(),
    )
    assert added == [("c1", "error: interrupted by the user; the tool was not run")]
