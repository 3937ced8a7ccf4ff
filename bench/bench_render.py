"""render_stream's own CPU on a terminal, in-process (no start-up, no network), beside rich rendering the
final document once; linear in the answer's length; the worst case (a redraw after every delta).

Run: .venv/bin/python bench/bench_render.py [--runs N]
The answers are bench/content.py's (realistic markdown, Chinese), cut into deltas of one token (4 characters
of English, 2 of Chinese); stdout is /dev/null posing as a 100-column terminal. Each figure is the best of N.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator

from _common import ROOT, Timing, parser, row
from content import CHARS_PER_TOKEN, answer

sys.path.insert(0, str(ROOT))

from glm_cli.events import ContentDelta, Delta  # noqa: E402
from glm_cli.iostreams import IOStreams  # noqa: E402
from glm_cli.render import Pace, render_stream  # noqa: E402


def deltas(text: str, size: int) -> Iterator[Delta]:
    for i in range(0, len(text), size):
        yield ContentDelta(text[i : i + size])


def best_cpu(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    args = parser(__doc__).parse_args()
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the whole run
    ios = IOStreams(stdin=sys.stdin, stdout=sink, stderr=sink, stdout_tty=True, width=100)

    def ours(text: str, size: int, pace: Pace | None = None) -> Callable[[], object]:
        return lambda: render_stream(deltas(text, size), ios, show_reasoning=False, pace=pace or Pace())

    def once(text: str) -> Callable[[], object]:
        from rich.console import Console
        from rich.markdown import Markdown

        return lambda: Console(file=sink, force_terminal=True, width=100).print(Markdown(text))

    ours(answer("markdown", 500), 4)()  # imports and caches, for both
    once("# warm")()
    print(
        f"# bench_render: best of {args.runs}; python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f}"
    )
    print("| work | glm | floor | ratio | command |\n| --- | --- | --- | --- | --- |")
    per_token = {}
    for kind in ("markdown", "chinese"):
        for tokens in (5_000, 10_000, 20_000):
            text = answer(kind, tokens)
            mine = best_cpu(args.runs, ours(text, CHARS_PER_TOKEN[kind]))
            base = best_cpu(args.runs, once(text))
            per_token[kind, tokens] = mine / tokens
            row(
                f"{tokens:,} tokens of {kind}, in-process",
                Timing(mine, mine),
                Timing(base, base),
                "render_stream(deltas) on a TTY  vs  Console().print(Markdown(whole answer))",
                target="2×",
                on="CPU",
            )
        linear = per_token[kind, 20_000] / per_token[kind, 5_000]
        print(f"|   {kind}: CPU per token at 20k / at 5k = {linear:.2f} (1.00 = linear) | | | | |")
    text = "```python\n" + "".join(f"    value_{i} = compute({i})  # line {i}\n" for i in range(4000))
    mine = best_cpu(args.runs, ours(text[:80_000], 4))
    print(f"| one open 20,000-token code block | {mine:.3f} s CPU | | | render_stream |")
    every = Pace(redraw=0.0)  # worst case: the open tail redrawn after every delta
    for tokens in (1_000, 2_000):
        mine = best_cpu(max(1, args.runs // 3), ours(answer("markdown", tokens), 4, every))
        print(f"| tail redrawn after every delta, {tokens:,} tokens | {mine:.3f} s CPU | | | Pace(redraw=0) |")


if __name__ == "__main__":
    main()
