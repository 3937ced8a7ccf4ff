"""The conversation store: round trips, schema, search, names; ask logging; 16 concurrent writers."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import respx

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.conversation import Conversation, Message
from glm_cli.errors import UsageError
from glm_cli.events import Usage
from glm_cli.store import SCHEMA_VERSION, Store, StoreError, default_path
from tests.conftest import FAKE_KEY, USAGE, chunk, glm_executable, sse_body, write_config
from tests.fake_server import FakeGLM

URL = "https://api.z.ai/api/paas/v4/chat/completions"
ODD_REASONING = "  Let me think…\r\n\n\t步骤 1: 先想一想 \u200b\n  trailing  "


def stream(content: str = "Hello", reasoning: str = "hmm") -> bytes:
    return sse_body(chunk(reasoning=reasoning), chunk(content=content), chunk(content="", finish="stop", usage=USAGE))


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "glm" / "history.db") as s:
        yield s


def conversation(*pairs: tuple[str, str], **kw) -> Conversation:
    conv = Conversation(model="glm-4.7", **kw)
    for user, answer in pairs:
        conv.add_user(user)
        conv.add(
            Message(
                role="assistant",
                content=answer,
                reasoning=ODD_REASONING,
                model="glm-4.7",
                finish_reason="stop",
                usage=Usage(100, 50, 150, 40, 20),
                latency=1.25,
            )
        )
    return conv


def test_round_trip_keeps_reasoning_byte_for_byte(store):
    conv = conversation(("hi", "hello"), ("more", "sure"), system="be brief", options={"preserve_thinking": True})
    conv.add(
        Message(
            role="assistant",
            content="",
            tool_calls=[{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": "é"}'}}],
        )
    )
    conv.add(Message(role="tool", content="42", tool_call_id="call_1"))
    conv.add(Message(role="assistant", content="part", interrupted=True))
    store.save(conv)
    back = store.load(conv.id)
    assert back.system == "be brief" and back.options == {"preserve_thinking": True} and back.model == "glm-4.7"
    assert [m.to_api() for m in back.messages] == [m.to_api() for m in conv.messages]
    assert back.messages[1].reasoning.encode() == ODD_REASONING.encode()
    assert back.messages[1].usage == Usage(100, 50, 150, 40, 20) and back.messages[1].latency == 1.25
    assert back.messages[-1].interrupted and not back.messages[1].interrupted
    assert back.saved == len(back.messages) == 7


def test_wal_schema_version_and_private_file(store, tmp_path):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert (tmp_path / "glm" / "history.db").stat().st_mode & 0o077 == 0


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "h.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}") as err:
        Store.open(path)
    assert err.value.hint == "upgrade glm"


def test_unwritable_location_is_a_store_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot open"):
        Store.open(tmp_path / "file" / "glm" / "history.db")


def test_default_path_follows_xdg():
    assert default_path({"XDG_DATA_HOME": "/x"}) == Path("/x/glm/history.db")
    assert default_path({"HOME": "/h"}) == Path("/h/.local/share/glm/history.db")


def test_saving_twice_appends_only_new_messages(store):
    conv = conversation(("one", "1"))
    store.save(conv)
    conv.add_user("two")
    conv.add(Message(role="assistant", content="2"))
    store.save(conv)
    assert [m.content for m in store.load(conv.id).messages] == ["one", "1", "two", "2"]


def test_pop_reply_and_exchange_then_delete(store):
    conv = conversation(("one", "1"), ("two", "2"))
    store.save(conv)
    removed = conv.pop_reply()
    assert [m.content for m in removed] == ["2"] and conv.messages[-1].content == "two"
    store.delete_messages(removed)
    removed = conv.pop_exchange()
    assert [m.content for m in removed] == ["two"]
    store.delete_messages(removed)
    assert [m.content for m in store.load(conv.id).messages] == ["one", "1"]
    conv.add_user("three")
    store.save(conv)
    assert [m.content for m in store.load(conv.id).messages] == ["one", "1", "three"]


def test_list_newest_first_with_turns_and_titles(store):
    for i in range(5):
        store.save(conversation((f"question  {i}\nsecond line", "a"), ("again", "b")))
    rows = store.list(limit=3)
    assert [r.title for r in rows] == ["question 4 second line", "question 3 second line", "question 2 second line"]
    assert rows[0].turns == 2 and rows[0].model == "glm-4.7"
    assert len(store.list(limit=None)) == store.count() == 5


def test_names_resolve_and_are_unique(store):
    a, b = conversation(("a", "1")), conversation(("b", "2"))
    store.save(a)
    store.save(b)
    store.rename(a.id, "design-review")
    assert store.resolve("design-review") == a.id and store.resolve(str(b.id)) == b.id
    with pytest.raises(StoreError, match="already named"):
        store.rename(b.id, "design-review")
    with pytest.raises(StoreError, match="number"):
        store.rename(b.id, "42")
    with pytest.raises(StoreError, match="no conversation 'nope'"):
        store.resolve("nope")


def test_search_substrings_chinese_short_terms_and_quotes(store):
    store.save(conversation(("how do I parse JSON in Go?", "use encoding/json"), ("谢谢你的帮助", "不客气")))
    store.save(conversation(("weather in Paris", "cloudy, 18°C"), ('say "hi" 100%', "ok")))
    assert [h.content for h in store.search("encoding/json")] == ["use encoding/json"]
    assert [h.content for h in store.search("PARSE go")] == ["how do I parse JSON in Go?"]
    assert [h.content for h in store.search("你的帮")] == ["谢谢你的帮助"]  # inside a word: substring search
    assert [h.content for h in store.search("客气")] == ["不客气"]  # 2 characters: below trigram size
    assert [h.content for h in store.search('"hi" 100%')] == ['say "hi" 100%']
    assert store.search("absent words") == []
    assert [h.content for h in store.search("18°")] == ["cloudy, 18°C"]


def test_delete_removes_messages_and_search_hits(store):
    conv = conversation(("unique needle words", "x"))
    store.save(conv)
    store.delete(conv.id)
    assert store.search("needle") == [] and store.count() == 0


# ---- ask logs its turns


@pytest.fixture
def glm():
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(URL).mock(return_value=httpx.Response(200, content=stream()))


def stored(env) -> list[Conversation]:
    path = default_path(env)
    if not path.exists():
        return []
    with Store.open(path) as s:
        return [s.load(r.id) for r in s.list(limit=None)]


def test_ask_logs_one_turn_conversation_and_never_the_key(make_app, env, glm):
    run_ask(AskOptions(prompt=("hi",), system="be brief"), make_app())
    (conv,) = stored(env)
    assert conv.source == "ask" and conv.system == "be brief" and conv.model == "glm-4.7"
    assert [(m.role, m.content, m.reasoning) for m in conv.messages] == [
        ("user", "hi", ""),
        ("assistant", "Hello", "hmm"),
    ]
    assert conv.messages[1].usage.cached_tokens == 40 and conv.messages[1].latency is not None
    data = b"".join(p.read_bytes() for p in default_path(env).parent.iterdir())
    assert FAKE_KEY.encode() not in data and b"fake-secret" not in data


def test_ask_no_log_flag_and_profile_log_false(make_app, env, glm):
    run_ask(AskOptions(prompt=("hi",), no_log=True), make_app())
    assert stored(env) == []
    write_config(env, "log: false\n")
    run_ask(AskOptions(prompt=("hi",)), make_app())
    assert stored(env) == []


def test_ask_continue_sends_history_and_appends(make_app, env, glm):
    run_ask(AskOptions(prompt=("first",), system="sys", model="glm-4.5-air"), make_app())
    app = make_app()
    assert run_ask(AskOptions(prompt=("and now in French",), continue_=True), app) == 0
    body = json.loads(glm.calls.last.request.content)
    assert body["model"] == "glm-4.5-air"  # the conversation's model unless -m says otherwise
    assert body["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "and now in French"},
    ]
    (conv,) = stored(env)
    assert [m.content for m in conv.messages] == ["first", "Hello", "and now in French", "Hello"]


def test_ask_continue_keeps_the_conversations_preserved_thinking(make_app, env, glm):
    from glm_cli.store import save_conversation

    conv = Conversation(model="glm-4.7", options={"preserve_thinking": True})
    conv.add_user("first")
    conv.add(Message(role="assistant", content="A", reasoning=ODD_REASONING))
    save_conversation(env, conv)
    run_ask(AskOptions(prompt=("next",), continue_=True), make_app())
    body = json.loads(glm.calls.last.request.content)
    assert body["thinking"] == {"type": "enabled", "clear_thinking": False}
    assert body["messages"][1]["reasoning_content"] == ODD_REASONING


def test_ask_continue_with_nothing_to_continue(make_app, glm):
    with pytest.raises(UsageError, match="no earlier conversation"):
        run_ask(AskOptions(prompt=("x",), continue_=True), make_app())


def test_ask_store_failure_is_a_warning_not_a_lost_answer(make_app, env, glm, tmp_path):
    (tmp_path / "blocked").write_text("a file where the data dir should be")
    app = make_app(environ={**env, "XDG_DATA_HOME": str(tmp_path / "blocked")})
    assert run_ask(AskOptions(prompt=("hi",)), app) == 0
    assert app.ios.stdout.getvalue() == "Hello\n"
    assert "warning: this conversation was not logged" in app.ios.stderr.getvalue()


def test_concurrent_writers_in_threads(tmp_path):
    path = tmp_path / "h.db"

    def one(i: int) -> int:
        with Store.open(path) as s:
            conv = conversation((f"q{i}", "a"))
            s.save(conv)
            return conv.id

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(one, range(32)))
    assert len(set(ids)) == 32
    with Store.open(path) as s:
        assert s.count() == 32


@pytest.mark.slow
def test_16_concurrent_ask_processes_all_logged(tmp_path):
    with FakeGLM(first_byte_delay=0.05) as srv:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "GLM_API_KEY": srv.api_key,
            "GLM_BASE_URL": srv.base_url,
        }
        procs = [
            subprocess.Popen(
                [*glm_executable(), "ask", f"prompt number {i}"],
                env=env,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for i in range(16)
        ]
        results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    for code, _out, err in results:
        assert code == 0 and err == "", err
        assert "locked" not in err
    convs = stored(env)
    assert sorted(c.messages[0].content for c in convs) == sorted(f"prompt number {i}" for i in range(16))
    assert all(c.messages[1].content.startswith("Echo: prompt number") for c in convs)
