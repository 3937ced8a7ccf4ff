"""Hardening of tool approval and tool-call arguments (issue 11, item 16 and the property tests).

Before saying yes, the user sees every argument, whole, with nothing a hostile model could hide or
overwrite on the terminal; any string as arguments ends in a tool result sent back to the model.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import unicodedata

import pytest
import respx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from glm_cli.app import App
from glm_cli.events import Reply, ToolCall
from glm_cli.iostreams import IOStreams
from glm_cli.tools.files import ToolSpec
from glm_cli.tools.loop import Approver, Toolbox, run_tool_loop
from tests.conftest import glm_executable
from tests.tools.test_tool_loop import URL, answer, ask, bodies

PY = sys.executable
ECHO = (PY, "-c", "import sys; sys.stdout.write(sys.stdin.read())")  # the tool's stdout is its arguments


@pytest.fixture
def echo_tool(tmp_path) -> str:
    path = tmp_path / "write_file.json"
    path.write_text(json.dumps({"name": "write_file", "command": list(ECHO)}))
    return str(path)


def terminal_app(env, answers: str) -> App:
    """An App whose stdin and stderr are a terminal (so glm asks), without colour (so escapes are ours)."""
    ios = IOStreams.for_test(answers, stdin_tty=True, stderr_tty=True, no_color=True)
    return App(ios=ios, environ=dict(env), sleep=lambda s: None)


def asked(app: App, tool: str, calls: list) -> tuple[str, list[dict]]:
    """Run `ask` with TOOL: the model makes CALLS, then answers; return stderr and the bodies sent."""
    with respx.mock:
        route = respx.post(URL).mock(side_effect=[answer(calls=calls), answer("done")])
        ask(app, tools=(tool,))
    return app.ios.stderr.getvalue(), bodies(route)


SPINNER = re.compile(r"\r[\u2800-\u28ff] (?:waiting|thinking)… *|\r +\r")  # its frames, and its erasure


def hidden_characters(text: str) -> list[str]:
    """Characters that act on the terminal or hide text (controls but newline; bidi, zero-width), outside
    of glm's own spinner."""
    text = SPINNER.sub("", text)
    return [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")]


def test_an_argument_past_300_characters_is_shown_before_the_question(env, echo_tool):
    args = {"content": "harmless text " * 30, "path": "/home/user/.ssh/authorized_keys"}
    app = terminal_app(env, "y\n")
    err, sent = asked(app, echo_tool, [("c1", "write_file", args)])
    question = err.index("run tool write_file?")
    assert '"path": "/home/user/.ssh/authorized_keys"' in err[:question]
    assert json.loads(sent[1]["messages"][-1]["content"]) == args  # "y": it ran


def test_terminal_escapes_and_bidi_controls_in_arguments_are_made_visible(env, echo_tool):
    # raw ESC and CR in the text the model sent (not even valid JSON), then a right-to-left override
    raw = '{"path": "notes.txt\x1b[2K\r\x1b[1Arm -rf ~"}'
    bidi = {"path": "report\u202etxt.exe", "note": "zero\u200bwidth\u2028line\x9b31m"}
    app = terminal_app(env, "n\n")
    err, sent = asked(app, echo_tool, [("c1", "write_file", raw), ("c2", "write_file", bidi)])
    assert hidden_characters(err) == []
    assert "notes.txt\\u001b[2K\\u000d\\u001b[1Arm -rf ~" in err  # what the model sent, every character visible
    assert "report\\u202etxt.exe" in err and "zero\\u200bwidth\\u2028line\\u009b31m" in err
    results = [m["content"] for m in sent[1]["messages"] if m["role"] == "tool"]
    assert results[0].startswith("error: the arguments are not valid JSON")
    assert results[1] == "error: the user did not allow this tool call; it was not run"
    assert err.count("run tool write_file?") == 1  # arguments that are not JSON run nothing: no question


def test_long_arguments_show_a_page_and_v_shows_them_all(env, echo_tool):
    args = {"lines": [f"line {i}" for i in range(200)], "path": "/etc/cron.d/evil"}
    app = terminal_app(env, "v\ny\n")
    err, sent = asked(app, echo_tool, [("c1", "write_file", args)])
    first, second = err.split("run tool write_file?")[:2]
    assert "line 10" in first and "line 199" not in first and "/etc/cron.d/evil" not in first
    assert "more lines" in first and "[v]iew all" in second
    assert '"line 199"' in second and '"path": "/etc/cron.d/evil"' in second  # after "v", every line
    assert err.count("run tool write_file?") == 2  # asked again after showing them
    assert json.loads(sent[1]["messages"][-1]["content"]) == args


def test_one_huge_line_is_cut_on_the_page_and_whole_on_v(env, echo_tool):
    args = {"content": "A" * 20_000 + " and then /etc/passwd"}
    app = terminal_app(env, "v\nn\n")
    err, _ = asked(app, echo_tool, [("c1", "write_file", args)])
    first, second = err.split("run tool write_file?")[:2]
    assert "/etc/passwd" not in first and "v shows them all" in first and len(first) < 6000
    assert "A" * 20_000 + " and then /etc/passwd" in second


def test_short_arguments_keep_the_one_line_question(env, echo_tool):
    app = terminal_app(env, "y\n")
    err, _ = asked(app, echo_tool, [("c1", "write_file", {"path": "a.txt"})])
    assert 'tool: write_file {"path": "a.txt"}\nrun tool write_file? [y]es / [n]o / [a]lways for write_file: ' in err


def test_yes_shows_a_one_line_summary_without_hidden_characters(env, echo_tool):
    app = App(ios=IOStreams.for_test(no_color=True), environ=env, sleep=lambda s: None)
    with respx.mock:
        respx.post(URL).mock(
            side_effect=[answer(calls=[("c1", "write_file", '{"p": "\x1b]0;pwned\x07"}')]), answer("ok")]
        )
        ask(app, tools=(echo_tool,), yes=True)
    err = app.ios.stderr.getvalue()
    assert hidden_characters(err) == [] and 'tool: write_file {"p": "\\u001b]0;pwned\\u0007"}' in err


def test_the_streamed_arguments_in_the_spinner_hide_nothing():
    from glm_cli.events import ToolCallDelta
    from glm_cli.render import render_stream

    ios = IOStreams.for_test(stderr_tty=True, no_color=True)

    def deltas():
        yield ToolCallDelta(0, id="c1", type="function", name="write_file")
        yield ToolCallDelta(0, arguments='{"path": "\x1b[2J\u202eexe.txt"}')
        deadline = time.monotonic() + 30
        while "exe.txt" not in ios.stderr.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)  # until the spinner has drawn the arguments

    render_stream(deltas(), ios, show_reasoning=False)
    err = ios.stderr.getvalue()
    assert 'write_file {"path": "\\u001b[2J\\u202eexe.txt"}' in err
    assert "\x1b" not in err and "\u202e" not in err


@pytest.mark.slow
def test_approval_on_a_real_terminal_shows_the_whole_arguments(srv, environ, echo_tool):
    pexpect = pytest.importorskip("pexpect")
    path = "/home/user/.bashrc"
    srv.reply(content="", tool_calls=[{"name": "write_file", "arguments": {"content": "x" * 400, "path": path}}])
    srv.reply(content="Written.")
    exe, *pre = glm_executable()
    child = pexpect.spawn(
        exe,
        [*pre, "ask", "--tool", echo_tool, "--no-log", "--raw", "q"],
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 100),
        env={**environ, "TERM": "dumb"},
    )
    child.expect(r"run tool write_file\? \[y\]es / \[n\]o / \[a\]lways for write_file: ")
    assert f'"path": "{path}"' in child.before
    child.send("y\r")
    child.expect("Written.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert json.loads(srv.chat_requests()[1]["messages"][-1]["content"])["path"] == path


# ------------------------------------------------------------------------- property: any arguments string

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(st.characters(codec=None)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
ARGUMENTS = (
    st.text(st.characters(codec=None))  # anything, lone surrogates and controls included
    | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5).map(lambda d: json.dumps(d, ensure_ascii=False))
    | JSON_VALUES.map(json.dumps)
)


@settings(max_examples=200, deadline=None)
@given(arguments=ARGUMENTS, interactive=st.booleans())
@example(arguments="[" * 100_000, interactive=True)  # nesting deeper than the decoder's recursion limit
@example(arguments='{"a": ' * 900 + "1" + "}" * 900, interactive=True)  # deep, but decodable
@example(arguments='{"n": ' + "9" * 5000 + "}", interactive=True)  # past int's 4300-digit limit
@example(arguments='{"s": "\ud800"}', interactive=True)  # a lone surrogate, sent raw
@example(arguments='{"s": NaN, "t": -Infinity}', interactive=False)
@example(arguments="", interactive=True)
def test_any_arguments_string_ends_in_a_tool_result_for_the_model(arguments, interactive):
    tool = ToolSpec("t", command=("cat",), timeout=30)  # its output (shown, sent back): the arguments
    ios = IOStreams.for_test("v\ny\n", stdin_tty=interactive, stderr_tty=interactive, no_color=True)
    approver = Approver(ios, yes=not interactive)
    added: list[tuple[str, str]] = []
    replies = iter([Reply(tool_calls=(ToolCall("c1", "t", arguments),)), Reply(content="done")])
    result = run_tool_loop(
        lambda: next(replies),
        lambda cid, text: added.append((cid, text)),
        toolbox=Toolbox([tool], environ=dict(os.environ)),
        approver=approver,
        ios=ios,
    )
    assert result.reply.content == "done"
    [(cid, content)] = added
    assert cid == "c1" and isinstance(content, str)
    [run] = result.runs
    assert run.result.ok == (not content.startswith("error:"))
    if run.result.ok:  # the tool got the arguments exactly (a lone surrogate as its JSON escape)
        sent = (arguments or "{}").encode("utf-8", "backslashreplace").decode("utf-8")
        assert content == sent.rstrip("\n")
    assert hidden_characters(ios.stderr.getvalue()) == []


def test_arguments_that_are_not_a_json_object_run_nothing():
    tool = ToolSpec("t", command=ECHO, timeout=30)
    box = Toolbox([tool], environ=dict(os.environ))
    assert box.run(tool, '{"a": 1}').content == '{"a": 1}'
    assert box.run(tool, "[1]").content.startswith("error: the arguments must be a JSON object")
    res = box.run(tool, "[" * 100_000)
    assert not res.ok
    assert res.content.startswith("error: the arguments are not valid JSON (nested deeper than 100 levels)")
