"""The client keeps a cookie the server sets and sends it back, as httpx does (it only skips reading responses
that set none); a response without Set-Cookie leaves the jar as it was."""

from __future__ import annotations

import httpx

from glm_cli.client import GlmClient

BASE = "https://glm.test/api/paas/v4"


def test_a_set_cookie_is_kept_and_sent_back_and_a_response_without_one_changes_nothing():
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        if len(seen) == 1:
            return httpx.Response(200, json={"data": []}, headers={"set-cookie": "acw_tc=abc123; Path=/"})
        if len(seen) == 2:
            return httpx.Response(200, json={"data": []}, headers={"set-cookie2": 'x="1"; Version="1"; Path="/"'})
        return httpx.Response(200, json={"data": []})

    client = GlmClient(base_url=BASE, api_key="fake-canary-key-0000", transport=httpx.MockTransport(answer))
    for _ in range(4):
        assert client.request_json("GET", "/models") == {"data": []}
    assert seen[0] is None
    assert seen[1] == "acw_tc=abc123"
    assert seen[2] == seen[3] and "acw_tc=abc123" in (seen[2] or "")
    assert client.http.cookies.get("acw_tc") == "abc123"
    # The same exchange through a plain httpx.Client sends the same Cookie headers.
    glm_seen, seen[:] = list(seen), []
    with httpx.Client(base_url=BASE, transport=httpx.MockTransport(answer)) as plain:
        for _ in range(4):
            plain.get("/models")
    assert seen == glm_seen
