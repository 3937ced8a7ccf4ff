"""Fenced code blocks out of an answer, each as soon as its closing fence arrives (`glm ask -x`); stdlib only."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

# An opening fence: three or more backticks or tildes and an info string (a backtick fence's has no backtick).
# Any indentation is accepted: models put fences inside list items ("1. Run:\n   ```bash").
_OPEN = re.compile(r"^(\s*)(`{3,}(?!.*`)|~{3,})\s*(.*?)\s*$")
# Fence languages that name the same thing, so `--extract-lang bash` also takes ```sh and ```shell.
SAME_LANGUAGE = (
    frozenset({"bash", "sh", "shell", "zsh", "console", "shellscript", "shell-session"}),
    frozenset({"python", "py", "python3"}),
    frozenset({"javascript", "js", "node"}),
    frozenset({"typescript", "ts"}),
    frozenset({"yaml", "yml"}),
    frozenset({"powershell", "ps1", "pwsh"}),
    frozenset({"markdown", "md"}),
)


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: the fence's language (first word of its info string, lower case; "" if none) and code."""

    language: str
    code: str  # the block's lines, each ending with a newline; the fences are not part of it

    def to_json(self) -> dict[str, str]:
        return {"language": self.language, "code": self.code}


def same_language(wanted: str, language: str) -> bool:
    """Whether a block fenced as LANGUAGE is what `--extract-lang WANTED` asks for."""
    wanted, language = wanted.strip().lower(), language.lower()
    if wanted == language:
        return True
    return any(wanted in group and language in group for group in SAME_LANGUAGE)


class CodeExtractor:
    """Read an answer piece by piece; hand each wanted block to EMIT as soon as its closing fence is read.

    ``all_blocks``: every block (else only the first wanted one); ``language``: only blocks fenced so.
    """

    def __init__(
        self, emit: Callable[[CodeBlock], None], *, all_blocks: bool = False, language: str | None = None
    ) -> None:
        self.emit, self.all_blocks, self.language = emit, all_blocks, language
        self.blocks: list[CodeBlock] = []  # what was handed to emit, in order
        self._partial: list[str] = []  # pieces of the line being received
        self._fence: tuple[str, int, int, str] | None = None  # open fence: char, length, indent, language
        self._lines: list[str] = []

    @property
    def done(self) -> bool:
        """Whether nothing more is wanted (the first block was found)."""
        return bool(self.blocks) and not self.all_blocks

    def feed(self, text: str) -> None:
        first, *rest = text.split("\n")
        self._partial.append(first)
        for piece in rest:
            line, self._partial = "".join(self._partial), [piece]
            self._line(line.rstrip("\r"))

    def finish(self, complete: bool) -> None:
        """End of the answer. COMPLETE (it finished normally): a block still open ends here (as in CommonMark);
        otherwise it may be cut short, and is dropped: half a command is worse than none."""
        line, self._partial = "".join(self._partial), []
        if line:
            self._line(line)
        if self._fence is not None and complete:
            self._close()
        self._fence = None

    def _line(self, line: str) -> None:
        if self._fence is None:
            opening = _OPEN.match(line)
            if opening:
                indent, marks, info = opening.groups()
                language = info.split()[0].lstrip("{.").rstrip("}").lower() if info else ""
                self._fence, self._lines = (marks[0], len(marks), len(indent.expandtabs(4)), language), []
            return
        char, length, indent, _ = self._fence
        stripped = line.strip()
        if len(stripped) >= length and stripped == char * len(stripped):
            self._close()
            return
        expanded = line.expandtabs(4)
        cut = min(indent, len(expanded) - len(expanded.lstrip(" ")))
        self._lines.append(expanded[cut:] if cut else line)

    def _close(self) -> None:
        assert self._fence is not None
        language = self._fence[3]
        self._fence = None
        if self.done or (self.language and not same_language(self.language, language)):
            return
        block = CodeBlock(language, "".join(line + "\n" for line in self._lines))
        self.blocks.append(block)
        self.emit(block)


def extract_blocks(
    text: str, *, all_blocks: bool = False, language: str | None = None, complete: bool = True
) -> list[CodeBlock]:
    """Return the wanted fenced blocks of a whole answer."""
    extractor = CodeExtractor(lambda block: None, all_blocks=all_blocks, language=language)
    extractor.feed(text)
    extractor.finish(complete)
    return extractor.blocks


class ExtractingOutput:
    """A text stream for the renderer: the answer goes in, only the wanted code blocks come out on OUT, raw."""

    def __init__(self, out: IO[str], extractor_args: dict[str, Any]) -> None:
        self.out = out
        self.extractor = CodeExtractor(self._emit, **extractor_args)

    def _emit(self, block: CodeBlock) -> None:
        self.out.write(block.code)
        self.out.flush()

    def write(self, text: str) -> int:
        self.extractor.feed(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False
