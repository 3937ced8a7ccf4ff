"""The input of one request: the prompt, piped stdin and --file texts joined by one rule, within a bound."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.config import Settings

STDIN_HINT_AFTER = 3.0


class InputBound(NamedTuple):
    """The most characters read from one input (stdin, each --file), and why that many."""

    chars: int
    why: str

    def check(self, what: str, text: str) -> str:
        """Return TEXT (read with at most chars + 1 characters), or refuse it as more than the bound."""
        if len(text) > self.chars:
            raise UsageError(
                f"{what} is more than {self.chars:,} characters: {self.why}",
                "send less (split the input, or use glm batch for many pieces)",
            )
        return text


def input_bound(app: App, settings: Settings) -> InputBound:
    """Bound the input by the model's context window (catalogue.input_limit): what is cut off could not be sent."""
    from glm_cli.catalogue import input_limit

    catalogue = app.catalogue(settings)
    model = catalogue.resolve(settings.model)
    info = catalogue.get(model)
    if info is not None and info.context:
        return InputBound(input_limit(info), f"more than {model}'s context window of {info.context:,} tokens")
    return InputBound(input_limit(None), f"the most glm reads for {model}, whose context window it does not know")


def read_stdin(opts: Any, app: App, bound: InputBound) -> str | None:
    """Read piped stdin to EOF or past BOUND; never touch a terminal stdin."""
    ios = app.ios
    if opts.no_stdin or ios.stdin_tty:
        return None
    timer = None
    if ios.stderr_tty:
        import threading

        def hint() -> None:
            ios.stderr.write("glm: waiting for stdin to close (use --no-stdin to skip it)\n")
            ios.stderr.flush()

        timer = threading.Timer(STDIN_HINT_AFTER, hint)
        timer.daemon = True
        timer.start()
    try:
        data = ios.stdin.read(bound.chars + 1)
    finally:
        if timer:
            timer.cancel()
    return bound.check("stdin", data)


def attach_file(path: str, bound: InputBound) -> str:
    """Return a file's text fenced and named, for the prompt."""
    try:  # text, newlines as they are, undecodable bytes as U+FFFD; at most one character past the bound
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            text = fh.read(bound.chars + 1)
    except OSError as exc:
        raise UsageError(f"cannot read --file {path}: {exc.strerror or exc}") from None
    if "\0" in text[:8192]:
        raise UsageError(
            f"--file {path} looks binary; only text files can be attached",
            f"images, video and documents go with -a {path} (to a vision model, e.g. -m glm-4.6v)",
        )
    bound.check(f"--file {path}", text)
    fence = "```"
    while fence in text:
        fence += "`"
    return f"File: {path}\n{fence}\n{text.rstrip(chr(10))}\n{fence}"


def compose_prompt(
    opts: Any, stdin: str | None, template: str | None, bound: InputBound, *, allow_empty: bool = False
) -> str:
    """Join prompt, stdin and files by the one documented rule.

    input = PROMPT, a blank line, STDIN (either may be absent); then each --file, fenced,
    after a blank line. A preset template gets it in place of `{input}`.
    """
    prompt = " ".join(opts.prompt).strip()
    parts = [p for p in (prompt, (stdin or "").strip("\n")) if p.strip()]
    parts += [attach_file(f, bound) for f in opts.files]
    text = "\n\n".join(parts)
    if template:
        text = template.replace("{input}", text) if "{input}" in template else f"{template}\n\n{text}"
    if not text.strip() and not allow_empty:  # (allowed with attachments: they are the question)
        raise UsageError(
            "no prompt: give one as an argument or on stdin", 'glm ask "question"  or  cat file | glm ask "instruction"'
        )
    return text
