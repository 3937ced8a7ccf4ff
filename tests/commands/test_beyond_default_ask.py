"""`glm "question"` is `glm ask "question"`; a word close to a command name is an error, never a paid request."""

from __future__ import annotations

import json

import pytest

from glm_cli.cli import COMMAND_NAMES, build_command, default_to_ask
from glm_cli.errors import UsageError
from tests.conftest import run_glm


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["what is an inode"], ["ask", "what is an inode"]),
        (["what", "is", "an", "inode"], ["ask", "what", "is", "an", "inode"]),
        (["chta", "with", "me"], ["ask", "chta", "with", "me"]),  # more words: a prompt, whatever the first is
        (["summarize"], ["ask", "summarize"]),
        (["hello", "--no-think"], ["ask", "hello", "--no-think"]),
        (["models", "--all"], ["models", "--all"]),
        (["--version"], ["--version"]),
        (["help"], ["--help"]),
        ([], []),
    ],
)
def test_what_becomes_ask(args, expected):
    assert default_to_ask(args) == expected


@pytest.mark.parametrize(
    ("args", "close"),
    [
        (["modles"], "models"),
        (["modles", "--all"], "models"),
        (["chta"], "chat"),
        (["hist"], "history"),
        (["Ask"], "ask"),
        (["btach"], "batch"),
        (["auht"], "auth"),
        (["token"], "tokens"),
        (["embd"], "embed"),
    ],
)
def test_a_word_close_to_a_command_is_refused(args, close):
    with pytest.raises(UsageError) as exc:
        default_to_ask(args)
    assert exc.value.message == f"unknown command `{args[0]}`; did you mean `{close}`?"
    assert exc.value.hint.startswith(f"to ask it as a question: glm ask {args[0]}") and exc.value.exit_code == 2


def test_the_command_names_are_the_apps():
    import click

    root = build_command()
    ctx = click.Context(root)
    assert sorted(root.list_commands(ctx)) == sorted(COMMAND_NAMES)
    assert all(root.get_command(ctx, name) is not None for name in COMMAND_NAMES)  # each module loads


def test_e2e_a_question_is_asked(srv, environ):
    out = run_glm(["what is an inode"], environ)
    assert out.returncode == 0 and out.stdout == "Echo: what is an inode\n"
    out = run_glm(["explain", "this", "--no-think"], environ)
    assert out.returncode == 0 and out.stdout == "Echo: explain this\n"
    assert srv.chat_requests()[-1]["thinking"] == {"type": "disabled"}
    out = run_glm(["summarize"], environ, stdin=None, input="the diff\n")
    assert out.stdout == "Echo: summarize\n\nthe diff\n"


def test_e2e_a_typo_is_an_error_and_nothing_is_sent(srv, environ):
    out = run_glm(["modles"], environ)
    assert out.returncode == 2 and out.stdout == ""
    assert (
        out.stderr
        == "glm: unknown command `modles`; did you mean `models`?\nhint: to ask it as a question: glm ask modles\n"
    )
    assert srv.requests == []


def test_e2e_dry_run_and_help(srv, environ):
    out = run_glm(["a question", "--dry-run"], environ)
    assert out.returncode == 0 and json.loads(out.stdout)["messages"] == [{"role": "user", "content": "a question"}]
    out = run_glm(["help"], environ)
    assert out.returncode == 0 and "Exit codes" in out.stdout
    assert srv.requests == []
