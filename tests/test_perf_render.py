"""The markdown renderer on realistic answers: the final screen is what rendering the whole answer once shows,
however the deltas are cut and however often the tail is redrawn; rich's Markdown is built without a new
markdown-it parser per block."""

from __future__ import annotations

import pytest

from glm_cli.events import ContentDelta
from glm_cli.render import Pace, render_stream
from tests.test_render import pieces, redraws, screen, tty, whole_document

SECTION = """## {n}. Configure the client

The configuration lives in a **YAML** file; each value can be overridden by a flag or an
environment variable, and `glm config show` tells you where every value came from. Keep the
*secrets* out of it: the key belongs in `GLM_API_KEY`.

- install it with `pipx install glm-cli`
- set `GLM_API_KEY` in your shell profile
  - or use the `--profile` flag for a named profile
- run `glm ask "hello"` and check the answer

1. Run `glm models` to confirm the key works.
2. Send a one-word prompt with `--no-stream`.

```python
def load_settings_{n}(path: str) -> dict[str, str]:
    \"\"\"Return the settings for step {n}.\"\"\"
    import yaml

    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {{}}
```

> Note: values are read once per run, so restart `glm chat` after changing them.

| setting | default | meaning |
| --- | --- | --- |
| `timeout` | 300 | seconds without data before giving up |

### 第{n}步：检查回答

配置保存在一个 **YAML** 文件中，`glm config show` 会告诉你每个值来自哪里。

- 用 `pipx install glm-cli` 安装
- 运行 `glm ask "你好"` 并检查回答

"""
REALISTIC = "".join(SECTION.format(n=n) for n in range(1, 4)) + "That is all: **three** steps."


@pytest.mark.parametrize("size", [1, 4, 13])
@pytest.mark.parametrize("every", [0, 3], ids=["no-redraw", "redraws"])
def test_realistic_answer_ends_on_the_screen_of_the_whole_document(size: int, every: int):
    ios = tty()
    pace = redraws(every) if every else redraws(10**9)
    reply = render_stream(pieces(REALISTIC, size), ios, show_reasoning=False, pace=pace)
    assert reply.content == REALISTIC
    assert screen(ios.stdout.getvalue()) == whole_document(REALISTIC)


@pytest.mark.parametrize("width", [40, 100])
def test_realistic_answer_at_other_widths(width: int):
    ios = tty(width=width)
    render_stream(pieces(REALISTIC, 5), ios, show_reasoning=False, pace=redraws(7))
    assert screen(ios.stdout.getvalue()) == whole_document(REALISTIC, width)


def test_blocks_share_one_markdown_parser(monkeypatch):
    # rich's Markdown() builds a markdown-it parser each time (29% of the CPU on a long answer); one is enough.
    from markdown_it import MarkdownIt

    built = []
    init = MarkdownIt.__init__
    monkeypatch.setattr(MarkdownIt, "__init__", lambda self, *a, **kw: built.append(1) or init(self, *a, **kw))
    ios = tty()
    render_stream(pieces(REALISTIC, 4), ios, show_reasoning=False, pace=redraws(3))
    assert screen(ios.stdout.getvalue()) == whole_document(REALISTIC)
    assert len(built) <= 2  # ours, and rich's own once for the defaults (none if they were built before)


def test_the_shared_parser_parses_as_riches_own():
    from rich.markdown import Markdown

    from glm_cli.render import markdown

    ours, theirs = markdown(REALISTIC), Markdown(REALISTIC)
    assert [t.as_dict() for t in ours.parsed] == [t.as_dict() for t in theirs.parsed]
    assert vars(ours) == vars(theirs)


def test_finished_blocks_wait_for_the_next_redraw_only():
    now = [0.0]
    snapshots = []
    ios = tty()

    def stream():
        yield ContentDelta("# Title\n\nFirst para")  # a redraw: the heading is printed, the paragraph is the tail
        now[0] = 0.5
        yield ContentDelta("graph ends.\n\nSecond")  # the paragraph is finished, but no redraw is due yet
        snapshots.append(screen(ios.stdout.getvalue()))
        now[0] = 1.0
        yield ContentDelta(" one")  # a redraw is due: the finished paragraph is printed now
        snapshots.append(screen(ios.stdout.getvalue()))

    render_stream(stream(), ios, show_reasoning=False, pace=Pace(clock=lambda: now[0], redraw=1.0))
    assert "First paragraph ends." not in snapshots[0] and "First para" in snapshots[0]
    assert snapshots[1].count("First paragraph ends.") == 1 and "Second one" in snapshots[1]
    assert screen(ios.stdout.getvalue()) == whole_document("# Title\n\nFirst paragraph ends.\n\nSecond one")
