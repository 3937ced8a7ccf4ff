"""An answer that broke off mid-stream was shown (and may be billed): `glm ask` keeps it in the history,
marked interrupted, as it does an answer stopped with Ctrl-C."""

from __future__ import annotations

import json

from tests.conftest import run_glm
from tests.fake_server import Fault


def test_a_broken_answer_is_logged_as_interrupted(srv, environ):
    srv.reply(content="partial answer", reasoning="")
    srv.fault(Fault(kind="error_frame", after_events=3, message="boom"))
    out = run_glm(["ask", "hi"], environ)
    assert out.returncode == 6 and out.stdout == "partial answ\n"
    listed = run_glm(["history", "list", "--json"], environ)
    (conversation,) = json.loads(listed.stdout)
    shown = run_glm(["history", "show", str(conversation["id"]), "--json"], environ)
    assert shown.returncode == 0, shown.stderr
    messages = json.loads(shown.stdout)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["content"] == "partial answ" and messages[1]["interrupted"] is True


def test_no_log_keeps_nothing(srv, environ):
    srv.reply(content="partial answer", reasoning="")
    srv.fault(Fault(kind="error_frame", after_events=3, message="boom"))
    assert run_glm(["ask", "--no-log", "hi"], environ).returncode == 6
    listed = run_glm(["history", "list", "--json"], environ)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
