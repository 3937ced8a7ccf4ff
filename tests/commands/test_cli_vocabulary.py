"""One vocabulary in every command: -o is a file, --format the shape, --json JSON output, --json-object asks
the model for JSON, -f an input file, -n a count; a spelling whose meaning changed fails with a hint."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from glm_cli.cli import main
from tests.conftest import glm_executable


@pytest.fixture
def glm(env, tmp_path, monkeypatch, capsys):
    """glm(*args) -> (exit code, stdout, stderr): the whole CLI in this process, in an empty directory."""
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith(("GLM_", "ZAI_", "ZHIPUAI_"))]:
        monkeypatch.delenv(key)
    for key, value in {**env, "GLM_BASE_URL": "http://127.0.0.1:9/api/paas/v4"}.items():  # nothing leaves the host
        monkeypatch.setenv(key, value)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main(list(args))
        out, err = capsys.readouterr()
        return exc.value.code or 0, out, err

    return run


@pytest.fixture
def jsonl(tmp_path) -> str:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "prompt": "one"}\n{"id": "b", "prompt": "two"}\n', encoding="utf-8")
    return str(path)


# ---- -o is the output file: a bare format name is refused, never a file named `json`

TEXT_JSON, RECORDS = ("text", "json"), ("record", "batch-api")
OUTPUT_COMMANDS = [  # (argv, the shapes its --format takes)
    (["ask", "--no-stdin", "hi"], TEXT_JSON),
    (["batch", "IN"], RECORDS),
    (["batch", "run", "IN"], RECORDS),
    (["batch", "submit", "IN"], RECORDS),
    (["batch", "fetch", "batch_1"], RECORDS),
    (["history", "export", "1"], ("markdown", "md", "json")),
    (["mcp", "list"], TEXT_JSON),
    (["mcp", "tools", "some-server"], TEXT_JSON),
]


@pytest.mark.parametrize("word", ["json", "text", "markdown"])
@pytest.mark.parametrize("argv, shapes", OUTPUT_COMMANDS, ids=[" ".join(a[:2]) for a, _ in OUTPUT_COMMANDS])
def test_a_format_name_as_output_file_is_refused_everywhere(glm, jsonl, tmp_path, argv, shapes, word):
    code, out, err = glm(*[jsonl if a == "IN" else a for a in argv], "-o", word)
    assert code == 2 and out == ""
    message, hint = err.splitlines()
    if word in shapes:
        also = " (or --json)" if word == "json" else ""
        assert message == f"glm: -o is the output file; use --format {word}{also}"
    else:
        assert message == f"glm: -o is the output file, not a format; --format takes {' or '.join(shapes)}"
    assert hint == f"hint: to write a file of that name, say -o ./{word}"
    assert not (tmp_path / word).exists()


def test_json_as_output_names_json_too(glm):
    code, _, err = glm("ask", "--no-stdin", "--output", "json", "hi")
    assert code == 2 and "glm: -o is the output file; use --format json (or --json)\n" in err


def test_dot_slash_json_is_a_file_named_json(glm, tmp_path):
    code, out, err = glm("ask", "--no-stdin", "--dry-run", "-o", "./json", "hi")
    assert (code, out, err) == (0, "", "")
    assert json.loads((tmp_path / "json").read_text(encoding="utf-8"))["messages"][0]["content"] == "hi"


def test_output_into_a_missing_directory_is_a_usage_error_before_anything_runs(glm, tmp_path):
    code, _, err = glm("ask", "--no-stdin", "--dry-run", "-o", "nowhere/answer.txt", "hi")
    assert code == 2 and "glm: cannot write -o nowhere/answer.txt: no such directory" in err


def test_submit_output_without_wait_is_refused_not_ignored(glm, jsonl):
    code, _, err = glm("batch", "submit", jsonl, "-o", "answers.jsonl")
    assert code == 2 and "glm: submit -o FILE writes the records of the finished batches: it needs --wait" in err


# ---- spellings whose meaning changed fail with a hint to the new one

RETIRED = [
    (["batch", "--json", "IN"], "--json no longer asks the model for JSON", "hint: use --json-object"),
    (["batch", "run", "IN", "--json"], "--json no longer asks the model for JSON", "hint: use --json-object"),
    (["batch", "submit", "--json", "IN"], "--json no longer asks the model for JSON", "hint: use --json-object"),
    (["batch", "IN", "--no-json"], "--no-json was renamed --no-json-object", "hint: use --no-json-object"),
    (["ask", "--no-stdin", "--no-json", "hi"], "--no-json was renamed --no-json-object", "hint: use --no-json-object"),
    (["batch", "fetch", "batch_1", "-i", "IN"], "-i/--input is now -f/--file", "hint: glm batch fetch ID… -f FILE"),
    (["batch", "fetch", "--input", "IN", "batch_1"], "-i/--input is now -f/--file", "hint: glm batch fetch ID… -f"),
    (
        ["history", "export", "1", "-f", "json"],
        "the export's shape is --format",
        "hint: glm history export ID|NAME --format json (or --json)",
    ),
]


@pytest.mark.parametrize("argv, message, hint", RETIRED, ids=[" ".join(a[:3]) for a, _, _ in RETIRED])
def test_a_spelling_whose_meaning_changed_fails_with_a_hint(glm, jsonl, argv, message, hint):
    code, out, err = glm(*[jsonl if a == "IN" else a for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("glm: ") and message in err.splitlines()[0]
    assert err.splitlines()[1].startswith(hint)


def test_retired_flags_are_not_offered_in_help_or_completion(glm):
    code, out, _ = glm("batch", "fetch", "--help")
    assert code == 0 and "--input" not in out and "-i," not in out and "-f, --file FILE" in out
    _, out, _ = glm("history", "export", "-h")
    assert "-f," not in out and "--format FORMAT" in out
    from glm_cli.cli import build_command
    from glm_cli.completion.gen import command_specs

    specs = {c.path: {n for o in c.opts for n in o.names} for c in command_specs(build_command())}
    assert "-i" not in specs["batch fetch"] and "--input" not in specs["batch fetch"] and "-f" in specs["batch fetch"]
    assert "--json" not in specs["batch run"] and "--json-object" in specs["batch run"]
    assert "-f" not in specs["history export"]


# ---- --json is machine-readable output; --format and --json must agree


def test_json_and_a_different_format_disagree(glm):
    code, _, err = glm("ask", "--no-stdin", "--json", "--format", "text", "hi")
    assert code == 2 and "glm: --json and --format text disagree" in err


def test_format_takes_only_the_command_s_shapes(glm, jsonl):
    code, _, err = glm("ask", "--no-stdin", "--format", "yaml", "hi")
    assert code == 2 and "'yaml' is not one of 'text', 'json'" in err
    code, _, err = glm("batch", jsonl, "--format", "json")
    assert code == 2 and "'json' is not one of 'record', 'batch-api'" in err


# ---- -n, --limit N is a count in every command that has one


def test_n_is_the_limit_of_batch_run(glm, jsonl):
    code, _, err = glm("batch", jsonl, "-n", "0")
    assert code == 2 and "--limit must be positive, got 0" in err


def glm_exe(environ, *args):
    return subprocess.run(
        [*glm_executable(), *args], capture_output=True, text=True, env=environ, timeout=30, stdin=subprocess.DEVNULL
    )


def test_n_is_the_limit_of_batch_list(srv, environ):
    done = glm_exe(environ, "batch", "list", "-n", "5", "--json")
    assert done.returncode == 0, done.stderr
    (listing,) = [r for r in srv.requests if r.method == "GET" and r.path.endswith("/batches")]
    assert listing.query.get("limit") == "5"


# ---- ask: --json prints glm's record, -o FILE gets the answer, --json-object asks the model for JSON


def test_ask_json_prints_the_record(srv, environ):
    srv.reply(content="Hello!", reasoning="hm")
    done = glm_exe(environ, "ask", "--no-log", "--json", "hi")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["content"] == "Hello!" and record["reasoning"] == "hm" and "usage" in record
    assert "response_format" not in srv.chat_requests()[0]  # --json is about glm's output, not the request


def test_ask_json_object_asks_the_model_and_prints_the_answer(srv, environ):
    srv.reply(content='{"primes": [2, 3, 5]}')
    done = glm_exe(environ, "ask", "--no-log", "--json-object", "three primes")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"primes": [2, 3, 5]}
    assert srv.chat_requests()[0]["response_format"] == {"type": "json_object"}


def test_ask_output_file_gets_the_answer_and_stdout_stays_empty(srv, environ, tmp_path: Path):
    srv.reply(content="Hello, file!")
    target = tmp_path / "answer.txt"
    done = glm_exe(environ, "ask", "--no-log", "-o", str(target), "hi")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and target.read_text(encoding="utf-8") == "Hello, file!\n"
    done = glm_exe(environ, "ask", "--no-log", "--json", "-o", str(target), "again")
    assert done.stdout == "" and json.loads(target.read_text(encoding="utf-8"))["content"] == "Echo: again"


def test_ask_output_file_is_left_alone_when_the_request_fails(srv, environ, tmp_path: Path):
    from tests.fake_server import Fault

    target = tmp_path / "answer.txt"
    target.write_text("an earlier answer\n", encoding="utf-8")
    srv.fault(Fault(status=401, code="1000"))
    done = glm_exe(environ, "ask", "--no-log", "-o", str(target), "hi")
    assert done.returncode == 4
    assert target.read_text(encoding="utf-8") == "an earlier answer\n"


def test_chat_json_object_and_the_json_slash_command(make_app):
    import httpx
    import respx

    from glm_cli.commands.chat import ChatOptions, run_chat
    from tests.chat.test_chat import URL, bodies, script
    from tests.conftest import chunk, sse_body

    with respx.mock() as mock:
        route = mock.post(URL).mock(
            side_effect=lambda request: httpx.Response(
                200, content=sse_body(chunk(content='{"a": 1}'), chunk(content="", finish="stop"))
            )
        )
        app = make_app()
        assert (
            run_chat(
                ChatOptions(json_object=True, no_log=True), app, script("one", "/json off", "two", "/json on", "three")
            )
            == 0
        )
    assert [b.get("response_format") for b in bodies(route)] == [{"type": "json_object"}, None, {"type": "json_object"}]
    assert "JSON object answers off" in app.ios.stderr.getvalue()


# ---- mcp and history: -o FILE, --format, --json


def test_mcp_list_json_to_a_file(glm, env, tmp_path):
    from tests.conftest import write_config

    write_config(env, "mcp_servers:\n  files:\n    command: [echo, hi]\n")
    code, out, _ = glm("mcp", "list", "--json", "-o", "servers.json")
    assert code == 0 and out == ""
    assert json.loads((tmp_path / "servers.json").read_text())[0]["name"] == "files"
    code, out, _ = glm("mcp", "list", "--format", "json")
    assert json.loads(out)[0]["command"] == "echo"


def test_history_export_json_shorthand(glm, env, tmp_path):
    from glm_cli.conversation import Conversation, Message
    from glm_cli.store import Store, default_path

    with Store.open(default_path(env)) as store:
        conv = Conversation(model="glm-4.7", source="ask")
        conv.add_user("hello")
        conv.add(Message(role="assistant", content="hi there", model="glm-4.7"))
        store.save(conv)
    code, out, _ = glm("history", "export", "1", "--json")
    assert code == 0 and json.loads(out)["messages"][1]["content"] == "hi there"
    code, out, err = glm("history", "export", "1", "-o", "talk.md")
    assert (code, out) == (0, "") and "wrote talk.md" in err
    assert (tmp_path / "talk.md").read_text(encoding="utf-8").startswith("# hello")
