"""`glm ask -x`: only the fenced code blocks of the answer, raw, each printed as soon as it is complete."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.errors import GlmError
from glm_cli.extract import CodeExtractor, extract_blocks, same_language
from tests.conftest import FAKE_KEY, chunk, run_glm, sse_body

URL = "https://api.z.ai/api/paas/v4/chat/completions"
ANSWER = "Use this:\n\n```bash\nls -la | head\n```\n\nand then:\n\n```python\nprint('hi')\n```\nDone."


def answer_route(mock, content: str, finish: str = "stop"):
    pieces = [content[i : i + 5] for i in range(0, len(content), 5)]
    body = sse_body(*(chunk(content=p) for p in pieces), chunk(content="", finish=finish))
    return mock.post(URL).mock(return_value=httpx.Response(200, content=body))


# ---- the extractor


def test_first_block_only_by_default():
    assert [b.code for b in extract_blocks(ANSWER)] == ["ls -la | head\n"]


def test_all_blocks_and_their_languages():
    blocks = extract_blocks(ANSWER, all_blocks=True)
    assert [(b.language, b.code) for b in blocks] == [("bash", "ls -la | head\n"), ("python", "print('hi')\n")]


@pytest.mark.parametrize(
    ("wanted", "fence"), [("bash", "sh"), ("sh", "shell"), ("py", "python"), ("yml", "yaml"), ("Bash", "BASH")]
)
def test_language_names_that_mean_the_same(wanted, fence):
    assert same_language(wanted, fence)
    assert [b.code for b in extract_blocks(f"```{fence}\nx\n```\n", language=wanted)] == ["x\n"]


def test_language_filter_skips_other_blocks():
    assert [b.code for b in extract_blocks(ANSWER, language="python")] == ["print('hi')\n"]
    assert extract_blocks(ANSWER, language="rust") == []


def test_longer_fence_holds_a_shorter_one_and_tildes_work():
    text = "````markdown\n```bash\nx\n```\n````\n~~~\ny\n~~~\n"
    blocks = extract_blocks(text, all_blocks=True)
    assert [b.code for b in blocks] == ["```bash\nx\n```\n", "y\n"]
    assert blocks[0].language == "markdown" and blocks[1].language == ""


def test_fence_in_a_list_item_loses_its_indentation():
    text = "1. Run:\n   ```bash\n   make\n     make install\n   ```\n"
    assert [b.code for b in extract_blocks(text)] == ["make\n  make install\n"]


def test_info_string_extras_and_blank_lines_kept():
    text = "```python title=x.py\na = 1\n\nb = 2\n```"
    blocks = extract_blocks(text)
    assert blocks[0].language == "python" and blocks[0].code == "a = 1\n\nb = 2\n"


def test_unclosed_block_only_when_the_answer_is_complete():
    text = "```bash\nrm -rf build"
    assert [b.code for b in extract_blocks(text, complete=True)] == ["rm -rf build\n"]
    assert extract_blocks(text, complete=False) == []  # cut short: half a command is worse than none


def test_each_block_is_emitted_the_moment_its_closing_fence_line_ends():
    seen: list[tuple[int, str]] = []
    position = [0]
    extractor = CodeExtractor(lambda b: seen.append((position[0], b.code)), all_blocks=True)
    for i, ch in enumerate(ANSWER):
        position[0] = i
        extractor.feed(ch)
    extractor.finish(True)
    first_close = ANSWER.index("```\n", ANSWER.index("ls -la")) + 3  # the newline after the closing fence
    second_close = ANSWER.index("```\nDone") + 3
    assert seen == [(first_close, "ls -la | head\n"), (second_close, "print('hi')\n")]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("`~ \n\tab{}.x\r")), max_size=120), st.integers(1, 7))
def test_any_text_in_any_pieces_gives_the_same_blocks(text, size):
    whole = extract_blocks(text, all_blocks=True)
    got = []
    extractor = CodeExtractor(got.append, all_blocks=True)
    for i in range(0, len(text), size):
        extractor.feed(text[i : i + size])
    extractor.finish(True)
    assert got == whole


# ---- glm ask -x (run_ask with respx)


def test_extract_prints_only_the_code(make_app):
    with respx.mock:
        answer_route(respx, ANSWER)
        app = make_app()
        assert run_ask(AskOptions(prompt=("q",), extract=True), app) == 0
    assert app.ios.stdout.getvalue() == "ls -la | head\n"


def test_extract_all_and_lang(make_app):
    with respx.mock:
        answer_route(respx, ANSWER)
        app = make_app()
        run_ask(AskOptions(prompt=("q",), extract_all=True), app)
    assert app.ios.stdout.getvalue() == "ls -la | head\nprint('hi')\n"
    with respx.mock:
        answer_route(respx, ANSWER)
        app = make_app()
        run_ask(AskOptions(prompt=("q",), extract_lang="py"), app)
    assert app.ios.stdout.getvalue() == "print('hi')\n"


def test_block_is_printed_before_the_rest_of_the_answer_arrives(make_app):
    app = make_app()
    seen_when_done_was_sent: list[str] = []

    def body():
        yield sse_body(chunk(content="```bash\necho one\n```\n"), done=False)
        yield sse_body(chunk(content="Some more words"), done=False)
        seen_when_done_was_sent.append(app.ios.stdout.getvalue())  # the stream is still open here
        yield sse_body(chunk(content="", finish="stop"))

    with respx.mock:
        respx.post(URL).mock(side_effect=lambda request: httpx.Response(200, content=body()))
        assert run_ask(AskOptions(prompt=("q",), extract=True), app) == 0
    assert seen_when_done_was_sent == ["echo one\n"]


def test_no_code_block_is_exit_9_with_nothing_on_stdout(make_app):
    with respx.mock:
        answer_route(respx, "I cannot help with that.")
        app = make_app()
        with pytest.raises(GlmError) as exc:
            run_ask(AskOptions(prompt=("q",), extract=True), app)
    assert exc.value.exit_code == 9 and "no fenced code block" in exc.value.message
    assert "glm history show" in exc.value.hint
    assert app.ios.stdout.getvalue() == ""


def test_no_block_in_the_language_asked_names_it(make_app):
    with respx.mock:
        answer_route(respx, ANSWER)
        with pytest.raises(GlmError, match="no ```rust fenced code block") as exc:
            run_ask(AskOptions(prompt=("q",), extract_lang="rust", no_log=True), make_app())
    assert exc.value.exit_code == 9 and "without -x" in exc.value.hint


def test_cut_answer_prints_no_half_block_and_exits_8(make_app):
    with respx.mock:
        answer_route(respx, "```bash\nrm -rf /tmp/bu", finish="length")
        app = make_app()
        with pytest.raises(GlmError) as exc:
            run_ask(AskOptions(prompt=("q",), extract=True), app)
    assert exc.value.exit_code == 8 and app.ios.stdout.getvalue() == ""


def test_json_record_gains_the_extracted_code(make_app):
    with respx.mock:
        answer_route(respx, ANSWER)
        app = make_app()
        run_ask(AskOptions(prompt=("q",), extract_all=True, format="json"), app)
    rec = json.loads(app.ios.stdout.getvalue())
    assert rec["content"] == ANSWER
    assert rec["extracted"] == [
        {"language": "bash", "code": "ls -la | head\n"},
        {"language": "python", "code": "print('hi')\n"},
    ]


def test_json_record_without_code_still_printed_then_exit_9(make_app):
    with respx.mock:
        answer_route(respx, "no code here")
        app = make_app()
        with pytest.raises(GlmError) as exc:
            run_ask(AskOptions(prompt=("q",), extract=True, format="json"), app)
    assert exc.value.exit_code == 9
    rec = json.loads(app.ios.stdout.getvalue())
    assert rec["content"] == "no code here" and rec["extracted"] == []


def test_extract_with_a_json_object_answer_is_refused_before_sending(make_app):
    with respx.mock:
        route = answer_route(respx, ANSWER)
        with pytest.raises(GlmError) as exc:
            run_ask(AskOptions(prompt=("q",), extract=True, json_object=True), make_app())
    assert exc.value.exit_code == 2 and not route.called


def test_extract_on_a_terminal_is_raw_too(make_app):
    with respx.mock:
        answer_route(respx, ANSWER)
        app = make_app(stdout_tty=True)
        run_ask(AskOptions(prompt=("q",), extract=True), app)
    assert app.ios.stdout.getvalue() == "ls -la | head\n"  # no markdown rendering, no ANSI


# ---- the installed glm against the fake server


def test_e2e_extract(srv, environ):
    srv.reply(content="Sure:\n```sh\nfind . -name '*.py' | wc -l\n```\nThat counts them.")
    out = run_glm(["ask", "-x", "--no-think", "count python files"], environ)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "find . -name '*.py' | wc -l\n"
    assert srv.chat_requests()[-1]["thinking"] == {"type": "disabled"}


def test_e2e_no_code_block(srv, environ):
    srv.reply(content="No code today.")
    out = run_glm(["ask", "-x", "q"], environ)
    assert out.returncode == 9 and out.stdout == ""
    assert "glm: the answer has no fenced code block" in out.stderr


def test_e2e_help_lists_the_flags(environ):
    out = run_glm(["ask", "--help"], {**environ, "GLM_API_KEY": FAKE_KEY, "COLUMNS": "200"})
    assert "--extract" in out.stdout and "-x" in out.stdout and "--extract-lang" in out.stdout
