"""An error the server reports inside an answer (a stream's error frame, a 200 body) is classed by its GLM code
as the same code in an HTTP error answer is; after part of the answer, one that names no class of its own means
the answer broke off (exit 6, as a cut stream). `ask --json` keeps what came of a broken answer in its record.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
import typer

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.commands.common import run_command
from tests.conftest import chunk, glm_env, sse_body
from tests.conftest import run_glm as run
from tests.fake_server import FakeGLM, Fault


def run_glm(srv: FakeGLM, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(list(args), glm_env(srv, tmp_path))


# (GLM code, the HTTP status it comes with, the exit code both ways)
PARITY = [("1301", 400, 7), ("1113", 429, 5), ("1000", 401, 4), ("1214", 400, 1)]  # none retried: no waits


@pytest.mark.parametrize(("code", "status", "exit_code"), PARITY, ids=[p[0] for p in PARITY])
def test_an_error_frame_mid_stream_exits_as_the_same_http_error_does(tmp_path, code, status, exit_code):
    with FakeGLM() as srv:
        srv.fault(Fault(status=status, code=code))
        as_http = run_glm(srv, tmp_path, "ask", "hi")
        srv.reply(content="partial answer", reasoning="")
        srv.fault(Fault(kind="error_frame", code=code, after_events=3))
        mid_stream = run_glm(srv, tmp_path, "ask", "hi")
    assert as_http.returncode == exit_code, as_http.stderr
    assert mid_stream.returncode == exit_code, mid_stream.stderr  # before: 1 whatever the code
    assert mid_stream.stdout == "partial answ\n"  # what came was shown, as it came
    assert mid_stream.stderr.startswith(f"glm: the answer broke off: the server reported an error (GLM {code}): ")


def test_a_server_error_frame_after_part_of_the_answer_is_a_broken_answer(tmp_path):
    with FakeGLM() as srv:
        srv.reply(content="partial answer", reasoning="")
        srv.fault(Fault(kind="error_frame", after_events=3, message="boom"))  # GLM 500
        out = run_glm(srv, tmp_path, "ask", "hi")
    assert out.returncode == 6 and out.stdout == "partial answ\n"  # before: exit 1
    assert out.stderr == ("glm: the answer broke off: the server reported an error (GLM 500): boom\nhint: try again\n")


@pytest.mark.parametrize("args", [["--json"], ["--format", "json"]], ids=["json", "format-json"])
def test_ask_json_prints_the_partial_answer_and_the_error(tmp_path, args):
    with FakeGLM() as srv:
        srv.reply(content="partial answer", reasoning="")
        srv.fault(Fault(kind="error_frame", after_events=3, message="boom"))
        frame = run_glm(srv, tmp_path, "ask", *args, "hi")
        srv.reply(content="partial answer", reasoning="")
        srv.fault(Fault(kind="cut", after_events=3))
        cut = run_glm(srv, tmp_path, "ask", *args, "hi")
    assert frame.returncode == 6 and cut.returncode == 6
    record = json.loads(frame.stdout)  # before: nothing on stdout
    assert (record["content"], record["model"], record["finish_reason"], record["usage"]) == (
        "partial answ",
        "glm-4.7",
        None,
        None,
    )
    assert record["error"] == {
        "code": "500",
        "message": "the answer broke off: the server reported an error (GLM 500): boom",
    }
    record = json.loads(cut.stdout)
    assert record["content"] == "partial answ"
    assert record["error"] == {
        "code": "network_error",
        "message": "the stream ended before the answer was complete (no [DONE])",
    }


def test_ask_json_at_the_deadline_mid_stream_keeps_the_partial_answer(make_app):
    from tests.test_harden_transport import FakeClock

    clock = FakeClock()

    def pieces():
        yield sse_body(chunk(content="half an "), done=False)
        clock.now += 601  # the 600 s deadline passes while the answer streams
        yield sse_body(chunk(content="answer", finish="stop"))

    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=pieces())
    )
    app = make_app(transport=transport)
    app.clock, app.sleep = clock, clock.sleep
    with pytest.raises(typer.Exit) as exc:
        run_command(run_ask, AskOptions(prompt=("hi",), as_json=True, no_log=True), app)
    assert exc.value.exit_code == 6
    record = json.loads(app.ios.stdout.getvalue())
    assert record["content"] == "half an " and record["error"]["code"] == "network_error"
    assert "600 s deadline" in record["error"]["message"]


def test_nothing_of_an_answer_before_the_error_prints_no_record(tmp_path):
    with FakeGLM() as srv:
        srv.fault(Fault(kind="error_frame", after_events=0, code="1301"))
        out = run_glm(srv, tmp_path, "ask", "--json", "hi")
    assert (out.returncode, out.stdout) == (7, "")
    assert out.stderr.startswith("glm: the server answered with an error (GLM 1301): ")  # not "broke off"


def ask(make_app, body: bytes, *, stream: bool) -> tuple[int, str, str]:
    ctype = "text/event-stream" if stream else "application/json"
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": ctype}, content=iter([body]))
    )
    app = make_app(transport=transport)
    with pytest.raises(typer.Exit) as exc:
        run_command(run_ask, AskOptions(prompt=("hi",), no_stream=not stream, no_log=True), app)
    return exc.value.exit_code, app.ios.stdout.getvalue(), app.ios.stderr.getvalue()


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [({"code": "1113", "message": "no balance"}, 5), ({"code": "1302", "message": "slow down"}, 5)]
    + [({"code": "1234", "message": "late"}, 6), ({"code": "1301", "message": "unsafe"}, 7)]
    + [({"code": "1214", "message": "bad"}, 1), ({"code": "invalid_api_key", "message": "x"}, 1)],
)
def test_an_error_in_a_200_answer_is_classed_by_its_code(make_app, error, exit_code):
    whole = json.dumps({"error": error}).encode()
    assert ask(make_app, whole, stream=False)[0] == exit_code  # before: 1 whatever the code
    first_frame = sse_body({"error": error}, done=False)
    assert ask(make_app, first_frame, stream=True)[0] == exit_code


def test_an_error_event_is_classed_by_its_code_too(make_app):
    body = sse_body(chunk(content="par"), done=False) + b'event: error\ndata: {"code": "1301", "message": "no"}\n\n'
    code, out, err = ask(make_app, body, stream=True)
    assert (code, out) == (7, "par\n")  # before: exit 1, "stream error: {...}"
    assert err.startswith("glm: the answer broke off: the server reported an error (GLM 1301): no\n")


def test_batch_stops_on_a_balance_error_frame_as_on_a_balance_answer(tmp_path):
    src, dest = tmp_path / "in.txt", tmp_path / "out.jsonl"
    src.write_text("one\ntwo\nthree\n", encoding="utf-8")
    with FakeGLM() as srv:
        srv.fault(Fault(kind="error_frame", after_events=2, code="1113"))
        out = run_glm(srv, tmp_path, "batch", "--stream", "-j", "1", "--text", str(src), "-o", str(dest))
    assert out.returncode == 5, out.stderr  # before: an error record for the line, and the run went on (exit 1)
    assert "stopped early" in out.stderr


def test_batch_retries_an_answer_that_broke_off_and_records_its_code(tmp_path):
    src, dest = tmp_path / "in.txt", tmp_path / "out.jsonl"
    src.write_text("one\n", encoding="utf-8")
    with FakeGLM() as srv:
        srv.faults_always(Fault(kind="error_frame", after_events=2, message="boom"))
        out = run_glm(
            srv,
            tmp_path,
            "batch",
            "--stream",
            "--max-retries",
            "1",
            "--backoff",
            "0.001",
            "--text",
            str(src),
            "-o",
            str(dest),
        )
        sent = len(srv.chat_requests())
    (record,) = [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()]
    assert out.returncode == 1 and sent == 2  # retried, like a cut stream
    assert record["error"]["code"] == "500" and record["error"]["message"].startswith("the answer broke off")
