"""The process's one TLS context: verifying as httpx does by default, its CA certificates loaded when first needed."""

from __future__ import annotations

import os
import ssl
import threading
from typing import Any


class LazyTLSContext(ssl.SSLContext):
    """A TLS client context (certificates and host names checked) whose CA certificates load on first use.

    It trusts what httpx trusts by default (certifi's CA certificates, or SSL_CERT_FILE / SSL_CERT_DIR), but
    loads them at the first TLS handshake: a run against an http:// base URL never pays the ~30 ms. No
    handshake starts before they are loaded, so none is ever made without them.
    """

    def __new__(cls) -> LazyTLSContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        self.trust_loaded = False
        self._lock = threading.Lock()

    def load_trust(self) -> None:
        """Load the CA certificates (once) as httpx.create_ssl_context(verify=True, trust_env=True) does."""
        with self._lock:
            if self.trust_loaded:
                return
            if os.environ.get("SSL_CERT_FILE"):
                self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
            keylog = os.environ.get("SSLKEYLOGFILE")  # as ssl.create_default_context does
            if keylog and hasattr(self, "keylog_filename"):
                self.keylog_filename = keylog
            self.trust_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:  # type: ignore[override]
        self.load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:  # type: ignore[override]
        self.load_trust()
        return super().wrap_bio(*args, **kwargs)


_shared: LazyTLSContext | None = None
_shared_lock = threading.Lock()


def tls_context() -> LazyTLSContext:
    """The process's one TLS context: every client shares it (batch's workers, chat's turns)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LazyTLSContext()
        return _shared
