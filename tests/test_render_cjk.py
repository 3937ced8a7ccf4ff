"""Chinese on a terminal (issue 14): paragraphs with no spaces, much longer than a screen, in 2-character deltas.

The final screen is what rendering the whole answer once shows, the open tail is the paragraph's newest text, and
each redraw of it is at most a screenful, however long the paragraph has grown."""

from __future__ import annotations

import re

import pytest

from glm_cli.render import Pace, render_stream
from tests.test_render import pieces, redraws, screen, tty, whole_document

SENTENCE = (
    "配置保存在一个**YAML**文件中，每个值都可以用命令行参数或环境变量覆盖，`glm config show`会告诉你每个值来自哪里。"
)
LONG = "".join(f"第{n}句：" + SENTENCE.replace("**", "").replace("`", "") for n in range(60))  # ~3,600 characters
ANSWER = (
    "## 第一步：配置客户端\n\n"
    f"{SENTENCE}\n请不要把密钥写进配置文件：它应该放在`GLM_API_KEY`环境变量中。\n\n"
    f"{LONG}\n\n"
    '- 用`pipx install glm-cli`安装\n- 运行`glm ask "你好"`并检查回答\n\n'
    "1. 运行`glm models`，确认密钥可用。\n2. 比较两者的**延迟**：如果相差超过一秒，问题多半出在代理上。\n\n"
    "> 注意：配置只在每次运行开始时读取一次。\n\n"
    f"{LONG[:700]}"
)


@pytest.mark.parametrize("width", [40, 100])
@pytest.mark.parametrize(("size", "every"), [(2, 40), (2, 0), (7, 3), (7, 0)])
def test_chinese_answer_ends_on_the_screen_of_the_whole_document(width: int, size: int, every: int):
    ios = tty(width=width)
    reply = render_stream(pieces(ANSWER, size), ios, show_reasoning=False, pace=redraws(every or 10**9))
    assert reply.content == ANSWER
    assert screen(ios.stdout.getvalue()) == whole_document(ANSWER, width)


def test_a_long_chinese_paragraph_redraws_at_most_a_screenful():
    ios = tty(width=60)
    ios.environ["LINES"] = "20"
    render_stream(pieces(LONG * 3, 2), ios, show_reasoning=False, pace=redraws(200))
    raw = ios.stdout.getvalue()
    erased = [len(m.group(0)) // len("\x1b[1A\x1b[2K") for m in re.finditer(r"(?:\x1b\[1A\x1b\[2K)+", raw)]
    assert len(erased) > 10 and max(erased) <= 20  # the paragraph is ~360 rows at 60 columns; each redraw ≤ 20
    assert screen(raw) == whole_document(LONG * 3, 60)


def test_the_open_tail_of_a_chinese_paragraph_shows_its_newest_text():
    ios = tty(width=50)
    now = [0.0]
    snapshots = []

    def stream():
        for i, delta in enumerate(pieces(LONG, 2)):
            if i in (300, 1200):
                now[0] += 1.0  # a redraw is due with this delta
            yield delta
            if i in (300, 1200):
                snapshots.append((LONG[: 2 * i + 2], screen(ios.stdout.getvalue())))

    render_stream(stream(), ios, show_reasoning=False, pace=Pace(clock=lambda: now[0], redraw=1.0))
    assert len(snapshots) == 2
    for received, shown in snapshots:
        assert "".join(shown.split()).endswith("".join(received.split())[-30:])  # the newest characters, on screen
