"""One retry policy: a frozen value given to the client at construction; batch's runner retries by the same one."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from glm_cli.batch.policy import BATCH_MAX_RETRIES, BATCH_RETRY_CAP, retry_policy
from glm_cli.client import DeadlineError, GlmClient, RetryPolicy, error_from_response
from glm_cli.commands.batch.common import RequestOptions
from glm_cli.commands.batch.run import BatchOptions, run_batch
from glm_cli.errors import APIError, AuthError, ContentFilterError, NetworkError, ProtocolError, RateLimitError
from glm_cli.events import ContentDelta
from tests.conftest import FAKE_KEY, write_config

BASE = "http://127.0.0.1:9/api/paas/v4"
BUSY = b'{"error":{"code":"1302","message":"busy"}}'


def busy(request: httpx.Request) -> httpx.Response:
    return httpx.Response(429, content=BUSY)


def whole(content: str = "ok") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "r",
            "model": "glm-4.7",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        },
    )


def test_the_policy_is_one_frozen_value_with_one_set_of_defaults():
    policy = RetryPolicy()
    assert (policy.max_retries, policy.base, policy.cap) == (3, 0.5, 8.0)
    assert (policy.jitter, policy.retry_after_cap) == (0.25, 60)
    assert {"1302", "1303", "1305", "1234", "500"} == policy.codes and 429 in policy.statuses
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_retries = 9  # type: ignore[misc]
    assert hash(policy) == hash(RetryPolicy())  # a value: equal policies are interchangeable


def test_what_is_retried_and_what_never_is():
    policy = RetryPolicy()
    assert policy.retryable(error_from_response(429, BUSY))
    assert policy.retryable(error_from_response(503, b"down"))
    assert policy.retryable(NetworkError("reset"))
    assert not policy.retryable(error_from_response(429, b'{"error":{"code":"1113","message":"no balance"}}'))
    assert not policy.retryable(error_from_response(401, b"{}"))
    assert not policy.retryable(DeadlineError("late"))
    # A ProtocolError is never retried, whatever codes a policy lists.
    assert not RetryPolicy(codes=frozenset({"protocol_error"})).retryable(ProtocolError("not the API"))
    # The codes and statuses are the policy's: a policy without 1302 does not retry it.
    assert not RetryPolicy(codes=frozenset()).retryable(error_from_response(429, BUSY))


def test_waits_double_up_to_the_cap_and_retry_after_up_to_its_cap():
    policy = RetryPolicy(jitter=0.0)
    err = error_from_response(503, b"down")
    assert [policy.delay(err, n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert all(0.375 <= RetryPolicy().delay(err, 1) <= 0.5 for _ in range(50))  # jitter only shortens a wait
    late = error_from_response(429, BUSY, {"retry-after": "1000"})
    assert policy.delay(late, 1) == 60.0 and RetryPolicy(retry_after_cap=5).delay(late, 1) == 5


def test_the_client_retries_by_the_policy_it_was_given():
    calls, sleeps = [], []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return busy(request) if len(calls) <= 2 else whole()

    policy = RetryPolicy(max_retries=2, base=1.0, jitter=0.0)
    client = GlmClient(
        base_url=BASE, api_key=FAKE_KEY, retry=policy, transport=httpx.MockTransport(handler), sleep=sleeps.append
    )
    assert client.retry is policy
    deltas = list(client.chat({"model": "glm-4.7", "messages": [], "stream": False}))
    assert [d.text for d in deltas if isinstance(d, ContentDelta)] == ["ok"]
    assert len(calls) == 3 and sleeps == [1.0, 2.0]


def test_one_try_when_the_caller_retries():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return busy(request)

    client = GlmClient(base_url=BASE, api_key=FAKE_KEY, transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with pytest.raises(RateLimitError, match="GLM 1302"):
        list(client.chat({"model": "glm-4.7", "messages": [], "stream": False}, retries=False))
    assert len(calls) == 1


def test_make_client_takes_max_retries_from_the_settings_and_a_policy_as_given(make_app, env):
    write_config(env, "max_retries: 5\n")
    app = make_app()
    settings = app.settings()
    assert app.make_client(settings).retry == RetryPolicy(max_retries=5)
    mine = RetryPolicy(max_retries=1)
    assert app.make_client(settings, retry=mine, pool_size=3).retry is mine


def test_batch_defaults_and_where_they_come_from(make_app, env):
    settings = make_app().settings()
    policy = retry_policy(settings)
    assert policy == RetryPolicy(max_retries=BATCH_MAX_RETRIES, cap=BATCH_RETRY_CAP)
    assert (BATCH_MAX_RETRIES, BATCH_RETRY_CAP) == (8, 20)
    err = error_from_response(503, b"down")
    assert 15.0 <= policy.delay(err, 10) <= 20.0 and RetryPolicy().delay(err, 10) <= 8.0  # batch waits longer
    assert retry_policy(settings, 2, 0.01) == RetryPolicy(max_retries=2, cap=20, base=0.01)  # --max-retries, --backoff
    write_config(env, "max_retries: 1\n")
    assert retry_policy(make_app().settings()).max_retries == 1  # the config's, when it sets one


def batch(app, tmp_path, **kw) -> tuple[int, list[dict]]:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('"p"\n', encoding="utf-8")
    code = run_batch(
        BatchOptions(file=str(src), request=RequestOptions(text=True), output=str(out), backoff=0.001, **kw), app
    )
    return code, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("config", "flag", "tries"),
    [
        ("", None, 1 + 8),  # batch's default
        ("max_retries: 2\n", None, 1 + 2),  # the config's
        ("max_retries: 2\n", 0, 1),  # --max-retries
    ],
)
def test_batch_sends_each_try_once_by_its_policy(make_app, env, tmp_path, config, flag, tries):
    write_config(env, config)
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return busy(request)

    code, records = batch(make_app(transport=httpx.MockTransport(handler)), tmp_path, max_retries=flag)
    # The client does not retry on its own: one request per try of the runner's, each with its own request_id.
    assert code == 1 and len(sent) == tries and records[0]["attempts"] == tries
    assert len({json.loads(r.content)["request_id"] for r in sent}) == tries


def test_the_runner_uses_the_clients_policy_object(make_app, tmp_path):
    from glm_cli.batch.output import RecordWriter
    from glm_cli.batch.runner import BatchRunner, RunConfig

    app = make_app()
    policy = RetryPolicy(max_retries=4)
    client = app.make_client(app.settings(), retry=policy)
    runner = BatchRunner(RunConfig(), client, app.settings(), None, RecordWriter(str(tmp_path / "o.jsonl")))
    assert runner.retry is client.retry is policy
    runner.writer.close()


@pytest.mark.parametrize(
    ("status", "body", "kind", "exit_code"),
    [
        (401, b"{}", AuthError, 4),
        (400, b'{"error":{"code":"1000","message":"m"}}', AuthError, 4),
        (429, b'{"error":{"code":"1113","message":"m"}}', RateLimitError, 5),
        (429, b"{}", RateLimitError, 5),
        (500, b'{"error":{"code":"1234","message":"m"}}', NetworkError, 6),
        (400, b'{"error":{"code":"1301","message":"m"}}', ContentFilterError, 7),
        (400, b'{"error":{"code":"1214","message":"m"}}', APIError, 1),
        (503, b"down", APIError, 1),
    ],
)
def test_an_error_answer_is_raised_as_its_class(status, body, kind, exit_code):
    # Checked by type (batch stops on isinstance(err, (AuthError, RateLimitError))), never by its exit code.
    err = error_from_response(status, body)
    assert isinstance(err, kind) and isinstance(err, APIError) and err.status == status
    assert err.exit_code == exit_code
