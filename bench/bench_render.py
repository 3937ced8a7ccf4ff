"""Measure render_stream's CPU time on a TTY-like stream: linear in answer length, vs a naive Live(Markdown(whole)).

Run: .venv/bin/python bench/bench_render.py
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glm_cli import render  # noqa: E402
from glm_cli.events import ContentDelta, Delta  # noqa: E402
from glm_cli.iostreams import IOStreams  # noqa: E402
from glm_cli.render import render_stream  # noqa: E402

CHARS_PER_TOKEN = 4
SECTION = """## Step {n}: configure the thing

The configuration lives in a **YAML** file; each value can be overridden by a flag or an
environment variable, and `glm config show` tells you where every value came from.

- first, install it with `pipx install glm-cli`
- then set `GLM_API_KEY` in your shell profile
  - or use the `--profile` flag for a named profile
- finally run `glm ask "hello"` and check the answer

1. Open the file.
2. Change the value.

```python
def step_{n}(settings: dict[str, str]) -> str:
    \"\"\"Return the model for step {n}.\"\"\"
    model = settings.get("model", "glm-4.7")

    if not model:
        raise ValueError("no model")
    return model
```

> Note: values are read once per run, so restart `glm chat` after changing them.

"""


def answer(tokens: int) -> str:
    """Return a markdown answer of about `tokens` tokens (4 characters each)."""
    parts, size, n = [], 0, 0
    while size < tokens * CHARS_PER_TOKEN:
        n += 1
        parts.append(SECTION.format(n=n))
        size += len(parts[-1])
    return "".join(parts)[: tokens * CHARS_PER_TOKEN]


def deltas(text: str) -> Iterator[Delta]:
    for i in range(0, len(text), CHARS_PER_TOKEN):
        yield ContentDelta(text[i : i + CHARS_PER_TOKEN])


def tty_streams(sink) -> IOStreams:
    return IOStreams(stdin=sys.stdin, stdout=sink, stderr=sink, stdout_tty=True, width=100)


def cpu(fn, *args) -> float:
    """Return the CPU seconds fn(*args) took."""
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def render_tty(text: str, sink) -> None:
    render_stream(deltas(text), tty_streams(sink), show_reasoning=False)


def naive(text: str, sink) -> None:
    """The usual approach: re-parse and re-render the whole answer in a Live, throttled the same way."""
    from rich.console import Console
    from rich.live import Live
    from rich.markdown import Markdown

    console = Console(file=sink, force_terminal=True, width=100)
    shown, last = "", 0.0
    with Live(console=console, auto_refresh=False, vertical_overflow="visible") as live:
        for delta in deltas(text):
            shown += delta.text
            live.update(Markdown(shown))  # Markdown() parses the whole text on every delta
            if time.monotonic() - last >= 1 / 12:
                last = time.monotonic()
                live.refresh()
        live.update(Markdown(shown), refresh=True)


def main() -> None:
    with open(os.devnull, "w", encoding="utf-8") as sink:
        render_stream(deltas(answer(500)), tty_streams(sink), show_reasoning=False)  # warm imports
        print(f"$ {os.path.relpath(sys.executable)} {os.path.relpath(__file__)}")
        print(f"python {sys.version.split()[0]}, 4-char deltas, stdout=/dev/null as a TTY, width 100")
        results = {}
        for tokens in (5_000, 10_000, 20_000):
            text = answer(tokens)
            results[tokens] = took = cpu(render_tty, text, sink)
            per = took / tokens * 1000
            print(f"render_stream {tokens:>6,} tokens ({len(text):>7,} chars): {took:6.3f} s CPU  ({per:.3f} ms/token)")
        r1, r2 = results[10_000] / results[5_000], results[20_000] / results[10_000]
        print(f"ratio 10k/5k = {r1:.2f}, 20k/10k = {r2:.2f} (2.00 = linear)")
        code = "```python\n" + "".join(f"    value_{i} = compute({i})  # line {i}\n" for i in range(4000))
        text = code[: 20_000 * CHARS_PER_TOKEN]
        took = cpu(render_tty, text, sink)
        print(f"render_stream one open 20,000-token code block: {took:.3f} s CPU")
        render.REDRAW_INTERVAL = 0.0  # worst case: the open tail redrawn after every delta
        worst = {}
        for tokens in (1_000, 2_000):
            text = answer(tokens)
            worst[tokens] = cpu(render_tty, text, sink)
            print(f"tail redrawn on every delta, {tokens:,} tokens: {worst[tokens]:.3f} s CPU")
        print(f"  ratio 2k/1k = {worst[2_000] / worst[1_000]:.2f} (each redraw renders one screenful at most)")
        render.REDRAW_INTERVAL = 1 / 12
        for tokens in (1_000, 2_000):
            text = answer(tokens)
            mine = cpu(render_tty, text, sink)
            theirs = cpu(naive, text, sink)
            print(
                f"{tokens:,} tokens: render_stream {mine:.3f} s, naive Live(Markdown(whole)) {theirs:.3f} s "
                f"({theirs / mine:.0f}x)"
            )


if __name__ == "__main__":
    main()
