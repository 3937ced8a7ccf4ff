"""THE streaming renderer: deltas in, terminal out, finished Reply back; rich is imported lazily."""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glm_cli.events import (
    ContentDelta,
    Event,
    Idle,
    ReasoningDelta,
    Reply,
    ReplyBuilder,
    ToolCallDelta,
    Usage,
    Waiting,
)
from glm_cli.iostreams import IOStreams

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live
    from rich.markdown import Markdown

REDRAW_INTERVAL = 1 / 12  # the open tail is redrawn at most this often, plus once at the end
SPINNER_INTERVAL = 0.1
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_SGR = {"bold": "1", "dim": "2", "italic": "3"} | {
    name: str(31 + n) for n, name in enumerate("red green yellow blue magenta cyan".split())
}
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r" {0,3}#{1,6}(?:\s|$)")
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")  # a thematic break: ---, * * *, ___
_ITEM = re.compile(r" ?(?:([-*+])|(\d{1,9})[.)])(?:\s|$)")  # top-level list item (indent 0-1)


@dataclass(frozen=True)
class Pace:
    """How the renderer reads time: the redraw throttle's clock and both intervals (tests drive them)."""

    clock: Callable[[], float] = time.monotonic
    redraw: float = REDRAW_INTERVAL
    spinner: float = SPINNER_INTERVAL


def render_stream(
    deltas: Iterable[Event],
    ios: IOStreams,
    *,
    show_reasoning: bool,
    markdown: bool | None = None,
    spinner: bool = True,
    pace: Pace = Pace(),
) -> Reply:
    """Show a stream of deltas and return the finished reply."""
    builder = ReplyBuilder()
    view: _View | None = None
    try:
        out = _MarkdownOut(ios, pace) if ios.stdout_tty and markdown is not False else _RawOut(ios)
        view = _View(ios, out, show_reasoning=show_reasoning, spinner=spinner, pace=pace)
        for delta in deltas:
            builder.add(delta)
            view.feed(delta)
        view.close()
    except BaseException as exc:
        if view is not None:
            with contextlib.suppress(Exception):  # cleanup must never mask the real error
                view.close()
        with contextlib.suppress(Exception):
            exc.partial_reply = builder.build(interrupted=True)  # type: ignore[attr-defined]
        raise
    return builder.build()


USAGE_UNKNOWN = "in ? · out ? (the server reported no usage)"


def format_usage_line(usage: Usage | None, cost: str | None) -> str:
    """Return `in 12,345 (cached 10,240, 83%) · out 512 (reasoning 300) · $0.0123` (unknown usage: USAGE_UNKNOWN)."""
    if usage is None:  # never zeros that are not true, nor a cost of them
        return USAGE_UNKNOWN
    prompt = f"in {usage.prompt_tokens:,}"
    details = []
    if usage.cached_tokens:
        pct = round(100 * usage.cached_tokens / usage.prompt_tokens) if usage.prompt_tokens else 0
        details.append(f"cached {usage.cached_tokens:,}, {pct}%")
    details += [f"{what} {n:,}" for what, n in (("images", usage.image_tokens), ("video", usage.video_tokens)) if n]
    if details:
        prompt += f" ({'; '.join(details)})"
    completion = f"out {usage.completion_tokens:,}"
    if usage.reasoning_tokens:
        completion += f" (reasoning {usage.reasoning_tokens:,})"
    return " · ".join([prompt, completion, *([cost] if cost else [])])


def write_diagnostic(ios: IOStreams, text: str, style: str | None = None) -> None:
    """Write one line to stderr, styled (e.g. "dim", "bold red") only when stderr takes colour."""
    line = text.rstrip("\n")
    codes = ";".join(_SGR[word] for word in (style or "").split() if word in _SGR)
    if codes and ios.color_stderr():
        line = f"\x1b[{codes}m{line}\x1b[0m"
    ios.stderr.write(line + "\n")
    ios.stderr.flush()


def visible(text: str) -> str:
    """Return TEXT with each character that acts on a terminal or hides text written as an escape (`\\u001b`):
    controls but newline, format characters (bidi overrides, zero-width), line separators, lone surrogates.

    What a model wrote (tool-call arguments) can then neither move the cursor, erase nor reorder what is shown.
    """
    return _MAYBE_HIDDEN.sub(_escape_hidden, text)


_MAYBE_HIDDEN = re.compile(r"[^\n\x20-\x7e]")
_HIDDEN = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def _escape_hidden(match: re.Match[str]) -> str:
    char = match.group()
    if unicodedata.category(char) not in _HIDDEN:
        return char
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


def stdout_console(ios: IOStreams) -> Console:
    """Return a rich Console on the terminal stdout, with IOStreams' width and colour decisions."""
    from rich.console import Console

    # _environ: rich then takes TERM/NO_COLOR/LINES from IOStreams' environment, not os.environ
    return Console(
        file=ios.stdout,
        force_terminal=True,
        width=ios.width,
        no_color=ios.no_color,
        color_system=None if ios.no_color else "auto",
        _environ=ios.environ,
    )


def render_table(
    ios: IOStreams, headers: list[str], rows: list[list[str]], *, caption: str | None = None, cut: int | None = None
) -> None:
    """Print a table of plain-text cells to a terminal stdout (listings such as `glm models`), one line a row.

    Column CUT (say, notes) is shortened with an ellipsis to fit the terminal, or left out when fewer than 10
    columns would be left for it; the other columns are never cut.
    """
    from rich.cells import cell_len, set_cell_size
    from rich.table import Table
    from rich.text import Text

    widths = [max(cell_len(cell) for cell in [header, *(row[i] for row in rows)]) for i, header in enumerate(headers)]
    if cut is not None and widths[cut] > (room := ios.width - sum(widths) + widths[cut] - (len(headers) - 1)):
        if room < 10:
            if caption:
                caption += f" (a wider terminal shows the {headers[cut]})"
            headers, rows = _without(headers, cut), [_without(row, cut) for row in rows]
        else:
            rows = [[*row[:cut], _ellipsis(row[cut], room, cell_len, set_cell_size), *row[cut + 1 :]] for row in rows]
    table = Table(
        box=None, header_style="bold", caption=caption, caption_justify="left", pad_edge=False, collapse_padding=True
    )
    for header in headers:
        table.add_column(header, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # Text: no markup parsing of ids or prices
    stdout_console(ios).print(table)


def _without(cells: list[str], index: int) -> list[str]:
    return cells[:index] + cells[index + 1 :]


def _ellipsis(text: str, width: int, cell_len: Callable[[str], int], set_cell_size: Callable[[str, int], str]) -> str:
    return text if cell_len(text) <= width else set_cell_size(text, width - 1) + "…"


class ProgressBar:
    """A transient live bar on stderr: a bar, done/total, and an info text read at each refresh."""

    def __init__(self, ios: IOStreams, total: int | None, info: Callable[[], str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn
        from rich.text import Text

        class InfoColumn(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(info(), style="dim", no_wrap=True, overflow="ellipsis")

        width = ios.width if ios.width >= 20 else 80  # a pty with no size set reports 0 columns
        console = Console(file=ios.stderr, force_terminal=True, no_color=not ios.color_stderr(), width=width)
        self.progress = Progress(
            BarColumn(bar_width=12), MofNCompleteColumn(), InfoColumn(), console=console, transient=True
        )
        self.task = self.progress.add_task("progress", total=total)

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def update(self, completed: int) -> None:
        self.progress.update(self.task, completed=completed)

    def note(self, text: str) -> None:
        """Print a line above the bar (the bar stays at the bottom)."""
        self.progress.console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)


# Reasoning shown without colour (NO_COLOR, TERM=dumb, stderr not a terminal) is framed by these lines, as
# ollama frames it, so that it cannot be read as the answer.
THINKING_START, THINKING_END = "Thinking...\n", "...done thinking.\n"


class _View:
    """Route deltas: content to the output, reasoning to stderr, spinner until there is something to show."""

    def __init__(
        self, ios: IOStreams, out: _RawOut | _MarkdownOut, *, show_reasoning: bool, spinner: bool, pace: Pace
    ) -> None:
        self.ios, self.out, self.show = ios, out, show_reasoning
        self.dim = ios.color_stderr()
        self.spinner = _Spinner(ios, pace) if spinner and ios.stderr_tty else None
        self.reasoning_open = False  # reasoning was shown and not yet ended with a newline/blank line
        self.reasoning_nl = True
        # On a terminal, reasoning is written as the open tail is redrawn: at most every pace.redraw s (a write
        # and a flush per delta were a fifth of the CPU of a thinking model's answer, issue 14); into a pipe, per
        # delta, for a program that reads it as it comes.
        self.thinking: list[str] = []  # reasoning received, not yet written
        self.thinking_at, self.clock = float("-inf"), pace.clock
        self.thinking_pace = pace.redraw if ios.stderr_tty else 0.0
        self.call: list[str] = ["", ""]  # the tool call being streamed (tool_stream): name, arguments so far

    def feed(self, delta: Event) -> None:
        if self.thinking and not isinstance(delta, ReasoningDelta):
            self._show_thinking()  # whatever comes next (answer, tool call, retry notice) comes after it
        if isinstance(delta, ContentDelta) and delta.text:
            if self.spinner is not None or self.reasoning_open:  # (checked here: this runs once per delta)
                self._quiet()
                self._end_reasoning("\n")
            self.out.write(delta.text)
        elif isinstance(delta, ReasoningDelta) and delta.text:
            if not self.show:
                if self.spinner:
                    self.spinner.show("thinking…")
                return
            self._quiet()
            text = delta.text
            if not self.dim and not self.reasoning_open:  # without colour, words tell reasoning from the answer
                text = THINKING_START + text
            self.thinking.append(text)
            self.reasoning_open, self.reasoning_nl = True, text.endswith("\n")
            now = self.clock()
            if now - self.thinking_at >= self.thinking_pace:
                self.thinking_at = now
                self._show_thinking()
        elif isinstance(delta, ToolCallDelta) and self.spinner is not None:
            # tool_stream: show the call's arguments as they arrive, in the spinner line (one row, no residue)
            if delta.name:
                self.call = [delta.name, ""]
            self.call[1] = (self.call[1] + delta.arguments)[-400:]  # only the tail is ever shown
            room = max(10, self.ios.width - len(self.call[0]) - 6)
            self.spinner.show(f"{self.call[0]} {visible(' '.join(self.call[1].split()))[-room:]}")
        elif isinstance(delta, Waiting):  # before a retry, once per wait: said on stderr, counted down by the spinner
            line = f"glm: {delta.text()}"
            if self.spinner is not None:
                self.spinner.announce(line, delta)
            else:
                write_diagnostic(self.ios, line)
        elif isinstance(delta, Idle) and isinstance(self.out, _RawOut):  # (rich flushes what it prints itself)
            self.out.flush()

    def close(self) -> None:
        self._quiet()
        self._end_reasoning("")
        self.out.close()

    def _quiet(self) -> None:
        if self.spinner is not None:
            spinner, self.spinner = self.spinner, None
            spinner.stop()

    def _show_thinking(self) -> None:
        """Write the reasoning received and not yet shown, dimmed, in one piece."""
        if self.thinking:
            text, self.thinking = "".join(self.thinking), []
            self.out.pause()  # stdout's live tail shares the terminal; take it down first
            self.ios.stderr.write(f"\x1b[2m{text}\x1b[0m" if self.dim else text)
            self.ios.stderr.flush()

    def _end_reasoning(self, blank: str) -> None:
        if self.reasoning_open:
            self._show_thinking()
            self.reasoning_open = False
            end = "" if self.dim else THINKING_END
            self.ios.stderr.write(("" if self.reasoning_nl else "\n") + end + blank)
            self.ios.stderr.flush()


class _Spinner:
    """Animate a spinner line on stderr from a thread; erase it without residue on stop."""

    def __init__(self, ios: IOStreams, pace: Pace) -> None:
        self.stream, self.dim, self.label = ios.stderr, ios.color_stderr(), "waiting…"
        self.width, self.interval, self.clock = 0, pace.spinner, pace.clock
        self.wait: tuple[Waiting, float] | None = None  # a wait before a retry, and when it ends
        self._lock = threading.Lock()  # one writer of the line at a time: the thread, or an announcement
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="glm-spinner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frame = 0
        while not self._stop.wait(self.interval):  # the first frame waits too: quick replies never flicker
            with self._lock:
                if self.wait is not None:
                    wait, end = self.wait
                    self.label = wait.label(end - self.clock())
                text = f"{SPINNER_FRAMES[frame % len(SPINNER_FRAMES)]} {self.label}".ljust(self.width)
                self.width = len(text)
                try:
                    self.stream.write("\r" + (f"\x1b[2m{text}\x1b[0m" if self.dim else text))
                    self.stream.flush()
                except (OSError, ValueError):
                    return
            frame += 1

    def show(self, label: str) -> None:
        """Say LABEL from the next frame on (a wait's countdown is over: the answer is coming)."""
        self.wait, self.label = None, label

    def announce(self, line: str, wait: Waiting) -> None:
        """Print LINE above the spinner, which then counts the wait down."""
        with self._lock:
            self.stream.write("\r" + " " * self.width + "\r" + line + "\n")
            self.stream.flush()
            self.wait = (wait, self.clock() + wait.seconds)
            self.label = wait.label(wait.seconds)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.width:  # spaces, not ESC[K: also clean on TERM=dumb
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


class _RawOut:
    """Write the model's text as received, ending on a fresh line.

    Written and flushed in one piece when the stream is about to wait (IDLE: once per piece read from the
    network, not once per delta, whatever stdout's buffering), before reasoning goes to stderr, and at the end.
    """

    def __init__(self, ios: IOStreams) -> None:
        self.stdout, self.last = ios.stdout, "\n"
        self.held: list[str] = []

    def write(self, text: str) -> None:
        self.last = text[-1]
        self.held.append(text)

    def flush(self) -> None:
        if self.held:
            text, self.held = "".join(self.held), []
            self.stdout.write(text)
        self.stdout.flush()

    def pause(self) -> None:
        if self.held:  # (what is not held was flushed)
            self.flush()

    def close(self) -> None:
        if self.last != "\n":
            self.last = "\n"
            self.held.append("\n")
        self.flush()


class _MarkdownOut:
    """Render markdown block by block: finished blocks printed once, the open tail redrawn (throttled).

    Finished blocks wait for the next redraw and are printed together, as one markdown document (their source
    with the blank lines that separated them) in one write: a fast stream finishes many blocks between two
    redraws, and parsing and printing each on its own was most of the CPU (issue 14).
    """

    def __init__(self, ios: IOStreams, pace: Pace) -> None:
        self.console: Console = stdout_console(ios)
        self.pace = pace
        self.height = max(3, self.console.size.height - 1)  # tail rows shown; rest is off-screen
        self.live: Live | None = None
        self.last_draw = float("-inf")
        self.partial: list[str] = []  # pieces of the line still being received
        self.lines: list[str] = []  # complete lines of the open block
        self.kind: str | None = None  # open block: para, heading, fence, code, item-bullet, item-ordered
        self.blanks = 0  # blank lines after the open block, kept in case it continues
        self.fence: str | None = None  # closing fence marker while inside a fence
        self.prev_kind: str | None = None  # kind of the last finished block
        self.done: list[str] = []  # finished blocks' source, with their separators, not yet printed
        self.done_gap: bool | None = None  # whether the first of them starts with a blank line (_gap)
        self.next_number = 1  # the number rich gives the next item of the open ordered list

    def write(self, text: str) -> None:
        if "\n" in text:
            first, *rest = text.split("\n")
            if first:
                self.partial.append(first)
            for piece in rest:
                self._line("".join(self.partial))
                self.partial = [piece] if piece else []
        else:  # most deltas: a piece of the line being received
            self.partial.append(text)
        if self.blanks and self.partial and self.partial[0][0] not in " \t":
            self._finish()  # an unindented line after a blank one always starts a new block
        self._draw()

    def pause(self) -> None:
        self._take_down()
        self._print_done()

    def close(self) -> None:
        self._take_down()
        line, self.partial = "".join(self.partial), []
        if line:
            self._line(line)
        self._finish()
        self._print_done()  # what was left, with the last block, in one piece

    def _take_down(self) -> None:
        if self.live is not None:
            live, self.live = self.live, None
            live.update("")
            live.stop()  # transient: erases the tail

    def _print_done(self) -> None:
        """Print the finished blocks, once, in one write."""
        if self.done:
            source, self.done = "".join(self.done).rstrip("\n"), []
            self.console.print(_Block(source, self.done_gap))

    def _line(self, line: str) -> None:
        """Add one complete line, finishing the open block when this line starts another."""
        if self.fence is not None:  # inside a fence every line, blank or not, belongs to it
            self.lines.append(line)
            stripped = line.strip()
            if stripped.startswith(self.fence) and stripped == stripped[0] * len(stripped):
                self.fence = None
                if self.kind == "fence":
                    self._finish()
            return
        if not line.strip():
            if self.kind is not None:
                self.blanks += 1
            return
        expanded = line.expandtabs(4)
        indent = len(expanded) - len(expanded.lstrip())
        fence, item = _FENCE.match(line), _ITEM.match(line)
        if self.kind is None or self._starts_block(line, indent, fence is not None, item):
            self._finish()
            self.kind = _block_kind(line, indent, fence is not None, item)
        else:
            self.lines.extend([""] * self.blanks)
        self.blanks = 0
        self.lines.append(line)
        if fence:
            self.fence = fence.group(1)[0] * len(fence.group(1))
        elif self.kind in ("heading", "rule"):
            self._finish()

    def _starts_block(self, line: str, indent: int, fence: bool, item: re.Match[str] | None) -> bool:
        if item and item.group(2) not in (None, "1") and self.kind == "para" and not self.blanks:
            return False  # CommonMark: only "1." may interrupt a paragraph ("2024. was…" continues it)
        if _HEADING.match(line) or (fence and indent < 2) or item:
            return True
        if _RULE.match(line) and "-" not in line:  # under a paragraph, --- makes it a heading instead
            return True
        if self.blanks:  # after a blank line only an indented continuation stays in the block
            continues = indent >= 4 if self.kind == "code" else indent >= 2 and (self.kind or "").startswith("item")
            return not continues
        return False

    def _gap(self, kind: str) -> bool | None:
        """Whether a block of KIND starts with a blank line here; None: as rich starts a whole document.

        rich puts a blank line between top-level elements, but none between items of one list; a rule brings
        its own, and what follows it starts as a document does.
        """
        prev = self.prev_kind
        if prev is None or prev == "rule":
            return None
        return not (kind.startswith("item") and kind == prev)

    def _finish(self) -> None:
        """Finish the open block: it is printed permanently, once, at the next redraw (or at the end)."""
        if self.kind is None:
            return
        kind, source = self.kind, "\n".join(self.lines)
        if not self.done:
            self.done_gap = self._gap(kind)
            source = self._numbered(source)  # printed apart from the items before it
        self.done.append(source + "\n" * (1 + self.blanks))  # joined as they came: parsed as the whole answer is
        if kind == "item-ordered":
            item = _ITEM.match(source)
            number = int(item.group(2)) if item and item.group(2) else 0
            self.next_number = self.next_number + 1 if self.prev_kind == kind else number + 1
        self.kind, self.lines, self.blanks, self.fence, self.prev_kind = None, [], 0, None, kind
        if not self.console.is_interactive:  # no live tail (TERM=dumb): nothing to batch with
            self._print_done()

    def _numbered(self, source: str) -> str:
        """Return the open block's source, an ordered item that continues a list numbered as rich numbers it there.

        rich numbers a list's items from the first one's number on ("1. 1. 1." shows 1 2 3); an item rendered
        apart from the items before it would start again from its own.
        """
        if self.kind == "item-ordered" and self.prev_kind == "item-ordered":
            item = _ITEM.match(source)
            if item and item.group(2):
                return f"{source[: item.start(2)]}{self.next_number}{source[item.end(2) :]}"
        return source

    def _draw(self) -> None:
        """Print the finished blocks and redraw the open tail (its last screenful), at most every pace.redraw s."""
        now = self.pace.clock()
        if now - self.last_draw < self.pace.redraw or not self.console.is_interactive:
            return
        self.last_draw = now
        tail = self._tail()
        if self.done and self.live is not None:
            self.live.update("", refresh=True)  # take the old tail down: the blocks print where it was
        self._print_done()
        if self.live is not None:
            self.live.update(tail, refresh=True)
        elif tail:
            from rich.live import Live

            self.live = Live(
                tail,
                console=self.console,
                transient=True,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.live.start(refresh=True)

    def _tail(self) -> Any:
        """Return the open block's last screenful, rendered (or "" when there is nothing to show)."""
        partial = "".join(self.partial)
        self.partial = [partial] if partial else []
        head, body = [], self.lines
        if self.fence is not None and self.kind == "fence":
            head, body = body[:1], body[1:]
        rows = body[-self.height :] + ([""] * self.blanks + [partial] if partial else [])
        text = "\n".join(rows)[-self.height * self.console.width :]
        if not text:
            return ""
        from rich.segment import SegmentLines

        block = _Block(self._numbered("\n".join([*head, text])), self._gap(self.kind or "para"))
        lines = self.console.render_lines(block, pad=False, new_lines=True)
        return SegmentLines(lines[-self.height :])


def _block_kind(line: str, indent: int, fence: bool, item: re.Match[str] | None) -> str:
    """Return the kind of block a line opens."""
    if _HEADING.match(line):
        return "heading"
    if _RULE.match(line):
        return "rule"
    if fence:
        return "fence"
    if item:
        return "item-bullet" if item.group(1) else "item-ordered"
    return "code" if indent >= 4 else "para"


def markdown(source: str) -> Markdown:
    """Return rich's Markdown for SOURCE, parsed by one shared markdown-it parser.

    rich's Markdown() builds a new markdown-it parser each time: for an answer rendered block by block
    that was 29% of the CPU (issue 14).
    """
    from rich.markdown import Markdown

    parser, defaults = _shared_parser()
    md = Markdown.__new__(Markdown)
    md.__dict__.update(defaults)  # rich's own defaults: code theme, hyperlinks, ...
    md.markup, md.parsed = source, parser.parse(source)
    return md


@functools.cache
def _shared_parser() -> tuple[Any, dict[str, Any]]:
    """Return a markdown-it parser configured as rich configures its own, and a Markdown's default attributes."""
    from markdown_it import MarkdownIt
    from rich.markdown import Markdown

    return MarkdownIt().enable("strikethrough").enable("table"), vars(Markdown(""))


class _Block:
    """Markdown blocks, with rich's stray leading newline dropped and our own gap instead (gap None: kept)."""

    def __init__(self, source: str, gap: bool | None) -> None:
        self.source, self.gap = source, gap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        if self.gap is None:  # the answer's start, or after a rule: as rich renders a whole document
            yield from console.render(markdown(self.source), options)
            return
        if self.gap:
            yield Segment.line()
        segments: Any = iter(console.render(markdown(self.source), options))
        for segment in segments:
            if segment.text != "\n":
                yield segment
                break
        yield from segments
