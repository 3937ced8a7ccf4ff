"""`glm --help` without Typer: the root's help, laid out exactly as click lays it out.

Typer and the click command tree cost more than everything else `glm --help` does; the root's help is
only its usage line, its text, two options and the one-line help of each command (cli.COMMANDS).
tests/test_root_help.py holds this against click's own rendering of the root group at every width.
"""

from __future__ import annotations

import textwrap

MAX_WIDTH = 160  # as clicks.HELP_MAX_WIDTH: help follows the terminal up to this width
OPTIONS = (("-V, --version", "Print the version and exit."), ("-h, --help", "Show this message and exit."))


class _Wrapper(textwrap.TextWrapper):
    """click's wrapper: a word longer than the line is cut where the line ends."""

    def _handle_long_word(self, reversed_chunks: list[str], cur_line: list[str], cur_len: int, width: int) -> None:
        space_left = max(width - cur_len, 1)
        last = reversed_chunks[-1]
        cur_line.append(last[:space_left])
        reversed_chunks[-1] = last[space_left:]


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> str:
    return _Wrapper(width, initial_indent=first, subsequent_indent=rest, replace_whitespace=False).fill(text)


def _paragraphs(text: str, width: int, indent: str) -> str:
    """TEXT rewrapped paragraph by paragraph (blank-line separated), each keeping its own first line's indent."""
    out = []
    for block in text.expandtabs().split("\n\n"):
        lines = [line for line in block.splitlines() if line]
        if not lines:
            continue
        extra = " " * (len(lines[0]) - len(lines[0].lstrip()))
        lines[0] = lines[0].lstrip()
        out.append(_wrap(" ".join(lines), width, indent + extra, indent + extra))
    return "\n\n".join(out)


def _rows(rows: list[tuple[str, str]], width: int, col_max: int) -> str:
    """A definition list as click writes one, indented by 2."""
    first_col = min(max(len(term) for term, _ in rows), col_max) + 2
    text_width = max(width - first_col - 2, 10)
    out = []
    for term, text in rows:
        lines = _paragraphs(text, text_width, "").splitlines()
        pad = " " * (first_col - len(term)) if len(term) <= first_col - 2 else "\n" + " " * (first_col + 2)
        out.append(f"  {term}{pad}{lines[0]}\n")
        out += [f"{'':>{first_col + 2}}{line}\n" for line in lines[1:]]
    return "".join(out)


def short_help(text: str, limit: int) -> str:
    """A command's help shortened to LIMIT characters, as click shortens it: at a sentence end or with `...`."""
    words = text.split("\n\n", 1)[0].split()
    total = 0
    for i, word in enumerate(words):
        total += len(word) + (i > 0)
        if total > limit:
            break
        if word.endswith("."):
            return " ".join(words[: i + 1])
        if total == limit and i != len(words) - 1:
            break
    else:
        return " ".join(words)
    total += 3
    while i > 0:
        total -= len(words[i]) + (i > 0)
        if total <= limit:
            break
        i -= 1
    return " ".join(words[:i]) + "..."


def width() -> int:
    """The help's width: the terminal's (COLUMNS, else its size) less 2, between 50 and MAX_WIDTH - 2."""
    import shutil

    return max(min(shutil.get_terminal_size().columns, MAX_WIDTH) - 2, 50)


def render(help: str, commands: dict[str, str], cols: int) -> str:
    """The root's help at COLS columns: HELP (its text), COMMANDS (name -> one-line help)."""
    usage = _wrap("[OPTIONS] COMMAND [ARGS]...", cols, "Usage: glm ", " " * len("Usage: glm "))
    text = _paragraphs(textwrap.dedent(help).strip(), cols, "  ")
    options = _rows(list(OPTIONS), cols, min(max(len(t) for t, _ in OPTIONS), 34, cols // 3))
    limit = cols - 6 - max(map(len, commands))
    listed = _rows([(name, short_help(h, limit)) for name, h in commands.items()], cols, 30)
    return f"{usage}\n\n{text}\n\nOptions:\n{options}\nCommands:\n{listed}"
