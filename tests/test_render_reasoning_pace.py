"""Reasoning shown on a terminal is written at the redraw rate, as the open tail is (issue 14): a fast stream of
reasoning deltas costs a few writes, not one styled write and flush each; what stays on the screen is unchanged,
and nothing waiting to be written is ever lost or shown after the answer."""

from __future__ import annotations

import io

import pytest

from glm_cli.events import ContentDelta, ReasoningDelta, ToolCallDelta, Waiting
from glm_cli.iostreams import IOStreams
from glm_cli.render import Pace, render_stream
from tests.test_render import pieces, redraws, screen, whole_document

REASONING = "Let me think about it. First, the precedence: a flag beats the environment.\n\nSecond, the key. " * 5


class Flushes(io.StringIO):
    """A stderr that records what it held at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def flush(self) -> None:
        self.seen.append(self.getvalue())


def terminal(*, stdout_tty: bool = True, no_color: bool = False) -> IOStreams:
    ios = IOStreams.for_test(stdout_tty=stdout_tty, stderr_tty=True, no_color=no_color)
    ios.stderr = Flushes()
    return ios


def thinking(text: str = REASONING, size: int = 4) -> list[ReasoningDelta]:
    return [ReasoningDelta(text[i : i + size]) for i in range(0, len(text), size)]


def still() -> Pace:
    """A pace whose clock never moves: after the first write, nothing is due before the end."""
    return Pace(clock=lambda: 0.0, redraw=1.0, spinner=0.001)


def test_a_burst_of_reasoning_is_written_in_a_few_pieces_not_one_per_delta():
    ios = terminal()
    deltas = thinking()
    reply = render_stream([*deltas, *pieces("The answer.")], ios, show_reasoning=True, spinner=False, pace=still())
    assert len(deltas) > 100 and len(ios.stderr.seen) <= 3  # the first delta, the rest, the end
    assert ios.stderr.getvalue().count("\x1b[2m") <= 2
    assert screen(ios.stderr.getvalue()) == screen(REASONING + "\n\n")  # all of it, then a blank line
    assert screen(ios.stdout.getvalue()) == whole_document("The answer.")
    assert reply.reasoning == REASONING


@pytest.mark.parametrize("every", [1, 2, 7])
def test_reasoning_on_a_terminal_shows_the_same_text_at_any_pace(every: int):
    ios = terminal(no_color=every == 7)
    render_stream(
        [*thinking(size=3), *pieces("# Done\n\nok")], ios, show_reasoning=True, spinner=False, pace=redraws(every)
    )
    err = ios.stderr.getvalue()
    if every == 7:  # without colour: framed in words, as ever
        assert err == f"Thinking...\n{REASONING}\n...done thinking.\n\n"
    else:
        assert screen(err) == screen(REASONING + "\n\n")
    assert screen(ios.stdout.getvalue()) == whole_document("# Done\n\nok")


def test_reasoning_is_shown_at_the_redraw_rate_while_it_streams():
    now = [0.0]
    snapshots = []
    ios = terminal()

    def stream():
        yield ReasoningDelta("first ")  # nothing shown yet: written at once
        snapshots.append(screen(ios.stderr.getvalue()))
        now[0] = 0.5
        yield ReasoningDelta("second ")  # not due: waits
        snapshots.append(screen(ios.stderr.getvalue()))
        now[0] = 1.0
        yield ReasoningDelta("third")  # due: what waited is shown with it
        snapshots.append(screen(ios.stderr.getvalue()))
        yield ContentDelta("A.")

    render_stream(stream(), ios, show_reasoning=True, spinner=False, pace=Pace(clock=lambda: now[0], redraw=1.0))
    assert snapshots == ["first", "first", "first second third"]


def test_reasoning_waiting_to_be_written_comes_before_the_answer():
    ios = IOStreams.for_test(stderr_tty=True)  # stdout piped, stderr a terminal: one stream shows the order
    ios.stderr = ios.stdout
    render_stream([*thinking(), ContentDelta("Answer.")], ios, show_reasoning=True, spinner=False, pace=still())
    assert ios.stdout.getvalue().endswith("\x1b[0m\n\nAnswer.\n")
    assert screen(ios.stdout.getvalue()) == screen(REASONING + "\n\nAnswer.\n")


def test_reasoning_waiting_to_be_written_comes_before_a_retry_notice():
    ios = terminal()
    wait = Waiting("HTTP 503", 2.0, 2, 4)
    render_stream([*thinking("one two three"), wait], ios, show_reasoning=True, spinner=False, pace=still())
    shown = screen(ios.stderr.getvalue())
    assert "one two three" in shown and shown.index("one two three") < shown.index("glm: HTTP 503; retrying in")


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("connection dropped")])
def test_an_interrupt_still_shows_all_the_reasoning_received(exc: BaseException):
    ios = terminal()

    def stream():
        yield from thinking()
        raise exc

    with pytest.raises(type(exc)) as info:
        render_stream(stream(), ios, show_reasoning=True, spinner=False, pace=still())
    assert info.value.partial_reply.reasoning == REASONING  # type: ignore[attr-defined]
    assert screen(ios.stderr.getvalue()) == screen(REASONING + "\n")


def test_reasoning_into_a_pipe_is_still_written_per_delta():
    ios = IOStreams.for_test()  # stderr not a terminal: a program may read the reasoning as it comes
    ios.stderr = Flushes()
    deltas = thinking("one two three four", size=3)
    render_stream([*deltas, ContentDelta("A.")], ios, show_reasoning=True, pace=still())
    assert len(ios.stderr.seen) >= len(deltas)
    assert ios.stderr.getvalue() == "Thinking...\none two three four\n...done thinking.\n\n"


def test_reasoning_waiting_to_be_written_is_shown_when_a_tool_call_starts_streaming():
    ios = terminal()
    snapshots = []

    def stream():
        yield from thinking("I will call the tool now.")
        yield ToolCallDelta(0, id="c1", name="write_file", arguments='{"path": "a.txt", ')
        snapshots.append(screen(ios.stderr.getvalue()))  # its arguments may stream for a long time
        yield ToolCallDelta(0, arguments='"text": "..."}')

    render_stream(stream(), ios, show_reasoning=True, spinner=False, pace=still())
    assert snapshots == ["I will call the tool now."]
