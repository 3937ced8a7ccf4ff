"""Reasoning shown without colour is framed in words (issue 13 item 16): with NO_COLOR (or TERM=dumb, or stderr
not a terminal) it is not dimmed, so `Thinking...` and `...done thinking.` tell it from the answer."""

from __future__ import annotations

import subprocess

from glm_cli.events import ContentDelta, ReasoningDelta, ToolCallDelta
from glm_cli.iostreams import IOStreams
from glm_cli.render import render_stream
from tests.conftest import glm_executable
from tests.test_render import after_spinner, pieces, redraws


def test_no_color_on_a_terminal_frames_the_reasoning_and_never_dims_it():
    ios = IOStreams.for_test(stdout_tty=True, stderr_tty=True, no_color=True)
    deltas = [ReasoningDelta("weigh "), ReasoningDelta("it up"), *pieces("The answer.")]
    render_stream(after_spinner(ios, deltas), ios, show_reasoning=True, pace=redraws(1))
    err = ios.stderr.getvalue()
    assert "Thinking...\nweigh it up\n...done thinking.\n" in err and "\x1b[2m" not in err


def test_colour_dims_the_reasoning_and_adds_no_words():
    ios = IOStreams.for_test(stderr_tty=True)
    render_stream([ReasoningDelta("weigh it up"), ContentDelta("A.")], ios, show_reasoning=True, spinner=False)
    assert ios.stderr.getvalue() == "\x1b[2mweigh it up\x1b[0m\n\n"


def test_each_block_of_reasoning_gets_its_own_frame():
    ios = IOStreams.for_test()
    deltas = [ReasoningDelta("one"), ContentDelta("A"), ReasoningDelta("two\n"), ContentDelta("B")]
    render_stream(deltas, ios, show_reasoning=True)
    assert ios.stderr.getvalue() == "Thinking...\none\n...done thinking.\n\nThinking...\ntwo\n...done thinking.\n\n"


def test_a_tool_call_after_reasoning_closes_the_frame():
    ios = IOStreams.for_test()
    call = ToolCallDelta(0, id="c1", name="f", arguments="{}")
    render_stream([ReasoningDelta("call it"), call], ios, show_reasoning=True)
    assert ios.stderr.getvalue() == "Thinking...\ncall it\n...done thinking.\n"


def test_glm_ask_show_thinking_into_a_file_is_framed(srv, environ):
    srv.reply(content="The answer.", reasoning="Let me see.")
    out = subprocess.run(
        [*glm_executable(), "ask", "--show-thinking", "q"], env=environ, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout == "The answer.\n"
    assert "Thinking...\nLet me see.\n...done thinking.\n" in out.stderr
