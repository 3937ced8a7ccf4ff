"""The usual chunks of one network read come as one delta: the same text, in the same order (issue 14).

A thinking model streams ~20,000 reasoning chunks for one answer; as one delta each, every layer above the
reader (client, renderer, reply builder) ran 20,000 times. Joined, a run of usual chunks in one read is one
delta. What is read must not change: the same text, the same order against every other delta, the same
error after the same text, the same end. The general reading (no usual chunk learned, one delta per chunk)
is the reference.
"""

from __future__ import annotations

import json

import httpx
import respx
from hypothesis import given, settings

from glm_cli.client import GlmClient, RetryPolicy
from glm_cli.events import ContentDelta, Finish, ReasoningDelta
from glm_cli.sse import DeltaReader, SSEEvent
from tests.conftest import FAKE_KEY, USAGE, chunk, sse_body
from tests.test_stream_usual import EVENTS, coalesced, outcome


@settings(max_examples=400, deadline=None)
@given(EVENTS)
def test_joined_reading_gives_the_same_text_in_the_same_order_as_the_general_reading(events: list[SSEEvent]) -> None:
    joined = outcome(events, learn=True, joined=True)
    assert coalesced(joined) == coalesced(outcome(events, learn=False, joined=False))
    assert all(not (type(d) in (ContentDelta, ReasoningDelta) and d.text == "") for d in joined)  # no empty delta


def data(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def test_a_run_of_usual_chunks_is_one_delta():
    events = [SSEEvent(data(chunk(reasoning=t))) for t in ("Let ", "me ", "think")]
    events += [SSEEvent(data(chunk(content=t))) for t in ("Hel", "lo ", "wor", "ld")]
    events += [SSEEvent(data(chunk(content="", finish="stop", usage=USAGE))), SSEEvent("[DONE]")]
    seen = list(DeltaReader().deltas(events, joined=True))
    # The first chunk of each kind is read the general way (that is where its usual shape is learned).
    assert seen[:2] == [ReasoningDelta("Let "), ReasoningDelta("me think")]
    assert seen[2:4] == [ContentDelta("Hel"), ContentDelta("lo world")]
    assert type(seen[4]) is Finish and seen[4].finish_reason == "stop" and len(seen) == 5


def test_an_error_after_a_run_comes_after_its_text():
    events = [SSEEvent(data(chunk(content=t))) for t in ("a", "b", "c")] + [SSEEvent("{oops")]
    seen = outcome(events, learn=True, joined=True)
    assert seen[:2] == [ContentDelta("a"), ContentDelta("bc")]
    assert seen[2][:2] == ("error", "ProtocolError")


def test_lone_surrogates_joined_become_replacement_characters_one_by_one():
    head, tail = data(chunk(content="x")).split('"x"')
    events = [SSEEvent(data(chunk(content="a")))] + [SSEEvent(f"{head}{s}{tail}") for s in ('"\\ud83d"', '"\\ude00b"')]
    assert outcome(events, learn=True, joined=True)[:2] == [ContentDelta("a"), ContentDelta("\ufffd\ufffdb")]


@respx.mock
def test_the_client_reads_a_stream_a_run_of_usual_chunks_at_a_time():
    body = sse_body(
        *[chunk(reasoning=t) for t in ("Let ", "me ", "think", ".")],
        *[chunk(content=t) for t in ("Hel", "lo", "!")],
        chunk(content="", finish="stop", usage=USAGE),
    )
    respx.post("https://glm.test/api/paas/v4/chat/completions").mock(
        return_value=httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    client = GlmClient(base_url="https://glm.test/api/paas/v4", api_key=FAKE_KEY, retry=RetryPolicy(max_retries=0))
    seen = list(client.chat({"model": "glm-4.7", "messages": [], "stream": True}))
    assert seen[:4] == [ReasoningDelta("Let "), ReasoningDelta("me think."), ContentDelta("Hel"), ContentDelta("lo!")]
    assert type(seen[4]) is Finish and len(seen) == 5
