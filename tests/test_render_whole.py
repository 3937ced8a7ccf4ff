"""On a terminal, what stays on the screen is what rendering the whole answer once shows: for answers that start
with a list, a quote or a table, with rules, loose and tight lists, code fences, tables and Chinese, however the
deltas are cut and whenever the open tail is redrawn (finished blocks are printed in groups, at each redraw)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from glm_cli.events import ContentDelta
from glm_cli.render import render_stream
from tests.test_render import pieces, redraws, screen, tty, whole_document

BLOCKS = {
    "heading": "## 第二步：检查 `glm` 的回答",
    "para": "The configuration lives in a **YAML** file; `glm config show` tells you where\nevery value came from.",
    "chinese": "配置保存在一个 **YAML** 文件中。每个值都可以用命令行参数或环境变量覆盖，\n"
    "`glm config show` 会告诉你每个值来自哪里。",
    "tight list": "- install it with `pipx install glm-cli`\n- set `GLM_API_KEY`\n  - or use `--profile`\n- run it",
    "loose list": "- first, **check** the key\n\n- then the proxy\n\n- 最后检查网络",
    "ordered": "1. Run `glm models`.\n2. Send a prompt with `--no-stream`.\n3. 比较两者的**延迟**。",
    "fence": '```python\ndef load(path: str) -> dict:\n    """Read it."""\n\n    return {}\n```',
    "tilde fence": "~~~\n# not a heading\n\n- not a list\n~~~",
    "quote": "> Note: values are read once per run,\n> so restart `glm chat` after changing them.",
    "table": "| setting | default | 说明 |\n| --- | --- | --- |\n"
    "| `timeout` | 300 | 超时秒数 |\n| `retries` | 3 | 重试次数 |",
    "rule": "---",
    "stars": "* * *",
}

DOCUMENTS = {
    "list first": "- a\n\n- b\n\nend",
    "quote first": "> quote\n> more\n\n- item\n\n> again",
    "table first, Chinese": "| 名称 | 说明 |\n| --- | --- |\n| 配置 | 保存在 **YAML** 文件中 |\n\n结束。",
    "rules": "para\n\n---\n\n* * *\n\nend\n\n___\n\n- item\n\n---",
    "setext heading is not a rule": "Title\n---\n\nbody",
    "tight list then lazy line": "- a\n- b\nlazy\n\nend",
    "item with a paragraph": "1. one\n\n   more of one\n2. two\n\nend",
    "everything": "\n\n".join(BLOCKS.values()),
}


@pytest.mark.parametrize("doc", DOCUMENTS.values(), ids=DOCUMENTS.keys())
@pytest.mark.parametrize("every", [1, 3, 10**9], ids=["redraw-each-write", "redraw-every-third", "no-redraw"])
@pytest.mark.parametrize("size", [1, 3, 7])
def test_final_screen_is_the_whole_document(doc: str, every: int, size: int):
    ios = tty()
    reply = render_stream(pieces(doc, size), ios, show_reasoning=False, pace=redraws(every))
    assert reply.content == doc
    assert screen(ios.stdout.getvalue()) == whole_document(doc)


def test_blocks_finished_between_redraws_print_together_and_once():
    # a redraw at each third write: several blocks finish between two redraws and are printed as one piece
    doc = "\n\n".join(BLOCKS.values())
    ios = tty()
    render_stream(pieces(doc, 5), ios, show_reasoning=False, pace=redraws(3))
    text = screen(ios.stdout.getvalue())
    assert text == whole_document(doc)
    for needle in ("def load(path: str) -> dict:", "# not a heading", "超时秒数", "最后检查网络", "Send a prompt"):
        assert text.count(needle) == 1, needle


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.sampled_from(sorted(BLOCKS)), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30),
    every=st.integers(min_value=1, max_value=6),
    width=st.sampled_from([40, 100]),
)
def test_any_mix_of_blocks_cut_anywhere_ends_as_the_whole_document(names, cuts, every, width):
    # known limit: a numbered list that reaches 10 items over several redraws keeps its first items' narrower
    # numbers (rich sizes the number column by the list's last number)
    assume(names.count("ordered") <= 2)
    doc = "\n\n".join(BLOCKS[name] for name in names) + "\n\nThat is all."
    deltas, start, i = [], 0, 0
    while start < len(doc):
        size = cuts[i % len(cuts)]
        deltas.append(ContentDelta(doc[start : start + size]))
        start, i = start + size, i + 1
    ios = tty(width=width)
    render_stream(deltas, ios, show_reasoning=False, pace=redraws(every))
    assert screen(ios.stdout.getvalue()) == whole_document(doc, width)
