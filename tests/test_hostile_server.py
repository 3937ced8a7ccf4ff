"""The hostile-server kit itself: each misbehaviour is what tests/hostile_server.py says it is."""

from __future__ import annotations

import zlib

import httpx
import pytest

from tests.hostile_server import Hostile, MiB

CHAT = "/chat/completions"


def raw_post(srv: Hostile, body: dict, limit: int | None = None, timeout: float = 10) -> tuple[httpx.Response, bytes]:
    """POST and return the response and its body as sent on the wire (not decompressed), up to LIMIT bytes."""
    got = bytearray()
    with httpx.stream("POST", srv.base_url + CHAT, json=body, timeout=timeout) as resp:
        for piece in resp.iter_raw():
            got += piece
            if limit is not None and len(got) >= limit:
                break
    return resp, bytes(got)


def test_answer_streamed_and_whole_and_requests_recorded():
    with Hostile("answer", text="hi there") as srv:
        _, sse = raw_post(srv, {"stream": True})
        _, whole = raw_post(srv, {"stream": False})
        assert b'"content": "hi "' in sse and sse.endswith(b"data: [DONE]\n\n")
        assert b'"content": "hi there"' in whole
        assert [r.json["stream"] for r in srv.wait_for_requests(2)] == [True, False]
        assert srv.requests[0].path == "/api/paas/v4" + CHAT


def test_gzip_bomb_is_small_on_the_wire_and_big_unpacked():
    with Hostile("gzip_bomb", size=64 * MiB) as srv:
        resp, wire = raw_post(srv, {})
    assert resp.headers["content-encoding"] == "gzip"
    assert len(wire) < 200_000 and len(zlib.decompress(wire, 31)) >= 64 * MiB


def test_gzip_answer_decodes_to_the_normal_answer():
    with Hostile("gzip_answer") as srv:
        _, wire = raw_post(srv, {"stream": True})
    assert zlib.decompress(wire, 31).endswith(b"data: [DONE]\n\n")


def test_huge_line_has_no_line_end_in_its_first_mebibytes():
    with Hostile("huge_line", size=1024 * MiB) as srv:
        _, wire = raw_post(srv, {"stream": True}, limit=4 * MiB)
    assert wire.startswith(b"data: {") and b"\n" not in wire


def test_keepalive_sends_only_comments_and_silent_sends_nothing():
    with Hostile("keepalive", every=0.01) as srv:
        _, wire = raw_post(srv, {}, limit=60)
        assert wire.startswith(b": keep-alive\n\n: keep-alive\n\n")
        srv.behave("silent")
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(srv.base_url + CHAT, json={}, timeout=0.2)


def test_redirect_html_and_raw_bytes():
    with Hostile("redirect", status=307) as srv:
        resp = httpx.post(srv.base_url + CHAT, json={})
        assert resp.status_code == 307 and resp.headers["location"]
        srv.behave("html")
        resp = httpx.post(srv.base_url + CHAT, json={}, headers={"authorization": "Bearer fake-canary-key-0000"})
        assert resp.headers["content-type"].startswith("text/html") and "fake-canary-key-0000" in resp.text
        srv.behave("bytes", raw=b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nexact")
        assert httpx.post(srv.base_url + CHAT, json={}).text == "exact"


def test_unknown_behaviour_is_refused():
    with pytest.raises(ValueError, match="unknown behaviour"):
        Hostile("nonsense")
