"""Small things a chat user trips on (issue 13 item 16): hints that name slash commands, choices kept with the
conversation on --resume, /usage of interrupted answers, a private input history."""

from __future__ import annotations

import stat
from pathlib import Path

from glm_cli.commands.chat import ChatOptions, run_chat
from glm_cli.commands.conversing import conversation_settings
from glm_cli.store import load_conversation
from tests.chat.test_chat import answers, api, bodies, interrupted_stream, prompt_with, saved, script  # noqa: F401
from tests.conftest import chunk, sse_body, write_config


def test_model_hints_name_the_slash_command_not_the_shell_flag(make_app, api, tmp_path):  # noqa: F811
    from tests.commands.test_beyond_attach import png

    photo = tmp_path / "photo.png"
    photo.write_bytes(png())
    app = make_app()
    run_chat(ChatOptions(), app, script("/model glm-z1-air", f"/attach {photo}", "what is it"))
    err = app.ios.stderr.getvalue()
    assert "glm: model glm-z1-air was retired" in err and "hint: use /model glm-4.5-air" in err
    assert "use a vision model: /model glm-4.6v before sending" in err  # the note when attaching
    assert "hint: use a vision model: /model glm-4.6v" in err  # and when the message is refused
    assert "-m " not in err and not api.called


def test_think_off_and_json_on_are_kept_with_the_conversation(make_app, env, api):  # noqa: F811
    api.side_effect = answers('{"a": 1}', '{"b": 2}', '{"c": 3}')
    run_chat(ChatOptions(), make_app(), script("/think off", "/json on", "one"))
    app = make_app()
    run_chat(ChatOptions(resume="1"), app, script("two"))
    sent = bodies(api)
    assert sent[1]["thinking"] == {"type": "disabled"} and sent[1]["response_format"] == {"type": "json_object"}
    assert "thinking off" in app.ios.stderr.getvalue()  # the banner says so
    run_chat(ChatOptions(resume="1", think=True, json_object=False), make_app(), script("three"))
    assert bodies(api)[2]["thinking"] == {"type": "enabled"} and "response_format" not in bodies(api)[2]
    (conv,) = saved(env)
    assert conv.options == {"thinking": True, "json_object": False}  # the flags' choices are kept too


def test_a_choice_made_after_the_last_answer_is_kept(make_app, env, api):  # noqa: F811
    api.side_effect = answers("A1")
    run_chat(ChatOptions(), make_app(), script("one", "/think off"))  # then Ctrl-D, no other message
    (conv,) = saved(env)
    assert conv.options == {"thinking": False}


def test_ask_c_continues_with_the_chat_choice_unless_a_flag_or_preset_says_otherwise(make_app, env, api):  # noqa: F811
    from glm_cli.commands.ask import AskOptions

    api.side_effect = answers("A1")
    run_chat(ChatOptions(), make_app(), script("/think off", "one"))
    prior = load_conversation(env, "1")
    app = make_app()
    assert conversation_settings(app, AskOptions(), prior).thinking is False
    assert conversation_settings(app, AskOptions(think=True), prior).thinking is True
    assert conversation_settings(app, AskOptions(), prior, preset="review").thinking is False  # review leaves it
    write_config(env, "presets:\n  deep: {thinking: true}\n")
    assert conversation_settings(make_app(), AskOptions(), prior, preset="deep").thinking is True


def test_usage_counts_an_interrupted_answer_whose_usage_was_not_reported(make_app, api):  # noqa: F811
    api.side_effect = [
        interrupted_stream(sse_body(chunk(reasoning="hmm "), chunk(content="half an ans"), done=False)),
        answers("A2")(None),
    ]
    app = make_app()
    run_chat(ChatOptions(), app, script("one", "/usage", "two", "/usage"))
    first, second = [line for line in app.ios.stderr.getvalue().splitlines() if "interrupted answer" in line]
    assert (
        first
        == second
        == "1 interrupted answer: usage not reported (15 characters received; the request may still be billed)"
    )
    assert "no usage reported yet" in app.ios.stderr.getvalue()  # not "no tokens used yet"


def test_usage_includes_what_an_interrupted_answer_reported(make_app, api):  # noqa: F811
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    api.side_effect = [interrupted_stream(sse_body(chunk(content="half", usage=usage), done=False))]
    app = make_app()
    run_chat(ChatOptions(), app, script("one", "/usage"))
    err = app.ios.stderr.getvalue()
    assert "in 7 · out 3" in err and "interrupted answer" not in err


def test_input_history_is_created_private_and_an_old_open_one_is_made_private(make_app, env):
    path = Path(env["XDG_DATA_HOME"]) / "glm" / "chat-input-history"
    prompt_with("first\r", make_app, env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # as an older glm left it
    prompt_with("second\r", make_app, env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "+second" in path.read_text()
