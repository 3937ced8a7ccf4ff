"""render_stream fed with plain deltas: exact bytes when piped, rendered-once blocks on a TTY, clean interrupts."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from glm_cli.events import IDLE, ContentDelta, Finish, ReasoningDelta, ToolCallDelta, Usage
from glm_cli.iostreams import IOStreams
from glm_cli.render import Pace, format_usage_line, render_stream, write_diagnostic
from tests.conftest import ROOT, wait_until

ESC = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
DOC = (
    "# Big Title\n\nSome **bold** words\nover two lines.\n\n- first item\n- second item\n  - nested item\n\n"
    "1. one\n2. two\n\n```python\ndef f():\n\n    return 1\n```\nafter the fence\n\n> a quote\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\nThe end."
)


def screen(raw: str) -> str:
    """Replay output like a terminal would (CR, LF, cursor up, erase line) and return what stays visible."""
    rows: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(raw):
        m = ESC.match(raw, i)
        if m:
            i = m.end()
            if m.group(2) == "A":
                row = max(0, row - int(m.group(1) or 1))
            elif m.group(2) == "K":
                rows[row] = [] if m.group(1) == "2" else rows[row][:col]
            continue
        ch, i = raw[i], i + 1
        if ch == "\n":
            row, col = row + 1, 0
            rows.extend([] for _ in range(row + 1 - len(rows)))
        elif ch == "\r":
            col = 0
        else:
            line = rows[row]
            line.extend(" " * (col - len(line)))
            line[col : col + 1] = [ch]
            col += 1
    while len(rows) > row + 1 and not rows[-1]:  # erased rows below the cursor are just empty screen
        rows.pop()
    return "\n".join("".join(r).rstrip() for r in rows)


def pieces(text: str, size: int = 3) -> list[ContentDelta]:
    return [ContentDelta(text[i : i + size]) for i in range(0, len(text), size)]


class Ticks:
    """A clock for Pace: each reading moves it on by one second; no real time passes."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def redraws(every: int = 8) -> Pace:
    """A pace whose open tail is redrawn at every `every`-th write (the throttle driven by Ticks)."""
    return Pace(clock=Ticks(), redraw=every - 0.5, spinner=0.001)


def after_spinner(ios: IOStreams, deltas: list, needle: str = "waiting") -> Iterator:
    """Yield the deltas once the spinner has visibly drawn `needle` on stderr."""
    wait_until(lambda: needle in ios.stderr.getvalue())
    yield from deltas


def whole_document(text: str, width: int = 80) -> str:
    """Render text in one go with rich, as the reference for what the screen should show."""
    from rich.console import Console
    from rich.markdown import Markdown

    out = io.StringIO()
    Console(file=out, force_terminal=True, width=width, _environ={}).print(Markdown(text))
    return screen(out.getvalue())


def tty(**kw) -> IOStreams:
    return IOStreams.for_test(stdout_tty=True, **kw)


# --- piped stdout: the model's text, byte for byte ---------------------------------------------


@pytest.mark.parametrize(
    ("deltas", "expected"),
    [
        (["Hel", "lo 世", "界 🎉", "\n\nbye"], "Hello 世界 🎉\n\nbye\n"),
        (["# Title\n", "**bold** `code`\n"], "# Title\n**bold** `code`\n"),
        (["ends with blank\n\n"], "ends with blank\n\n"),
        (["no newline"], "no newline\n"),
        (["", ""], ""),
        ([], ""),
    ],
)
def test_pipe_writes_raw_text_and_one_trailing_newline(deltas, expected):
    ios = IOStreams.for_test()
    reply = render_stream([ContentDelta(d) for d in deltas], ios, show_reasoning=False)
    assert ios.stdout.getvalue() == expected
    assert reply.content == "".join(deltas) and not reply.interrupted
    assert ios.stderr.getvalue() == ""


def test_markdown_false_on_a_tty_is_raw():
    ios = tty()
    render_stream(pieces("# Title\n\n- item"), ios, show_reasoning=False, markdown=False)
    assert ios.stdout.getvalue() == "# Title\n\n- item\n"


def test_pipe_writes_what_it_holds_when_the_stream_waits_and_at_the_end():
    # Not written and flushed per delta: at each IDLE, the stream's "about to wait for the server".
    ios = IOStreams.for_test()
    seen: list[str] = []
    flushes: list[str] = []
    ios.stdout.flush = lambda: flushes.append(ios.stdout.getvalue())  # type: ignore[method-assign]

    def stream():
        yield from [ContentDelta("one "), ContentDelta("two "), IDLE]
        seen.append(ios.stdout.getvalue())
        yield ContentDelta("three")
        seen.append(ios.stdout.getvalue())

    render_stream(stream(), ios, show_reasoning=False)
    assert seen == ["one two ", "one two "]
    assert flushes == ["one two ", "one two three\n"]


def test_pipe_path_imports_no_rich():
    code = (
        "import io, sys\n"
        "from glm_cli.events import ContentDelta, ReasoningDelta\n"
        "from glm_cli.iostreams import IOStreams\n"
        "from glm_cli.render import render_stream, write_diagnostic, format_usage_line\n"
        "from glm_cli.events import Usage\n"
        "ios = IOStreams(stdin=sys.stdin, stdout=sys.stdout, stderr=io.StringIO(), stderr_tty=True)\n"
        "render_stream([ReasoningDelta('hm'), ContentDelta('# hi **x**')], ios, show_reasoning=True)\n"
        "write_diagnostic(ios, format_usage_line(Usage(1, 2, 3), None), 'dim')\n"
        "print('rich' in sys.modules, 'rich.console' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout == "# hi **x**\nFalse False\n"


def test_broken_pipe_propagates():
    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    ios = IOStreams.for_test()
    ios.stdout = Broken()
    with pytest.raises(BrokenPipeError) as exc:
        render_stream(pieces("hello"), ios, show_reasoning=False)
    # written when the stream waits or ends (here: at its end), so all of it was received
    assert exc.value.partial_reply.content == "hello"  # type: ignore[attr-defined]


# --- reasoning: stderr only, when asked ---------------------------------------------------------


def test_reasoning_shown_plain_on_stderr_then_a_blank_line():
    ios = IOStreams.for_test()
    reply = render_stream(
        [ReasoningDelta("let me "), ReasoningDelta("think"), ContentDelta("Answer.")], ios, show_reasoning=True
    )
    assert ios.stdout.getvalue() == "Answer.\n"
    assert ios.stderr.getvalue() == "Thinking...\nlet me think\n...done thinking.\n\n"  # no colour: framed in words
    assert reply.reasoning == "let me think" and reply.content == "Answer."


def test_reasoning_hidden():
    ios = IOStreams.for_test(stderr_tty=True)
    reply = render_stream([ReasoningDelta("secret"), ContentDelta("Answer.")], ios, show_reasoning=False)
    assert ios.stderr.getvalue() == "" and ios.stdout.getvalue() == "Answer.\n"
    assert reply.reasoning == "secret"


def test_reasoning_only_ends_on_a_fresh_line():
    ios = IOStreams.for_test()
    render_stream([ReasoningDelta("hmm")], ios, show_reasoning=True)
    assert ios.stderr.getvalue() == "Thinking...\nhmm\n...done thinking.\n" and ios.stdout.getvalue() == ""


@pytest.mark.parametrize("stdout_tty", [False, True])
def test_reasoning_never_on_stdout(stdout_tty):
    ios = IOStreams.for_test(stdout_tty=stdout_tty, stderr_tty=True)
    render_stream([ReasoningDelta("secret reasoning"), *pieces("The answer.")], ios, show_reasoning=True, spinner=False)
    assert "secret" not in ios.stdout.getvalue() and "The answer." in screen(ios.stdout.getvalue())
    assert "\x1b[2msecret reasoning\x1b[0m" in ios.stderr.getvalue()  # dim on a colour stderr


def test_no_colour_means_no_ansi_on_stderr():
    ios = IOStreams.for_test(stdout_tty=True, stderr_tty=True, no_color=True)
    render_stream(
        after_spinner(ios, [ReasoningDelta("thinking hard"), *pieces("**Bold** answer")]),
        ios,
        show_reasoning=True,
        pace=redraws(1),
    )
    err = ios.stderr.getvalue()
    assert "thinking hard" in err and "\x1b" not in err
    assert not re.search(r"\x1b\[[0-9;]*m", ios.stdout.getvalue())  # no SGR on stdout either
    assert screen(ios.stdout.getvalue()).strip() == "Bold answer"


# --- spinner --------------------------------------------------------------------------------------


def test_spinner_on_a_tty_stderr_leaves_no_residue():
    ios = IOStreams.for_test(stderr_tty=True)
    render_stream(after_spinner(ios, [ContentDelta("hi")]), ios, show_reasoning=False, pace=redraws(1))
    err = ios.stderr.getvalue()
    assert "waiting" in err  # it was shown...
    assert screen(err).strip() == ""  # ...and fully erased
    assert ios.stdout.getvalue() == "hi\n"


@pytest.mark.parametrize(("stderr_tty", "spinner"), [(False, True), (True, False)])
def test_no_spinner_off_a_tty_or_when_disabled(stderr_tty, spinner):
    ios = IOStreams.for_test(stderr_tty=stderr_tty)

    def deltas():
        spinners.append([t.name for t in threading.enumerate() if t.name == "glm-spinner"])
        yield ContentDelta("hi")

    spinners: list[list[str]] = []
    render_stream(deltas(), ios, show_reasoning=False, spinner=spinner, pace=redraws(1))
    assert spinners == [[]]  # no spinner thread was ever started
    assert ios.stderr.getvalue() == ""


# --- TTY: markdown rendered block by block -------------------------------------------------------


@pytest.mark.parametrize("pace", [Pace(), redraws()], ids=["fast", "with-redraws"])
def test_tty_screen_matches_rendering_the_whole_document(pace):
    ios = tty()
    reply = render_stream(pieces(DOC), ios, show_reasoning=False, pace=pace)
    raw = ios.stdout.getvalue()
    assert reply.content == DOC
    assert screen(raw) == whole_document(DOC)
    assert "\x1b[" in raw and raw.endswith("\n") and raw.rfind("\x1b[?25h") >= raw.rfind("\x1b[?25l")


def test_tty_each_block_appears_exactly_once():
    ios = tty()
    render_stream(pieces(DOC), ios, show_reasoning=False, pace=redraws())
    raw, text = ios.stdout.getvalue(), screen(ios.stdout.getvalue())
    assert raw.count("\x1b[1A") > 3  # the open tail really was drawn and erased
    for needle in [
        "Big Title",
        "Some bold words over two lines.",
        "• first item",
        "• second item",
        "• nested item",
        "1 one",
        "2 two",
        "def f():",
        "return 1",
        "after the fence",
        "▌ a quote",
        "The end.",
    ]:
        assert text.count(needle) == 1, needle
    assert "**" not in text and "```" not in text and "# Big" not in text


def test_tty_finished_blocks_are_printed_before_the_stream_ends():
    ios = tty()
    snapshots = []

    def stream():
        yield from pieces("# Heading\n\nFirst paragraph.\n\nSecond para")
        snapshots.append(ios.stdout.getvalue())
        yield ContentDelta("graph.")

    render_stream(stream(), ios, show_reasoning=False, pace=redraws(1))  # finished blocks print at a redraw
    heading = whole_document("# Heading").splitlines()[0]
    assert heading.strip() == "Heading"
    # the heading and the first paragraph were printed permanently while the stream was still open
    assert screen(snapshots[0]).splitlines()[:3] == [heading, "", "First paragraph."]
    assert screen(ios.stdout.getvalue()) == "\n".join([heading, "", "First paragraph.", "", "Second paragraph.", ""])


def test_tty_fence_keeps_blank_lines_and_markdown_inside():
    code = "Intro:\n\n```\n# not a heading\n\n- not a list\n\n\nlast line\n```\n\n- a real item"
    ios = tty()
    render_stream(pieces(code, 2), ios, show_reasoning=False, pace=redraws())
    text = screen(ios.stdout.getvalue())
    assert text == whole_document(code)
    assert "# not a heading" in text and "- not a list" in text and "• a real item" in text


def test_tty_unclosed_fence_and_numbered_paragraph():
    doc = "Results for\n2024. Fine.\n\n```sh\necho hi"
    ios = tty()
    render_stream(pieces(doc), ios, show_reasoning=False)
    assert screen(ios.stdout.getvalue()) == whole_document(doc)


def test_tty_empty_content_prints_nothing():
    ios = tty()
    reply = render_stream(
        [
            ToolCallDelta(0, id="c1", name="f", arguments='{"a"'),
            ToolCallDelta(0, arguments=": 1}"),
            Finish("tool_calls", Usage(5, 6, 11)),
        ],
        ios,
        show_reasoning=False,
    )
    assert ios.stdout.getvalue() == ""
    assert reply.tool_calls[0].arguments == '{"a": 1}' and reply.tool_calls[0].name == "f"
    assert reply.finish_reason == "tool_calls" and reply.usage == Usage(5, 6, 11)


def test_tty_long_open_code_block_only_redraws_a_screenful():
    body = "".join(f"line {i}\n" for i in range(400))
    ios = tty()
    ios.environ["LINES"] = "20"
    render_stream(pieces("```\n" + body + "```\n", 40), ios, show_reasoning=False, pace=redraws(20))
    raw = ios.stdout.getvalue()
    erased = [len(m.group(0)) // len("\x1b[1A\x1b[2K") for m in re.finditer(r"(?:\x1b\[1A\x1b\[2K)+", raw)]
    assert len(erased) > 3 and max(erased) <= 20  # each tail redraw was at most a screenful, not 400 lines
    text = screen(raw)
    assert text.count("line 399") == 1 and text.count("line 0\n") == 1
    assert text == whole_document("```\n" + body + "```\n")


# --- interrupts ------------------------------------------------------------------------------------


def interrupted(exc: BaseException, *deltas) -> Iterator:
    yield from deltas
    raise exc


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("connection dropped")])
def test_interrupt_in_pipe_mode_keeps_partial_reply(exc):
    ios = IOStreams.for_test(stderr_tty=True)
    with pytest.raises(type(exc)) as info:
        render_stream(interrupted(exc, ReasoningDelta("hm"), ContentDelta("partial ans")), ios, show_reasoning=False)
    partial = info.value.partial_reply  # type: ignore[attr-defined]
    assert partial.content == "partial ans" and partial.reasoning == "hm" and partial.interrupted
    assert ios.stdout.getvalue() == "partial ans\n"


def test_interrupt_on_a_tty_keeps_what_was_shown_and_restores_the_cursor():
    ios = tty(stderr_tty=True)
    with pytest.raises(KeyboardInterrupt) as info:
        render_stream(
            interrupted(KeyboardInterrupt(), ReasoningDelta("hmm"), *pieces("# Done\n\nhalf a sent")),
            ios,
            show_reasoning=True,
            pace=redraws(4),
        )
    assert info.value.partial_reply.content == "# Done\n\nhalf a sent"  # type: ignore[attr-defined]
    raw = ios.stdout.getvalue()
    assert screen(raw) == whole_document("# Done\n\nhalf a sent")
    assert raw.endswith("\n") and raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l")
    assert screen(ios.stderr.getvalue()) == "hmm\n\n"  # reasoning, then a blank line


# --- usage line and diagnostics --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "cost", "expected"),
    [
        (
            Usage(12345, 512, 12857, 10240, 300),
            "$0.0123",
            "in 12,345 (cached 10,240, 83%) · out 512 (reasoning 300) · $0.0123",
        ),
        (Usage(100, 50, 150), None, "in 100 · out 50"),
        (Usage(0, 7, 7, 0, 0), "¥0.01", "in 0 · out 7 · ¥0.01"),
        (Usage(2000, 1, 2001, 2000, 0), None, "in 2,000 (cached 2,000, 100%) · out 1"),
    ],
)
def test_format_usage_line(usage, cost, expected):
    assert format_usage_line(usage, cost) == expected


def test_write_diagnostic_colours_only_a_colour_stderr():
    plain, coloured, no_colour = (
        IOStreams.for_test(),
        IOStreams.for_test(stderr_tty=True),
        IOStreams.for_test(stderr_tty=True, no_color=True),
    )
    for ios in (plain, coloured, no_colour):
        write_diagnostic(ios, "in 1 · out 2\n", "bold red")
        write_diagnostic(ios, "note")
    assert plain.stderr.getvalue() == no_colour.stderr.getvalue() == "in 1 · out 2\nnote\n"
    assert coloured.stderr.getvalue() == "\x1b[1;31min 1 · out 2\x1b[0m\nnote\n"
