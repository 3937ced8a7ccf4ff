"""`glm history list|show|search|export|rm` over a store filled with known conversations."""

from __future__ import annotations

import json

import pytest

from glm_cli.commands import history as h
from glm_cli.conversation import Conversation, Message
from glm_cli.errors import UsageError
from glm_cli.events import Usage
from glm_cli.store import Store, StoreError, default_path


@pytest.fixture
def filled(env):
    with Store.open(default_path(env)) as store:
        a = Conversation(model="glm-4.7", system="be brief", source="chat")
        a.add_user("How do I parse JSON in Go?")
        a.add(
            Message(
                role="assistant",
                content="Use encoding/json.",
                reasoning="The user asks about Go.\n",
                model="glm-4.7",
                finish_reason="stop",
                usage=Usage(10, 5, 15, 0, 2),
                latency=0.5,
            )
        )
        a.add_user("And YAML?")
        a.add(Message(role="assistant", content="gopkg.in/yaml", model="glm-4.7", interrupted=True))
        store.save(a)
        store.rename(a.id, "go-parsing")
        b = Conversation(model="glm-4.5-air", source="ask")
        b.add_user("翻译：你好世界")
        b.add(Message(role="assistant", content="Hello, world", model="glm-4.5-air"))
        store.save(b)
    return a.id, b.id


# One Options type and one run function per subcommand.
COMMANDS = {
    "list": (h.ListOptions, h.run_list),
    "show": (h.ShowOptions, h.run_show),
    "search": (h.SearchOptions, h.run_search),
    "export": (h.ExportOptions, h.run_export),
    "rm": (h.RmOptions, h.run_rm),
}


def run_history(action, app, **kw):
    options, run = COMMANDS[action]
    return run(options(**kw), app)


def run(make_app, action, **kw):
    app = make_app()
    assert run_history(action, app, **kw) == 0
    return app.ios.stdout.getvalue(), app.ios.stderr.getvalue()


def test_list_piped_is_tab_separated_newest_first(make_app, filled):
    out, _ = run(make_app, action="list")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [r[0] for r in rows] == [str(filled[1]), str(filled[0])]
    assert rows[1][2:] == ["2", "glm-4.7", "go-parsing", "How do I parse JSON in Go?"]
    assert rows[0][4:] == ["", "翻译：你好世界"]


def test_list_on_a_terminal_has_a_header_and_limit(make_app, filled):
    app = make_app(stdout_tty=True)
    run_history("list", app, limit=1)
    lines = app.ios.stdout.getvalue().splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "TURNS", "MODEL", "NAME", "/", "FIRST", "MESSAGE"]
    assert len(lines) == 2 and "翻译" in lines[1]


def test_list_json(make_app, filled):
    out, _ = run(make_app, action="list", as_json=True)
    data = json.loads(out)
    assert data[1]["name"] == "go-parsing" and data[1]["turns"] == 2 and data[1]["updated"].endswith("+00:00")


def test_empty_store_on_a_terminal_says_so(make_app):
    app = make_app(stdout_tty=True)
    run_history("list", app)
    assert app.ios.stdout.getvalue() == "" and "no conversations yet" in app.ios.stderr.getvalue()


def test_show_by_name_hides_reasoning_unless_asked(make_app, filled):
    out, _ = run(make_app, action="show", ref="go-parsing")
    assert out.startswith("# go-parsing\n") and "## System\n\nbe brief" in out
    assert "## User\n\nHow do I parse JSON in Go?" in out and "Use encoding/json." in out
    assert "The user asks about Go." not in out and "*(interrupted)*" in out
    out, _ = run(make_app, action="show", ref=str(filled[0]), thinking=True)
    assert "<details><summary>Thinking</summary>\n\nThe user asks about Go.\n" in out


def test_export_json_is_complete_and_byte_exact(make_app, filled, tmp_path):
    target = tmp_path / "out.json"
    _, err = run(make_app, action="export", ref="go-parsing", format="json", output=str(target))
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert f"wrote {target}" in err
    assert doc["name"] == "go-parsing" and doc["system"] == "be brief" and doc["source"] == "chat"
    first = doc["messages"][1]
    assert first["reasoning_content"] == "The user asks about Go.\n" and first["latency"] == 0.5
    assert first["usage"]["prompt_tokens"] == 10 and first["usage"]["completion_tokens_details"] == {
        "reasoning_tokens": 2
    }
    assert doc["messages"][3]["interrupted"] is True and "usage" not in doc["messages"][0]


def test_export_markdown_to_stdout(make_app, filled):
    out, _ = run(make_app, action="export", ref=str(filled[1]), format="markdown")
    assert out.startswith("# 翻译：你好世界\n") and "## Assistant (glm-4.5-air)\n\nHello, world" in out


def test_export_bad_format_and_unknown_ref(make_app, filled):
    with pytest.raises(UsageError, match="--format must be json or markdown"):
        run(make_app, action="export", ref="1", format="yaml")
    with pytest.raises(StoreError, match="no conversation '99'"):
        run(make_app, action="show", ref="99")


def test_search_finds_substrings_and_chinese(make_app, filled):
    out, _ = run(make_app, action="search", words=("encoding/json",))
    assert out == f"{filled[0]}\tassistant\tUse encoding/json.\n"
    out, _ = run(make_app, action="search", words=("你好",))
    assert out.startswith(f"{filled[1]}\tuser\t")
    out, _ = run(make_app, action="search", words=("parse", "go"), as_json=True)
    assert json.loads(out)[0]["name"] == "go-parsing"
    app = make_app(stdout_tty=True)
    run_history("search", app, words=("nowhere", "to", "be", "found"))
    assert "nothing found for 'nowhere to be found'" in app.ios.stderr.getvalue()


def test_rm_checks_every_ref_before_deleting(make_app, env, filled):
    with pytest.raises(StoreError):
        run(make_app, action="rm", refs=("go-parsing", "nope"))
    with Store.open(default_path(env)) as s:
        assert s.count() == 2
    _, err = run(make_app, action="rm", refs=("go-parsing", str(filled[1])))
    assert f"deleted conversation {filled[0]} (go-parsing)" in err and f"deleted conversation {filled[1]}\n" in err
    with Store.open(default_path(env)) as s:
        assert s.count() == 0 and s.search("encoding") == []


def test_negative_limit_is_a_usage_error(make_app):
    with pytest.raises(UsageError):
        run(make_app, action="list", limit=-1)


def test_history_via_the_cli(env, filled, tmp_path):
    import subprocess

    from tests.conftest import glm_executable

    out = subprocess.run([*glm_executable(), "history", "list"], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 2
    out = subprocess.run([*glm_executable(), "history", "show", "nope"], capture_output=True, text=True, env=env)
    assert out.returncode == 1 and "glm: no conversation 'nope'" in out.stderr and "glm history list" in out.stderr
