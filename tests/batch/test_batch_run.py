"""`run_batch` against an in-process fake (httpx.MockTransport): records, retries, stops, resume, order."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from glm_cli.batch.limits import AdaptiveLimiter, TokenBucket
from glm_cli.batch.output import IdSet, RecordWriter, load_state, repair_torn_tail
from glm_cli.batch.policy import is_fatal, is_throttle
from glm_cli.client import GlmClient, RetryPolicy, error_from_response
from glm_cli.commands.batch.common import RequestOptions
from glm_cli.commands.batch.run import BatchOptions, run_batch
from glm_cli.errors import UsageError

USAGE = {
    "prompt_tokens": 10,
    "completion_tokens": 5,
    "total_tokens": 15,
    "prompt_tokens_details": {"cached_tokens": 4},
    "completion_tokens_details": {"reasoning_tokens": 2},
}


def answer(content: str, finish: str = "stop", reasoning: str | None = None) -> httpx.Response:
    message = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning_content"] = reasoning
    return httpx.Response(
        200,
        json={
            "id": "resp",
            "model": "glm-4.7",
            "usage": USAGE,
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        },
    )


def fail(status: int, code: str, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": f"error {code}"}}, headers=headers)


class Fake:
    """A scripted server: per prompt (the first user message), a list of responses in turn; then a plain answer."""

    def __init__(self, delays: dict[str, float] | None = None):
        self.bodies: list[dict] = []
        self.script: dict[str, list[httpx.Response]] = {}
        self.delays = delays or {}
        self.lock = threading.Lock()
        self.in_flight = self.peak = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        prompt = first_user(body)
        with self.lock:
            self.bodies.append(body)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            scripted = self.script.get(prompt)
            resp = scripted.pop(0) if scripted else None
        time.sleep(self.delays.get(prompt, 0.002))
        with self.lock:
            self.in_flight -= 1
        return resp or answer(f"answer to {prompt}", reasoning="thought")

    def prompts(self) -> list[str]:
        return [first_user(b) for b in self.bodies]


def first_user(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


@pytest.fixture
def fake():
    return Fake()


@pytest.fixture
def run(make_app, tmp_path, fake):
    """run(lines or text, **options) -> (exit code, records, stderr)."""

    def go(lines, *, out: Path | None = None, app=None, stdin: str | None = None, **kw):
        src = tmp_path / "in.jsonl"
        if isinstance(lines, list):
            src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
        elif lines is not None:
            src.write_text(lines, encoding="utf-8")
        out = out or tmp_path / "out.jsonl"
        req = RequestOptions(**{k: kw.pop(k) for k in list(kw) if k in RequestOptions.__dataclass_fields__})
        opts = BatchOptions(
            file="-" if stdin is not None else str(src), request=req, output=str(out), backoff=0.001, **kw
        )
        app = app or make_app(stdin or "", stdin_tty=stdin is None, transport=httpx.MockTransport(fake))
        code = run_batch(opts, app)
        records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
        return code, records, app.ios.stderr.getvalue()

    return go


def by_id(records):
    return {r["id"]: r for r in records}


def test_every_shape_becomes_a_record(run, fake):
    lines = [
        "plain string",
        {"id": "obj", "prompt": "object prompt", "max_tokens": 20},
        {"id": "msgs", "messages": [{"role": "user", "content": "from messages"}]},
        {
            "custom_id": "api",
            "method": "POST",
            "url": "/v4/chat/completions",
            "body": {"model": "glm-4.7", "messages": [{"role": "user", "content": "api shape"}]},
        },
    ]
    code, records, err = run(lines)
    assert code == 0, err
    recs = by_id(records)
    assert set(recs) == {"line-1", "obj", "msgs", "api"}
    r = recs["obj"]
    assert (r["status"], r["content"], r["reasoning"], r["finish_reason"], r["attempts"], r["line"]) == (
        "ok",
        "answer to object prompt",
        "thought",
        "stop",
        1,
        2,
    )
    assert r["usage"]["prompt_tokens"] == 10 and isinstance(r["latency_ms"], int)
    assert r["request_id"].startswith("obj-") and r["error"] is None
    sent = {b["messages"][-1]["content"]: b for b in fake.bodies}
    assert sent["object prompt"]["max_tokens"] == 20 and sent["object prompt"]["stream"] is False
    assert sent["object prompt"]["request_id"] == r["request_id"]
    assert "4 ok, 0 failed" in err and "tokens in 40 (cached 16)" in err
    assert "\x1b" not in err and len(err.splitlines()) == 2  # not a terminal: the summary only


def test_bad_line_is_an_error_record_and_the_run_goes_on(run, fake):
    code, records, err = run('"one"\nnot json\n"three"\n')
    assert code == 1
    bad = by_id(records)["line-2"]
    assert bad["status"] == "error" and bad["error"]["code"] == "invalid_line"
    assert bad["error"]["message"].startswith("line 2: not valid JSON") and bad["line"] == 2
    assert sorted(fake.prompts()) == ["one", "three"]
    assert "2 ok, 1 failed (1× invalid_line)" in err


def test_rate_limit_is_retried_with_shared_backoff(run, fake):
    fake.script["p"] = [fail(429, "1302"), fail(429, "1305")]
    code, records, err = run(["p", "q"])
    assert code == 0, err
    assert by_id(records)["line-1"]["attempts"] == 3 and fake.prompts().count("p") == 3
    assert "2 retries" in err
    rids = [b["request_id"] for b in fake.bodies if b["messages"][-1]["content"] == "p"]
    assert len(set(rids)) == 3  # a retry never reuses a request_id (GLM 1231)


def test_retries_exhausted_give_an_error_record(run, fake):
    fake.script["p"] = [fail(500, "500")] * 3
    code, records, err = run(["p"], max_retries=2)
    assert code == 1
    (r,) = records
    assert (r["status"], r["error"]["code"], r["error"]["status"], r["attempts"]) == ("error", "500", 500, 3)


def test_client_error_is_not_retried(run, fake):
    fake.script["bad"] = [fail(400, "1214")]
    code, records, _ = run(["bad", "good"])
    assert code == 1 and fake.prompts().count("bad") == 1
    assert by_id(records)["line-1"]["error"]["code"] == "1214" and by_id(records)["line-2"]["status"] == "ok"


@pytest.mark.parametrize("status, code, exit_code", [(429, "1113", 5), (401, "1000", 4)])
def test_balance_or_auth_stops_dispatching_at_once(run, fake, status, code, exit_code):
    fake.script["p3"] = [fail(status, code)] * 50
    code_, records, err = run([f"p{i}" for i in range(1, 21)], concurrency=1)
    assert code_ == exit_code
    assert fake.prompts() == ["p1", "p2", "p3"]  # no retry storm, nothing after the stop
    assert [r["status"] for r in records] == ["ok", "ok"]  # the stop is no verdict on p3: no record
    assert f"GLM {code}" in err and "stopped early" in err
    fake.script.clear()  # balance back: resume
    code_, records, _ = run([f"p{i}" for i in range(1, 21)], concurrency=1)
    assert code_ == 0 and len(records) == 20  # p3 ran again (a plain rerun finishes the run)


def test_length_and_invalid_json_keep_content_as_errors(run, fake):
    fake.script["long"] = [answer("cut off", finish="length")]
    fake.script["j"] = [answer("not json"), answer('{"ok": true}')]
    fake.script["j2"] = [answer("nope"), answer("still nope")]
    code, records, _ = run(
        [
            {"id": "long", "prompt": "long"},
            {"id": "j", "prompt": "j", "json": True},
            {"id": "j2", "prompt": "j2", "json": True},
        ]
    )
    recs = by_id(records)
    assert code == 1
    assert (recs["long"]["status"], recs["long"]["error"]["code"], recs["long"]["content"]) == (
        "error",
        "length",
        "cut off",
    )
    assert recs["j"]["status"] == "ok" and recs["j"]["attempts"] == 2
    assert recs["j"]["usage"]["total_tokens"] == 30  # both requests
    assert (recs["j2"]["error"]["code"], recs["j2"]["content"], recs["j2"]["attempts"]) == (
        "invalid_json",
        "still nope",
        2,
    )
    json_bodies = [b for b in fake.bodies if first_user(b) in ("j", "j2")]
    assert len(json_bodies) == 4 and all(b["response_format"] == {"type": "json_object"} for b in json_bodies)
    first, repair = [b for b in json_bodies if first_user(b) == "j"]
    assert repair["messages"][:-2] == first["messages"]  # the same conversation, then the answer and the errors
    assert repair["messages"][-2] == {"role": "assistant", "content": "not json"}
    assert "the answer is not valid JSON (Expecting value" in repair["messages"][-1]["content"]
    assert repair["messages"][-1]["role"] == "user" and "corrected JSON" in repair["messages"][-1]["content"]


PERSON = '{"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}'


def test_schema_mismatch_is_repaired_once_with_the_errors(run, fake):
    fake.script["fixed"] = [answer('{"age": "ten"}'), answer('{"age": 10}')]
    fake.script["wrong"] = [answer('{"age": "ten"}'), answer('{"name": "Ann"}')]
    fake.script["good"] = [answer('```json\n{"age": 3}\n```')]
    code, records, err = run(
        [{"id": i, "prompt": i} for i in ("fixed", "wrong", "good")], schema=PERSON, max_retries=0
    )  # the repair is not one of the retries
    recs = by_id(records)
    assert code == 1
    assert (recs["fixed"]["status"], recs["fixed"]["content"], recs["fixed"]["attempts"]) == ("ok", '{"age": 10}', 2)
    assert (recs["good"]["status"], recs["good"]["attempts"]) == ("ok", 1)
    wrong = recs["wrong"]
    assert (wrong["status"], wrong["error"]["code"], wrong["content"], wrong["attempts"]) == (
        "error",
        "schema_mismatch",
        '{"name": "Ann"}',
        2,
    )
    assert wrong["error"]["message"] == "the answer does not match the schema: $: 'age' is a required property"
    first, repair = [b for b in fake.bodies if first_user(b) == "fixed"]
    assert first["response_format"] == repair["response_format"] == {"type": "json_object"}
    assert first["messages"][0]["role"] == "system" and '"required": [' in first["messages"][0]["content"]
    assert repair["messages"][:-2] == first["messages"]
    assert repair["messages"][-2] == {"role": "assistant", "content": '{"age": "ten"}'}
    assert repair["messages"][-1]["role"] == "user"
    assert "$.age: 'ten' is not of type 'integer'" in repair["messages"][-1]["content"]
    assert len([b for b in fake.bodies if first_user(b) == "wrong"]) == 2  # one repair, not more
    assert "2 ok, 1 failed" in err and "2 retries" in err


def test_schema_instruction_joins_each_lines_own_system_prompt(run, fake):
    lines = [
        {"id": "plain", "prompt": "p1"},
        {"id": "field", "prompt": "p2", "system": "You are terse."},
        {"id": "msgs", "messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "p3"}]},
        {
            "id": "parts",
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "Hi."}]},
                {"role": "user", "content": "p4"},
            ],
        },
        {
            "custom_id": "api",
            "body": {"messages": [{"role": "system", "content": "API sys."}, {"role": "user", "content": "p5"}]},
        },
        {"id": "nojson", "prompt": "p6", "json": False},
    ]
    for p in ("p1", "p2", "p3", "p4", "p5", "p6"):
        fake.script[p] = [answer('{"age": 1}')]
    code, records, err = run(lines, schema=PERSON, system="Global.")
    assert code == 0, err
    sent = {first_user(b): b for b in fake.bodies}
    assert all(b["response_format"] == {"type": "json_object"} for b in sent.values())
    systems = {p: [m["content"] for m in b["messages"] if m["role"] == "system"] for p, b in sent.items()}
    assert all(len(v) == 1 for v in systems.values())  # appended, never a second system message
    assert systems["p1"][0].startswith("Global.\n\nAnswer with one JSON value")
    assert systems["p2"][0].startswith("You are terse.\n\nAnswer with one JSON value")
    assert systems["p3"][0].startswith("Be kind.\n\nAnswer with one JSON value")
    assert systems["p5"][0].startswith("API sys.\n\nAnswer with one JSON value")
    assert systems["p6"][0].startswith("Global.\n\nAnswer with one JSON value")
    assert systems["p4"][0][0] == {"type": "text", "text": "Hi."}
    assert systems["p4"][0][1]["text"].startswith("Answer with one JSON value")
    assert all('"age"' in str(v) for v in systems.values())


def test_bad_schema_is_a_usage_error_before_any_request(run, fake):
    with pytest.raises(UsageError, match="not a valid JSON Schema"):
        run(["a"], schema='{"type": 5}')
    assert fake.bodies == []


def test_resume_skips_done_and_retry_failed_compacts(run, fake, tmp_path):
    lines = [{"id": f"r{i}", "prompt": f"p{i}"} for i in range(6)]
    fake.script["p2"] = [fail(400, "1214")]
    code, records, _ = run(lines, max_retries=0)
    assert code == 1 and len(records) == 6
    fake.bodies.clear()
    code, records, err = run(lines)
    assert code == 1 and fake.bodies == [] and "skipped 5 already ok and 1 that failed before" in err
    code, records, err = run(lines, retry_failed=True)
    assert code == 0 and fake.prompts() == ["p2"]
    assert [r["id"] for r in records if r["status"] == "ok"].count("r2") == 1
    assert len(records) == 6 and all(r["status"] == "ok" for r in records)  # superseded error removed
    assert "removed 1 error record" in err


def test_torn_last_line_is_repaired_and_rerun(run, fake, tmp_path):
    out = tmp_path / "out.jsonl"
    run(["a", "b"], out=out)
    good = out.read_text().splitlines()[0]
    out.write_text(good + "\n" + good[: len(good) // 2], encoding="utf-8")  # killed mid-write
    fake.bodies.clear()
    code, records, err = run(["a", "b"], out=out)
    assert code == 0 and "torn last line" in err
    assert sorted(r["id"] for r in records) == ["line-1", "line-2"] and len(fake.bodies) == 1


def test_duplicate_ids_refused_before_any_request(run, fake):
    with pytest.raises(UsageError, match="'a' on lines 1, 3"):
        run([{"id": "a", "prompt": "x"}, {"id": "b", "prompt": "y"}, {"id": "a", "prompt": "z"}])
    assert fake.bodies == []


def test_bad_flag_is_one_usage_error(run, fake):
    with pytest.raises(UsageError, match="temperature"):
        run(["a"], temperature=3.0)
    assert fake.bodies == []


def test_ordered_keeps_input_order(make_app, run, tmp_path):
    slow = Fake(delays={"p0": 0.3, "p1": 0.2})
    app = make_app(transport=httpx.MockTransport(slow))
    code, records, _ = run([f"p{i}" for i in range(8)], app=app, ordered=True, concurrency=4)
    assert code == 0 and [r["id"] for r in records] == [f"line-{i}" for i in range(1, 9)]
    slow2 = Fake(delays={"p0": 0.3, "p1": 0.2})
    code, records, _ = run(
        [f"p{i}" for i in range(8)],
        out=tmp_path / "b.jsonl",
        app=make_app(transport=httpx.MockTransport(slow2)),
        concurrency=4,
    )
    assert [r["id"] for r in records][-1] == "line-1"  # completion order by default


def test_concurrency_is_bounded(make_app, run):
    slow = Fake(delays={f"p{i}": 0.05 for i in range(20)})
    code, _, _ = run([f"p{i}" for i in range(20)], app=make_app(transport=httpx.MockTransport(slow)), concurrency=3)
    assert code == 0 and slow.peak == 3


def test_batch_api_format_text_input_template_and_limit(run, fake):
    code, records, _ = run(
        "alpha\nbeta\ngamma\n", text=True, template="Summarise: {input}", limit=2, format="batch-api"
    )
    assert code == 0 and sorted(fake.prompts()) == ["Summarise: alpha", "Summarise: beta"]
    rec = by_id([{**r, "id": r["custom_id"]} for r in records])["line-1"]
    assert rec["response"]["status_code"] == 200
    assert rec["response"]["body"]["choices"][0]["message"]["content"] == "answer to Summarise: alpha"


def test_text_from_stdin_and_records_to_stdout(make_app, fake):
    app = make_app("one\ntwo\n", stdin_tty=False, transport=httpx.MockTransport(fake))
    code = run_batch(BatchOptions(file="-", request=RequestOptions(text=True), backoff=0.001), app)
    records = [json.loads(x) for x in app.ios.stdout.getvalue().splitlines()]
    assert code == 0 and sorted(r["content"] for r in records) == ["answer to one", "answer to two"]


def test_dry_run_prints_batch_api_lines(make_app, fake, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('"hi"\nbroken\n', encoding="utf-8")
    app = make_app(transport=httpx.MockTransport(fake))
    code = run_batch(BatchOptions(file=str(src), request=RequestOptions(think=False), dry_run=True), app)
    (line,) = [json.loads(x) for x in app.ios.stdout.getvalue().splitlines()]
    assert code == 1 and fake.bodies == [] and "line 2: not valid JSON" in app.ios.stderr.getvalue()
    assert line["custom_id"] == "line-1" and line["url"] == "/v4/chat/completions"
    assert line["body"]["thinking"] == {"type": "disabled"} and "stream" not in line["body"]


def test_second_writer_on_the_same_file_is_refused(tmp_path):
    path = str(tmp_path / "o.jsonl")
    first = RecordWriter(path)
    try:
        with pytest.raises(UsageError, match="another `glm batch` is writing"):
            RecordWriter(path)
    finally:
        first.close()


def test_repair_and_state(tmp_path):
    path = tmp_path / "o.jsonl"
    path.write_bytes(b'{"id": "a", "status": "ok"}\n{"id": "b", "status": "error"}\nnot a record\n{"id": "c", "sta')
    import os

    fd = os.open(path, os.O_RDWR)
    assert repair_torn_tail(fd) == len(b'{"id": "c", "sta')
    os.close(fd)
    state = load_state(str(path))
    assert "a" in state.ok and "b" in state.failed and "c" not in state.ok and state.unreadable == 1


def test_idset():
    ids = IdSet(f"id-{i}" for i in range(1000))
    assert "id-999" in ids and "id-1000" not in ids and len(ids) == 1000


class FakeStop(threading.Event):
    """A stop event whose waits move a fake clock instead of sleeping."""

    def __init__(self, now: list[float]):
        super().__init__()
        self.now, self.waited = now, []

    def wait(self, timeout=None):
        self.waited.append(timeout)
        self.now[0] += timeout
        return False


def test_token_bucket_waits_for_its_rate():
    now = [0.0]
    bucket = TokenBucket(60, capacity=1, clock=lambda: now[0])
    stop = FakeStop(now)
    assert bucket.acquire(1, stop) and stop.waited == []
    assert bucket.acquire(1, stop) and sum(stop.waited) == pytest.approx(1.0)
    bucket.adjust(-5)  # a refund never overfills the bucket
    assert bucket.tokens <= bucket.capacity


def test_adaptive_limiter_halves_and_recovers():
    now = [0.0]
    lim = AdaptiveLimiter(16, clock=lambda: now[0])
    lim.on_throttle(0.0)
    lim.on_throttle(0.0)  # same cooldown window: one cut
    assert lim.limit == 8
    now[0] = 5.0
    lim.on_throttle(0.0)
    assert lim.limit == 4
    for _ in range(4):
        lim.on_success()
    assert lim.limit == 5


def test_policy_classes():
    rate = error_from_response(429, b'{"error":{"code":"1302","message":"m"}}', {"retry-after": "3"})
    balance = error_from_response(429, b'{"error":{"code":"1113","message":"m"}}')
    auth = error_from_response(401, b'{"error":{"code":"1000","message":"m"}}')
    bad = error_from_response(400, b'{"error":{"code":"1214","message":"m"}}')
    retry = RetryPolicy(cap=20)
    assert is_throttle(rate, retry) and not is_fatal(rate, retry) and retry.delay(rate, 1) == 3.0
    assert is_fatal(balance, retry) and is_fatal(auth, retry) and not is_fatal(bad, retry)
    assert not is_throttle(balance, retry)
    assert 0.375 <= retry.delay(bad, 1) <= 0.5 and retry.delay(bad, 10) <= 20


def test_sigint_stops_cleanly_and_a_rerun_resumes(make_app, run, tmp_path):
    import os
    import signal

    slow = Fake(delays={f"p{i}": 0.1 for i in range(40)})
    served: list[int] = []

    def interrupting(request: httpx.Request) -> httpx.Response:
        served.append(1)
        if len(served) == 5:  # the run is under way (its handler is installed): Ctrl-C now
            os.kill(os.getpid(), signal.SIGINT)
        return slow(request)

    app = make_app(transport=httpx.MockTransport(interrupting))
    code, records, err = run([f"p{i}" for i in range(40)], app=app, concurrency=4)
    assert code == 130 and "interrupted; run the same command again" in err
    assert 0 < len(records) < 40 and all(r["status"] == "ok" for r in records)
    assert len(slow.bodies) == len(records)  # the requests in flight finished and were written
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
    code, records, _ = run([f"p{i}" for i in range(40)], app=make_app(transport=httpx.MockTransport(Fake())))
    assert code == 0 and sorted(r["id"] for r in records) == sorted(f"line-{i}" for i in range(1, 41))


def test_progress_bar_on_a_terminal(make_app, run, fake):
    app = make_app(stderr_tty=True, transport=httpx.MockTransport(fake))
    app.ios.width = 0  # a pseudo-terminal with no size set
    code, _, err = run(["a", "b", "c"], app=app, progress=True)
    assert code == 0 and "3 ok, 0 failed" in err
    assert "\x1b[" in err and "in flight" in err and "/3" in err  # a live display was drawn


def test_progress_info_text(make_app):
    from glm_cli.batch.output import Stats
    from glm_cli.batch.progress import RichProgress
    from glm_cli.events import Usage

    app = make_app(stderr_tty=True)
    stats = Stats(total=10, ok=3, failed=1, skipped_ok=2, started=0.0)
    stats.usage["glm-4.7"] = Usage(prompt_tokens=100, completion_tokens=50)
    bar = RichProgress(app.ios, stats, lambda: 4, lambda usage: "$0.01", clock=lambda: 2.0)
    assert bar._info() == "3 ok · 1 failed · 4 in flight · 2.0/s · ETA 0:02 · 150 tok · $0.01"


def test_reader_gone_stops_the_run_quietly(make_app, fake, tmp_path):
    class Gone:
        def write(self, text):
            raise BrokenPipeError

        def flush(self):
            pass

    src = tmp_path / "in.jsonl"
    src.write_text("".join(f'"p{i}"\n' for i in range(50)), encoding="utf-8")
    app = make_app(transport=httpx.MockTransport(fake))
    app.ios.stdout = Gone()
    with pytest.raises(BrokenPipeError):  # run_command turns it into a quiet exit 0
        run_batch(BatchOptions(file=str(src), concurrency=2, backoff=0.001), app)
    assert len(fake.bodies) < 50


def test_unwritable_output_is_a_usage_error(run, fake, tmp_path):
    with pytest.raises(UsageError, match="cannot open .*/no/such/dir/o.jsonl for writing"):
        run(["a"], out=tmp_path / "no" / "such" / "dir" / "o.jsonl")


def test_request_ids_stay_distinct():
    from glm_cli.batch.runner import request_id_for

    long_a, long_b = "x" * 50 + "a", "x" * 50 + "b"
    ids = {request_id_for(i, "tag", 1) for i in (long_a, long_b, "a b", "a_b", "plain")}
    assert len(ids) == 5 and "plain-tag-1" in ids
    assert all(len(i) <= 48 and " " not in i for i in ids)


def test_streamed_answers_and_a_cut_stream_is_retried(make_app, run):
    from tests.conftest import chunk, sse_body

    calls = []

    def handler(request):
        body = json.loads(request.content)
        calls.append(body)
        if len(calls) == 1:  # the connection closes mid-answer: no finish_reason, no [DONE]
            data = sse_body(chunk(content="par"), done=False)
        else:
            data = sse_body(chunk(content="whole "), chunk(content="answer", finish="stop", usage=USAGE))
        return httpx.Response(200, stream=httpx.ByteStream(data))  # unread, as from a socket

    app = make_app(transport=httpx.MockTransport(handler))
    code, records, _ = run(["p"], app=app, stream=True)
    assert code == 0 and all(b["stream"] is True for b in calls)
    (r,) = records
    assert (r["content"], r["attempts"], r["usage"]["total_tokens"]) == ("whole answer", 2, 15)


def test_tokens_per_minute_bucket_is_settled_with_real_usage(run, fake):
    code, records, _ = run(["a", "b"], tpm=100_000)
    assert code == 0 and len(records) == 2


def test_tpm_estimate_learns_from_answers():
    from glm_cli.batch.output import RecordWriter
    from glm_cli.batch.runner import BatchRunner, RunConfig
    from glm_cli.events import Reply, Usage

    client = GlmClient(base_url="http://127.0.0.1:9/v4", api_key="fake-canary-key-0000")  # never sends
    runner = BatchRunner(
        RunConfig(tpm=6000), client=client, settings=None, catalogue=None, writer=RecordWriter(None, stream=None)
    )
    body = {"messages": [{"role": "user", "content": "x" * 300}]}
    first = runner._estimate(body)
    assert first == 100 + 512
    assert runner.tpm.acquire(first, threading.Event())
    runner._charge(Reply(usage=Usage(prompt_tokens=100, completion_tokens=2000, total_tokens=2100)), first)
    assert runner.completion_avg == pytest.approx(0.9 * 512 + 0.1 * 2000)
    assert runner.tpm.tokens == pytest.approx(600 - 2100, abs=1)  # charged the real use: the bucket is in debt


def test_record_state_reads_both_formats():
    from glm_cli.batch.output import ok_record, record_state, to_batch_api
    from glm_cli.events import Reply

    ok = ok_record("a", 1, Reply(content="x", finish_reason="stop"))
    cut = ok_record("b", 2, Reply(content="x", finish_reason="length"), error={"code": "length", "message": "m"})
    assert record_state(ok) == ("a", True) and record_state(cut) == ("b", False)
    assert record_state(to_batch_api(ok)) == ("a", True) and record_state(to_batch_api(cut)) == ("b", False)
    assert record_state({"custom_id": "c", "response": {"status_code": 429, "body": {}}}) == ("c", False)
    assert record_state({"something": "else"}) is None and record_state([1]) is None
