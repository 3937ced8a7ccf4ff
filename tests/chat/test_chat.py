"""`glm chat` in-process: the REPL loop with scripted input, slash commands, and the prompt's keys."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest
import respx

from glm_cli.commands.chat import ChatOptions, make_prompt, open_session, run_chat
from glm_cli.errors import UsageError
from glm_cli.store import Store, default_path
from tests.conftest import USAGE, chunk, sse_body, write_config

URL = "https://api.z.ai/api/paas/v4/chat/completions"


def script(*items):
    """A read_line that returns each item in turn (exceptions are raised), then EOF."""
    queue = list(items)

    def read() -> str:
        if not queue:
            raise EOFError
        item = queue.pop(0)
        if isinstance(item, type) and issubclass(item, BaseException):
            raise item
        return item

    return read


def answers(*contents: str):
    """A respx side effect: one streamed answer per request, with reasoning 'r<n>'."""
    replies = list(contents)

    def respond(request):
        n = len(replies)
        text = replies.pop(0) if replies else "extra"
        return httpx.Response(
            200,
            content=sse_body(
                chunk(reasoning=f"r{n}"), chunk(content=text), chunk(content="", finish="stop", usage=USAGE)
            ),
        )

    return respond


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(URL)


def bodies(route) -> list[dict]:
    return [json.loads(c.request.content) for c in route.calls]


def saved(env) -> list:
    with Store.open(default_path(env)) as s:
        return [s.load(r.id) for r in s.list(limit=None)]


def test_stdin_not_a_terminal_is_a_usage_error_pointing_to_ask_c(make_app):
    with pytest.raises(UsageError) as err:
        run_chat(ChatOptions(), make_app(stdin_tty=False))
    assert "needs a terminal" in err.value.message and "glm ask -c" in err.value.hint


def test_turns_go_to_stdout_and_are_saved_after_each(make_app, env, api):
    api.side_effect = answers("A1", "A2")
    app = make_app()
    assert run_chat(ChatOptions(system="be brief"), app, script("hello", "", "  again  ")) == 0
    assert app.ios.stdout.getvalue() == "A1\nA2\n"
    sent = bodies(api)
    assert sent[1]["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "again"},
    ]
    (conv,) = saved(env)
    assert conv.source == "chat" and [m.content for m in conv.messages] == ["hello", "A1", "again", "A2"]
    assert [m.reasoning for m in conv.messages] == ["", "r2", "", "r1"]
    assert "in 100 (cached 40, 40%)" in app.ios.stderr.getvalue()  # a usage line after each answer


def test_think_off_changes_the_next_request_only_from_then_on(make_app, api):
    api.side_effect = answers("A1", "A2", "A3")
    run_chat(ChatOptions(), make_app(), script("one", "/think off", "two", "/think on", "three"))
    sent = bodies(api)
    assert "thinking" not in sent[0]
    assert sent[1]["thinking"] == {"type": "disabled"} and sent[2]["thinking"] == {"type": "enabled"}


def test_preserve_flag_and_command(make_app, env, api):
    api.side_effect = answers("A1", "A2", "A3")
    app = make_app()
    run_chat(ChatOptions(preserve_thinking=True), app, script("one", "two", "/preserve off", "three"))
    sent = bodies(api)
    assert sent[1]["thinking"] == {"type": "enabled", "clear_thinking": False}
    assert sent[1]["messages"][1] == {"role": "assistant", "content": "A1", "reasoning_content": "r3"}
    assert "thinking" not in sent[2] and "reasoning_content" not in json.dumps(sent[2])
    (conv,) = saved(env)
    assert conv.options == {"preserve_thinking": False}


def test_resume_restores_preserve_and_model_unless_flags_say_otherwise(make_app, env, api):
    api.side_effect = answers("A1", "A2", "A3")
    run_chat(ChatOptions(preserve_thinking=True, model="glm-4.5-air"), make_app(), script("one"))
    app = make_app()
    run_chat(ChatOptions(continue_=True), app, script("two"))
    sent = bodies(api)[1]
    assert sent["model"] == "glm-4.5-air" and sent["thinking"] == {"type": "enabled", "clear_thinking": False}
    assert sent["messages"][1]["reasoning_content"] == "r3"
    assert "resumed conversation 1: 1 turn · one" in app.ios.stderr.getvalue()
    run_chat(ChatOptions(resume="1", model="glm-4.7"), make_app(), script("three"))
    assert bodies(api)[2]["model"] == "glm-4.7"


def test_resume_unknown_name_is_an_error(make_app, api):
    from glm_cli.store import StoreError

    with pytest.raises(StoreError, match="no conversation 'nope'"):
        run_chat(ChatOptions(resume="nope"), make_app(), script())


def test_api_error_keeps_the_repl_and_drops_the_message(make_app, env, api):
    api.side_effect = [httpx.Response(400, json={"error": {"code": "1214", "message": "bad"}}), *[answers("A2")(None)]]
    app = make_app()
    run_chat(ChatOptions(), app, script("broken", "fine"))
    assert "glm: HTTP 400 GLM 1214" in app.ios.stderr.getvalue()
    assert bodies(api)[1]["messages"] == [{"role": "user", "content": "fine"}]
    (conv,) = saved(env)
    assert [m.content for m in conv.messages] == ["fine", "A2"]


def test_an_error_without_logging_forgets_only_that_turn(make_app, api):
    api.side_effect = [
        answers("A1")(None),
        httpx.Response(500, json={"error": {"code": "1214", "message": "x"}}),
        answers("A3")(None),
    ]
    run_chat(ChatOptions(no_log=True), make_app(), script("one", "two", "three"))
    assert [m["content"] for m in bodies(api)[2]["messages"]] == ["one", "A1", "three"]


def interrupted_stream(*pieces: bytes):
    def body():
        yield from pieces
        raise KeyboardInterrupt  # what Ctrl-C does to the read in progress

    return httpx.Response(200, content=body())


def test_ctrl_c_mid_answer_keeps_the_partial_marked_interrupted(make_app, env, api):
    api.side_effect = [
        interrupted_stream(sse_body(chunk(reasoning="hmm "), chunk(content="half an ans"), done=False)),
        answers("A2")(None),
    ]
    app = make_app()
    run_chat(ChatOptions(), app, script("one", "two"))
    assert "[interrupted: the partial answer is kept]" in app.ios.stderr.getvalue()
    assert bodies(api)[1]["messages"][1] == {"role": "assistant", "content": "half an ans"}
    (conv,) = saved(env)
    assert conv.messages[1].interrupted and conv.messages[1].reasoning == "hmm "
    assert app.ios.stdout.getvalue().startswith("half an ans\n")


def test_ctrl_c_before_any_answer_drops_the_message(make_app, env, api):
    api.side_effect = [interrupted_stream(), answers("A2")(None)]
    app = make_app()
    run_chat(ChatOptions(), app, script("one", "two"))
    assert "cancelled before any answer arrived" in app.ios.stderr.getvalue()
    assert bodies(api)[1]["messages"] == [{"role": "user", "content": "two"}]
    (conv,) = saved(env)
    assert [m.content for m in conv.messages] == ["two", "A2"]


def test_ctrl_c_at_the_prompt_is_a_hint_and_slash_slash_is_literal(make_app, api):
    api.side_effect = answers("A1")
    app = make_app()
    run_chat(ChatOptions(), app, script(KeyboardInterrupt, "//etc/hosts is a path"))
    assert "(Ctrl-D or /exit to leave)" in app.ios.stderr.getvalue()
    assert bodies(api)[0]["messages"] == [{"role": "user", "content": "/etc/hosts is a path"}]


def test_exit_stops_reading(make_app, api):
    read = script("/exit", "never sent")
    run_chat(ChatOptions(), make_app(), read)
    assert not api.called and read() == "never sent"


def test_retry_undo_clear_and_usage(make_app, env, api):
    api.side_effect = answers("A1", "A1 again", "A2", "A3")
    app = make_app()
    run_chat(ChatOptions(), app, script("one", "/retry", "two", "/undo", "/usage", "/clear", "three"))
    sent = bodies(api)
    assert sent[1]["messages"] == sent[0]["messages"] == [{"role": "user", "content": "one"}]
    assert sent[3]["messages"] == [{"role": "user", "content": "three"}]  # /clear: a new conversation
    err = app.ios.stderr.getvalue()
    assert "removed the last exchange (two)" in err
    assert "in 100 (cached 40, 40%) · out 50 (reasoning 20) · " in err and " · 1 answer\n" in err
    assert "spent in this session (retried and undone answers too): in 300 (cached 120, 40%) · out 150" in err
    first, second = sorted(saved(env), key=lambda c: c.id)
    assert [m.content for m in first.messages] == ["one", "A1 again"]
    assert [m.content for m in second.messages] == ["three", "A3"]


def test_nothing_to_retry_or_undo(make_app, api):
    app = make_app()
    run_chat(ChatOptions(), app, script("/retry", "/undo"))
    err = app.ios.stderr.getvalue()
    assert "nothing to retry yet" in err and "nothing to undo" in err and not api.called


def test_no_log_saves_nothing_until_save(make_app, env, api):
    api.side_effect = answers("A1", "A2", "A3")
    app = make_app()
    run_chat(ChatOptions(no_log=True), app, script("one"))
    assert not default_path(env).exists()
    run_chat(ChatOptions(no_log=True), app, script("one", "/save keeper", "two"))
    (conv,) = saved(env)
    assert conv.name == "keeper" and [m.content for m in conv.messages] == ["one", "A2", "two", "A3"]
    assert "resume with: glm chat --resume keeper" in app.ios.stderr.getvalue()


def test_log_false_in_profile_means_not_logged(make_app, env, api):
    api.side_effect = answers("A1")
    write_config(env, "log: false\n")
    run_chat(ChatOptions(), make_app(), script("one"))
    assert not default_path(env).exists()


def test_save_name_taken_and_usage_errors(make_app, env, api):
    api.side_effect = answers("A1", "A2")
    run_chat(ChatOptions(), make_app(), script("one", "/save taken"))
    app = make_app()
    run_chat(ChatOptions(), app, script("two", "/save taken", "/save", "/think maybe", "/nope"))
    err = app.ios.stderr.getvalue()
    assert "another conversation is already named 'taken'" in err
    assert "usage: /save NAME" in err and "usage: /think on|off" in err and "unknown command /nope" in err


def test_model_system_show_thinking_commands(make_app, api):
    api.side_effect = answers("A1", "A2")
    app = make_app()
    run_chat(
        ChatOptions(),
        app,
        script(
            "/model air",
            "/system You are terse",
            "/show-thinking on",
            "one",
            "/system off",
            "/model",
            "/system",
            "/think",
            "/preserve",
            "two",
        ),
    )
    sent = bodies(api)
    assert sent[0]["model"] == "glm-4.5-air" and sent[0]["messages"][0] == {
        "role": "system",
        "content": "You are terse",
    }
    assert sent[1]["messages"][0]["role"] == "user"
    err = app.ios.stderr.getvalue()
    assert "r2" in err  # reasoning shown (on stderr)
    assert "model: glm-4.5-air" in err and "no system prompt" in err and "thinking: server default (on)" in err
    assert "preserved thinking: off" in err


def test_help_lists_every_command_and_the_keys(make_app):
    from glm_cli.chat.slash import COMMANDS

    app = make_app()
    run_chat(ChatOptions(), app, script("/help"))
    err = app.ios.stderr.getvalue()
    assert all(f"/{name}" in err for name in COMMANDS if name != "quit")
    assert "Alt-Enter" in err and "Ctrl-D" in err


def test_copy_uses_a_clipboard_tool_or_says_there_is_none(make_app, env, api, tmp_path):
    api.side_effect = answers("copy me")
    app = make_app(environ={**env, "PATH": str(tmp_path / "empty")})
    run_chat(ChatOptions(), app, script("/copy", "one", "/copy"))
    err = app.ios.stderr.getvalue()
    assert "no answer to copy yet" in err and "no clipboard tool found" in err
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "xclip"
    tool.write_text(f"#!/bin/sh\ncat > {tmp_path / 'clip.txt'}\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    api.side_effect = answers("copy me")
    app = make_app(environ={**env, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    run_chat(ChatOptions(), app, script("one", "/copy"))
    assert (tmp_path / "clip.txt").read_text() == "copy me"
    assert "copied the last answer (7 characters) with xclip" in app.ios.stderr.getvalue()


def test_edit_composes_the_next_message_in_the_editor(make_app, env, api, tmp_path):
    api.side_effect = answers("A1")
    editor = tmp_path / "ed.sh"
    editor.write_text('#!/bin/sh\nprintf "\\nline one\\nline two\\n" >> "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    app = make_app(environ={**env, "EDITOR": str(editor)})
    run_chat(ChatOptions(), app, script("/edit draft:"))
    assert bodies(api)[0]["messages"] == [{"role": "user", "content": "draft:\nline one\nline two"}]
    app = make_app(environ={**env, "EDITOR": "true"})
    run_chat(ChatOptions(), app, script("/edit"))
    assert "nothing to send" in app.ios.stderr.getvalue() and len(api.calls) == 1
    app = make_app(environ={**env, "EDITOR": str(tmp_path / "missing-editor")})
    run_chat(ChatOptions(), app, script("/edit"))
    assert "cannot run the editor" in app.ios.stderr.getvalue()


def test_coding_endpoint_preserves_by_default(make_app, api):
    app = make_app()
    session = open_session(ChatOptions(endpoint="zai-coding"), app)
    assert session.preserve and session.settings.coding_endpoint
    session.close()


# ---- the prompt itself (prompt_toolkit fed through a pipe)


def prompt_with(keys: str, make_app, env):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    session = open_session(ChatOptions(), make_app())
    with create_pipe_input() as pipe:
        read = make_prompt(session, input=pipe, output=DummyOutput())
        pipe.send_text(keys)
        try:
            return read()
        finally:
            session.close()


def test_alt_enter_adds_a_line_and_enter_sends(make_app, env):
    assert prompt_with("line one\x1b\rline two\r", make_app, env) == "line one\nline two"


def test_bracketed_paste_keeps_lines_without_sending(make_app, env):
    assert prompt_with("\x1b[200~para 1\r\npara 2\x1b[201~ end\r", make_app, env) == "para 1\npara 2 end"


def test_ctrl_c_clears_a_line_then_interrupts_at_an_empty_prompt(make_app, env):
    assert prompt_with("typo\x03fixed\r", make_app, env) == "fixed"
    with pytest.raises(KeyboardInterrupt):
        prompt_with("\x03", make_app, env)
    with pytest.raises(EOFError):
        prompt_with("\x04", make_app, env)


def test_input_history_is_persisted_and_private(make_app, env):
    prompt_with("remember me\r", make_app, env)
    path = Path(env["XDG_DATA_HOME"]) / "glm" / "chat-input-history"
    assert "+remember me" in path.read_text()
    assert path.parent.stat().st_mode & 0o077 == 0


def test_slash_completion(make_app, env):
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from glm_cli.commands.chat import _completer

    session = open_session(ChatOptions(), make_app())
    completer = _completer(session)

    def names(text):
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert names("/th") == ["/think"] and "/show-thinking" in names("/s")
    assert names("/think o") == ["on", "off"] and "glm-4.5-air" in names("/model glm-4.5")
    assert names("hello") == [] and names("/nope x") == []
    session.close()
