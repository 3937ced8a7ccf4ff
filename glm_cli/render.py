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

from glm_cli.events import ContentDelta, Delta, ReasoningDelta, Reply, ReplyBuilder, ToolCallDelta, Usage
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
_ITEM = re.compile(r" ?(?:([-*+])|(\d{1,9})[.)])(?:\s|$)")  # top-level list item (indent 0-1)


@dataclass(frozen=True)
class Pace:
    """How the renderer reads time: the redraw throttle's clock and both intervals (tests drive them)."""

    clock: Callable[[], float] = time.monotonic
    redraw: float = REDRAW_INTERVAL
    spinner: float = SPINNER_INTERVAL


def render_stream(
    deltas: Iterable[Delta],
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


def format_usage_line(usage: Usage, cost: str | None) -> str:
    """Return `in 12,345 (cached 10,240, 83%) · out 512 (reasoning 300) · $0.0123`."""
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
    ios: IOStreams, headers: list[str], rows: list[list[str]], *, caption: str | None = None, wrap: tuple[int, ...] = ()
) -> None:
    """Print a table of plain-text cells to a terminal stdout (listings such as `glm models`).

    Only the columns in WRAP may wrap when the terminal is narrow; the others are never cut.
    """
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=None, header_style="bold", caption=caption, caption_justify="left", pad_edge=False, collapse_padding=True
    )
    for i, header in enumerate(headers):
        table.add_column(header, no_wrap=i not in wrap, overflow="fold" if i in wrap else "ellipsis")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # Text: no markup parsing of ids or prices
    stdout_console(ios).print(table)


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


class _View:
    """Route deltas: content to the output, reasoning to stderr, spinner until there is something to show."""

    def __init__(
        self, ios: IOStreams, out: _RawOut | _MarkdownOut, *, show_reasoning: bool, spinner: bool, pace: Pace
    ) -> None:
        self.ios, self.out, self.show = ios, out, show_reasoning
        self.dim = ios.color_stderr()
        self.spinner = _Spinner(ios, pace.spinner) if spinner and ios.stderr_tty else None
        self.reasoning_open = False  # reasoning was shown and not yet ended with a newline/blank line
        self.reasoning_nl = True
        self.call: list[str] = ["", ""]  # the tool call being streamed (tool_stream): name, arguments so far

    def feed(self, delta: Delta) -> None:
        if isinstance(delta, ContentDelta) and delta.text:
            if self.spinner is not None or self.reasoning_open:  # (checked here: this runs once per delta)
                self._quiet()
                self._end_reasoning("\n")
            self.out.write(delta.text)
        elif isinstance(delta, ReasoningDelta) and delta.text:
            if not self.show:
                if self.spinner:
                    self.spinner.label = "thinking…"
                return
            self._quiet()
            self.out.pause()  # stdout's live tail shares the terminal; take it down first
            text = delta.text
            self.ios.stderr.write(f"\x1b[2m{text}\x1b[0m" if self.dim else text)
            self.ios.stderr.flush()
            self.reasoning_open, self.reasoning_nl = True, text.endswith("\n")
        elif isinstance(delta, ToolCallDelta) and self.spinner is not None:
            # tool_stream: show the call's arguments as they arrive, in the spinner line (one row, no residue)
            if delta.name:
                self.call = [delta.name, ""]
            self.call[1] = (self.call[1] + delta.arguments)[-400:]  # only the tail is ever shown
            room = max(10, self.ios.width - len(self.call[0]) - 6)
            self.spinner.label = f"{self.call[0]} {visible(' '.join(self.call[1].split()))[-room:]}"

    def close(self) -> None:
        self._quiet()
        self._end_reasoning("")
        self.out.close()

    def _quiet(self) -> None:
        if self.spinner is not None:
            spinner, self.spinner = self.spinner, None
            spinner.stop()

    def _end_reasoning(self, blank: str) -> None:
        if self.reasoning_open:
            self.reasoning_open = False
            self.ios.stderr.write(("" if self.reasoning_nl else "\n") + blank)
            self.ios.stderr.flush()


class _Spinner:
    """Animate a spinner line on stderr from a thread; erase it without residue on stop."""

    def __init__(self, ios: IOStreams, interval: float) -> None:
        self.stream, self.dim, self.label = ios.stderr, ios.color_stderr(), "waiting…"
        self.width, self.interval = 0, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="glm-spinner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frame = 0
        while not self._stop.wait(self.interval):  # the first frame waits too: quick replies never flicker
            text = f"{SPINNER_FRAMES[frame % len(SPINNER_FRAMES)]} {self.label}".ljust(self.width)
            self.width = len(text)
            try:
                self.stream.write("\r" + (f"\x1b[2m{text}\x1b[0m" if self.dim else text))
                self.stream.flush()
            except (OSError, ValueError):
                return
            frame += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.width:  # spaces, not ESC[K: also clean on TERM=dumb
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


class _RawOut:
    """Write the model's text as received, flushed per delta, ending on a fresh line."""

    def __init__(self, ios: IOStreams) -> None:
        self.stdout, self.last = ios.stdout, "\n"

    def write(self, text: str) -> None:
        self.last = text[-1]
        self.stdout.write(text)
        self.stdout.flush()

    def pause(self) -> None:
        pass

    def close(self) -> None:
        if self.last != "\n":
            self.last = "\n"
            self.stdout.write("\n")
            self.stdout.flush()


class _MarkdownOut:
    """Render markdown block by block: finished blocks printed once, the open tail redrawn (throttled).

    Finished blocks wait for the next redraw and are printed together, in one write: a fast stream finishes
    many blocks between two redraws, and one print each was a quarter of the CPU (issue 14).
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
        self.done: list[_Block] = []  # finished blocks not yet printed (printed at the next redraw)

    def write(self, text: str) -> None:
        first, *rest = text.split("\n")
        if first:
            self.partial.append(first)
        for piece in rest:
            self._line("".join(self.partial))
            self.partial = [piece] if piece else []
        if self.blanks and self.partial and self.partial[0][0] not in " \t":
            self._finish()  # an unindented line after a blank one always starts a new block
        self._draw()

    def pause(self) -> None:
        if self.live is not None:
            live, self.live = self.live, None
            live.update("")
            live.stop()  # transient: erases the tail
        self._print_done()

    def close(self) -> None:
        self.pause()
        line, self.partial = "".join(self.partial), []
        if line:
            self._line(line)
        self._finish()
        self._print_done()

    def _print_done(self) -> None:
        """Print the finished blocks, once, in one write."""
        if self.done:
            from rich.console import Group

            done, self.done = self.done, []
            self.console.print(Group(*done))

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
        elif self.kind == "heading":
            self._finish()

    def _starts_block(self, line: str, indent: int, fence: bool, item: re.Match[str] | None) -> bool:
        if item and item.group(2) not in (None, "1") and self.kind == "para" and not self.blanks:
            return False  # CommonMark: only "1." may interrupt a paragraph ("2024. was…" continues it)
        if _HEADING.match(line) or (fence and indent < 2) or item:
            return True
        if self.blanks:  # after a blank line only an indented continuation stays in the block
            continues = indent >= 4 if self.kind == "code" else indent >= 2 and (self.kind or "").startswith("item")
            return not continues
        return False

    def _gap(self, kind: str) -> bool:
        # rich puts a blank line between top-level elements, but none between items of one list
        return self.prev_kind is not None and not (kind.startswith("item") and kind == self.prev_kind)

    def _finish(self) -> None:
        """Finish the open block: it is printed permanently, once, at the next redraw (or at the end)."""
        if self.kind is None:
            return
        kind, source = self.kind, "\n".join(self.lines)
        gap = self._gap(kind)
        self.kind, self.lines, self.blanks, self.fence, self.prev_kind = None, [], 0, None, kind
        self.done.append(_Block(source, gap))
        if not self.console.is_interactive:  # no live tail (TERM=dumb): nothing to batch with
            self._print_done()

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

        block = _Block("\n".join([*head, text]), self._gap(self.kind or "para"))
        lines = self.console.render_lines(block, pad=False, new_lines=True)
        return SegmentLines(lines[-self.height :])


def _block_kind(line: str, indent: int, fence: bool, item: re.Match[str] | None) -> str:
    """Return the kind of block a line opens."""
    if _HEADING.match(line):
        return "heading"
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
    """One markdown block, with rich's stray leading newline dropped and our own gap instead."""

    def __init__(self, source: str, gap: bool) -> None:
        self.source, self.gap = source, gap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        if self.gap:
            yield Segment.line()
        segments: Any = iter(console.render(markdown(self.source), options))
        for segment in segments:
            if segment.text != "\n":
                yield segment
                break
        yield from segments
