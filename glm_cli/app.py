"""App: the injected dependencies every command runs with (streams, environment, client factory)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glm_cli.iostreams import IOStreams

if TYPE_CHECKING:
    from glm_cli.catalogue import Catalogue
    from glm_cli.client import GlmClient, RetryPolicy
    from glm_cli.config import Settings
    from glm_cli.events import Waiting


@dataclass
class App:
    """What a command needs from the outside world; tests build their own."""

    ios: IOStreams
    environ: dict[str, str]
    transport: Any = None  # an httpx transport; tests pass MockTransport or respx's
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _catalogues: dict[tuple[str, str], Catalogue] = field(default_factory=dict, repr=False)
    _warned: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def system(cls) -> App:
        import os

        ios = IOStreams.system()
        return cls(ios=ios, environ=dict(os.environ))

    def settings(
        self, flags: dict[str, Any] | None = None, *, profile: str | None = None, preset: str | None = None
    ) -> Settings:
        from glm_cli.config import load_settings

        settings = load_settings(self.environ, flags, profile=profile, preset=preset)
        for text in settings.warnings:  # once per run, however often the settings are resolved
            if text not in self._warned:
                self._warned.add(text)
                self.warn(text)
        return settings

    def catalogue(self, settings: Settings) -> Catalogue:
        from glm_cli.catalogue import load_catalogue

        # What the catalogue is made of: settings changed later (chat's /model) share it; other files do not.
        where = str(settings.config_path or "config")
        key = (where, repr(settings.catalogue_overrides))
        if key not in self._catalogues:
            self._catalogues[key] = load_catalogue(settings.catalogue_overrides or None, where=where)
        return self._catalogues[key]

    def make_client(
        self,
        settings: Settings,
        *,
        verbose: bool = False,
        retry: RetryPolicy | None = None,
        pool_size: int | None = None,
    ) -> GlmClient:
        """The client for these settings; RETRY: its retry policy (default: max_retries from the settings)."""
        from glm_cli.client import GlmClient, RetryPolicy
        from glm_cli.config import resolve_api_key
        from glm_cli.errors import ConfigError
        from glm_cli.redact import USERINFO, redact_url, scrub

        if re.search(USERINFO, settings.base_url):  # httpx would send them as Basic auth, in place of the key
            raise ConfigError(
                f"base_url {redact_url(settings.base_url)} ({settings.source('base_url')}) carries user:password@,"
                " which would replace the API key (a request has one Authorization header)",
                "remove the credentials from the URL: glm sends the key as a Bearer token",
            )
        key, _ = resolve_api_key(settings)
        log = None
        if verbose:

            def log(text: str) -> None:
                self.ios.stderr.write(f"glm: {scrub(text)}\n")  # the URLs it shows may hold credentials
                self.ios.stderr.flush()

        return GlmClient(
            base_url=settings.base_url,
            api_key=key,
            timeout=float(settings.timeout),
            connect_timeout=float(settings.connect_timeout),
            deadline=float(settings.deadline),
            max_response_bytes=int(settings.max_response_mb * (1 << 20)),
            clock=self.clock,
            retry=retry if retry is not None else RetryPolicy(max_retries=settings.max_retries),
            pool_size=pool_size,
            proxy=settings.proxy,
            transport=self.transport,
            sleep=self.sleep,
            log=log,
            notice=self.announce_wait,
            accept_language=None if "bigmodel" in settings.base_url else "en-US,en",
        )

    def announce_wait(self, wait: Waiting) -> None:
        """Say on stderr, once per wait, what a request waits for before its next try, and how long."""
        from glm_cli.redact import scrub

        self.ios.stderr.write(f"glm: {scrub(wait.text())}\n")
        self.ios.stderr.flush()

    def warn(self, text: str) -> None:
        """Write one `glm: warning:` line to stderr (with no secret in it)."""
        from glm_cli.redact import scrub

        self.ios.stderr.write(f"glm: warning: {scrub(text)}\n")
        self.ios.stderr.flush()
