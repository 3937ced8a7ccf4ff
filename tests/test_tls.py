"""The shared TLS context: http:// runs load no CA certificates; https:// is verified exactly as before."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import glm_cli.tls
from glm_cli.client import GlmClient
from glm_cli.errors import NetworkError
from glm_cli.events import ContentDelta
from tests.conftest import FAKE_KEY
from tests.fake_server import FakeGLM

CERT = Path(__file__).resolve().parent / "fake_tls.pem"  # self-signed, for 127.0.0.1, with its key


@pytest.fixture(autouse=True)
def fresh_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no shared context made yet (and no CA settings from the environment)."""
    monkeypatch.setattr(glm_cli.tls, "_shared", None)
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE"):
        monkeypatch.delenv(name, raising=False)


class _Models(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = json.dumps({"object": "list", "data": [{"id": "glm-4.7"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def https_url() -> Iterator[str]:
    """An https:// server on 127.0.0.1 whose certificate (tests/fake_tls.pem) no public CA signed."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(CERT)

    class TLSServer(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self):  # noqa: ANN202 - socketserver's signature
            sock, addr = super().get_request()
            return server_ctx.wrap_socket(sock, server_side=True), addr  # a refused handshake is dropped

    httpd = TLSServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}/api/paas/v4"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_http_answer_streams_without_loading_ca_certificates() -> None:
    with FakeGLM() as srv:
        srv.reply(content="Hello over plain http")
        client = GlmClient(base_url=srv.base_url, api_key=FAKE_KEY)
        try:
            deltas = list(
                client.chat({"model": "glm-4.7", "messages": [{"role": "user", "content": "hi"}], "stream": True})
            )
        finally:
            client.close()
    text = "".join(d.text for d in deltas if isinstance(d, ContentDelta))
    assert text == "Hello over plain http"
    assert glm_cli.tls.tls_context().cert_store_stats()["x509_ca"] == 0  # nothing loaded: no handshake was needed


def test_https_refuses_a_certificate_no_trusted_ca_signed(https_url: str) -> None:
    client = GlmClient(base_url=https_url, api_key=FAKE_KEY, retry=_no_retries())
    try:
        with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED"):
            client.request_json("GET", "/models")
    finally:
        client.close()
    assert glm_cli.tls.tls_context().cert_store_stats()["x509_ca"] > 0  # the CA certificates loaded for it


def test_https_trusts_ssl_cert_file(https_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT))
    client = GlmClient(base_url=https_url, api_key=FAKE_KEY, retry=_no_retries())
    try:
        assert client.request_json("GET", "/models")["data"] == [{"id": "glm-4.7"}]
    finally:
        client.close()


def test_https_checks_the_host_name(https_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The certificate is for 127.0.0.1: reached as `localhost`, it is refused even though its CA is trusted."""
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT))
    client = GlmClient(base_url=https_url.replace("127.0.0.1", "localhost"), api_key=FAKE_KEY, retry=_no_retries())
    try:
        with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED|match"):
            client.request_json("GET", "/models")
    finally:
        client.close()


def test_every_client_shares_one_context() -> None:
    a = GlmClient(base_url="http://127.0.0.1:9/api/paas/v4", api_key=FAKE_KEY)
    b = GlmClient(base_url="https://127.0.0.1:9/api/paas/v4", api_key=FAKE_KEY)
    try:
        contexts = {id(c.http._transport.context) for c in (a, b)}  # type: ignore[attr-defined]
    finally:
        a.close()
        b.close()
    assert contexts == {id(glm_cli.tls.tls_context())}


def _no_retries():  # noqa: ANN202
    from glm_cli.client import RetryPolicy

    return RetryPolicy(max_retries=0)
