"""An answer that breaks off mid-stream in chat (an error frame, a cut connection) keeps what was shown in the
conversation, marked interrupted, as after Ctrl-C; the error is still said."""

from __future__ import annotations

import json

import httpx

from glm_cli.commands.chat import ChatOptions, run_chat
from tests.chat.test_chat import answers, api, bodies, saved, script  # noqa: F401
from tests.conftest import chunk, sse_body


def error_frame_after(*pieces: bytes) -> httpx.Response:
    frame = json.dumps({"error": {"code": "500", "message": "boom"}}).encode()
    return httpx.Response(200, content=b"".join(pieces) + b"data: " + frame + b"\n\n")


def test_a_broken_answer_stays_in_the_conversation(make_app, env, api):  # noqa: F811
    api.side_effect = [
        error_frame_after(sse_body(chunk(reasoning="hmm "), chunk(content="half an ans"), done=False)),
        answers("A2")(None),
    ]
    app = make_app()
    run_chat(ChatOptions(), app, script("one", "two"))
    err = app.ios.stderr.getvalue()
    assert "the answer broke off" in err and "boom" in err
    assert "[the answer broke off: the partial answer is kept; /retry asks again]" in err
    assert bodies(api)[1]["messages"][:2] == [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "half an ans"},
    ]
    (conv,) = saved(env)
    assert conv.messages[1].interrupted and conv.messages[1].content == "half an ans"


def test_an_error_before_any_answer_still_drops_the_message(make_app, env, api):  # noqa: F811
    api.side_effect = [error_frame_after(), answers("A2")(None)]
    app = make_app()
    run_chat(ChatOptions(), app, script("one", "two"))
    assert "partial answer is kept" not in app.ios.stderr.getvalue()
    assert bodies(api)[1]["messages"] == [{"role": "user", "content": "two"}]
