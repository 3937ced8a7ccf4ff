"""MCP servers as tool sources: a client (the optional `mcp` SDK, imported lazily) in a side thread.

Their config (`mcp_servers:`, McpServer) is glm_cli/mcp_config.py.
"""

from __future__ import annotations

import json
import re
import shlex
from contextlib import ExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glm_cli import children
from glm_cli.errors import AuthError, ConfigError, GlmError, UsageError
from glm_cli.mcp_config import START_TIMEOUT, VAR_REF, McpServer, parse_servers
from glm_cli.redact import hide
from glm_cli.tools.files import DEFAULT_MAX_OUTPUT, TOOL_NAME, ToolResult, ToolSpec, check_parameters

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Collection, Mapping

    from glm_cli.config import Settings

INSTALL_HINT = "pip install 'zhipu-glm-cli[mcp]'  (pipx: pipx inject zhipu-glm-cli mcp)"
SHUTDOWN_TIMEOUT = 5.0  # for closing a session; then its process group is killed


def expand(value: str, environ: Mapping[str, str], what: str, *, secret: bool = False) -> str:
    """Return VALUE with each ${VAR} replaced from ENVIRON (SECRET: masked in any later message, as the key is)."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)[2:-1]
        if name not in environ:
            raise ConfigError(
                f"{what} uses ${{{name}}}, which is not set in the environment",
                f"export {name}=... before running glm, or change the config",
            )
        if secret:
            hide(environ[name])
        return environ[name]

    return VAR_REF.sub(sub, value)


def looks_like_command(spec: str, environ: Mapping[str, str]) -> bool:
    """Whether SPEC is a command line or URL rather than a server name: it has a space or a slash, or is on PATH."""
    import shutil

    if " " in spec or "/" in spec or re.match(r"https?://", spec):
        return True
    return bool(spec) and shutil.which(spec, path=environ.get("PATH")) is not None


def server_from_flag(spec: str, index: int) -> McpServer:
    """Build a server from `--mcp "CMD ARGS"` (split like a shell would; no shell runs it)."""
    try:
        argv = shlex.split(spec)
    except ValueError as exc:
        raise UsageError(f"--mcp {spec!r}: {exc}") from None
    if not argv:
        raise UsageError('--mcp needs a command, e.g. --mcp "npx -y @modelcontextprotocol/server-filesystem ."')
    if re.match(r"https?://", argv[0]) and len(argv) == 1:
        return McpServer(name=f"mcp{index}", url=argv[0])
    return McpServer(name=f"mcp{index}", command=argv[0], args=tuple(argv[1:]))


def require_mcp() -> None:
    """Import the MCP SDK, or say how to install it."""
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise UsageError("MCP support needs the optional `mcp` package, which is not installed", INSTALL_HINT) from None


def tool_name(remote: str) -> str:
    """Return a GLM-acceptable function name for an MCP tool name."""
    if TOOL_NAME.fullmatch(remote):
        return remote
    return (re.sub(r"[^a-zA-Z0-9_-]", "_", remote) or "tool")[:64]


def result_text(result: dict[str, Any]) -> str:
    """Flatten a CallToolResult (wire shape) into the text sent back to the model."""
    parts: list[str] = []
    for block in result.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            parts.append(block.get("text", ""))
        elif kind == "resource":
            res = block.get("resource") or {}
            parts.append(res.get("text") or f"[resource {res.get('uri', '')}]")
        elif kind == "resource_link":
            parts.append(f"[resource {block.get('uri', '')}]")
        else:
            parts.append(f"[{kind} {block.get('mimeType', '')}]".replace(" ]", "]"))
    structured = result.get("structuredContent")
    if structured is not None and not parts:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > DEFAULT_MAX_OUTPUT:
        text = text[:DEFAULT_MAX_OUTPUT] + f"\n[output truncated: {len(text) - DEFAULT_MAX_OUTPUT:,} more characters]"
    return text


def _wire(obj: Any) -> dict[str, Any]:
    """Return an SDK model as its JSON wire shape (camelCase keys in SDK v1 and v2 alike)."""
    return obj.model_dump(mode="json", by_alias=True, exclude_none=True)


class McpHub:
    """Open sessions to MCP servers for the length of a command; call their tools from sync code.

    environ: the user's environment (default: this process's), for stdio servers and ${VAR} in `env`/`headers`;
    withhold: variables no server gets (glm's key variables always); start_timeout: `mcp_start_timeout`.
    """

    def __init__(
        self,
        servers: list[McpServer],
        *,
        verbose: bool = False,
        environ: Mapping[str, str] | None = None,
        withhold: Collection[str] = (),
        start_timeout: float | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        import os

        from glm_cli.config import KEY_ENV_VARS

        self.servers, self.verbose = servers, verbose
        self.environ = dict(os.environ if environ is None else environ)
        self.withhold = frozenset(withhold) | frozenset(KEY_ENV_VARS)
        self.start_timeout = start_timeout
        self._say = say or _to_stderr
        self.tools: list[ToolSpec] = []
        self.warnings: list[str] = []
        self._stack = ExitStack()
        self._sessions: dict[str, Any] = {}
        self._portal: Any = None
        self._groups: set[int] = set()  # the process groups of its stdio servers

    def __enter__(self) -> McpHub:
        require_mcp()
        if not self.verbose:  # the SDK logs a server's bad output with a traceback: the error below says it
            import logging

            logging.getLogger("mcp").addHandler(logging.NullHandler())
            logging.getLogger("mcp").propagate = False
        from anyio.from_thread import start_blocking_portal

        _track_stdio_servers()
        try:
            self._portal = self._stack.enter_context(start_blocking_portal())
            # Closed sessions first (LIFO), then calls still running (a tool call Ctrl-C left behind) cancelled.
            self._stack.callback(self._portal.call, self._portal.stop, True)
            for server in self.servers:
                self._connect(server)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every session (each within SHUTDOWN_TIMEOUT), then kill what is left of the servers."""
        try:
            self._stack.close()
        except Exception:  # noqa: BLE001 - a server that dies on shutdown must not mask the answer
            pass
        finally:
            for pid in self._groups:
                children.kill(pid)

    def environment(self, server: McpServer) -> dict[str, str]:
        """Return a stdio server's environment: the user's, less what is withheld, plus its `env` (expanded)."""
        drop = self.withhold | set(server.env_withhold)
        env = {k: v for k, v in self.environ.items() if k not in drop}
        env.update({k: expand(v, self.environ, f"MCP server {server.name}: `env.{k}`") for k, v in server.env.items()})
        return {**env, **server.secret_env}

    def headers(self, server: McpServer) -> dict[str, str]:
        """Return a URL server's headers, expanded; the GLM key only ever for Zhipu's own hosts."""
        from glm_cli.tools.hosted import zhipu_url

        headers = {
            k: expand(v, self.environ, f"MCP server {server.name}: `headers.{k}`", secret=True)
            for k, v in server.headers.items()
        }
        for name, value in headers.items():  # httpx would refuse it, quoting the value
            if any(ch in value for ch in "\r\n\0"):
                raise ConfigError(f"MCP server {server.name}: `headers.{name}` has a line break or NUL once expanded")
        if server.secret_headers and zhipu_url(server.url or ""):  # whatever built the server, nowhere else
            headers.update(server.secret_headers)
        return headers

    def _connect(self, server: McpServer) -> None:
        import sys
        import tempfile

        bound = server.start_bound(self.start_timeout)
        # Expanded now, at use (a ${VAR} that is not set is a config error before anything starts)
        launch = self.headers(server) if server.url else self.environment(server)
        # The server's stderr: shown with --verbose, else kept aside and quoted only if it fails to start.
        errlog = (
            sys.stderr
            if self.verbose
            else self._stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace"))
        )
        statuses: list[tuple[str, int]] = []  # (method, status) of each HTTP answer >= 400 while starting

        def start(legacy: bool = False) -> Any:
            def transport() -> Any:  # made inside the event loop
                if server.url:
                    return _http_transport(server.url, launch, statuses, legacy=legacy)
                return _stdio_transport(server, launch, errlog)

            cm = _session(transport, bound, self._session_options(server))
            return self._stack.enter_context(self._portal.wrap_async_context_manager(cm))

        before = children.tracked()
        try:
            try:
                session = start()
            except GlmError:
                raise
            except Exception as exc:  # noqa: BLE001 - every way a server can fail to start reads the same
                if not (server.url and _status(statuses, "POST") in (400, 404, 405)):
                    raise self._failed(server, exc, "handshake", bound, statuses, errlog) from None
                # The spec's fallback: a server that refuses the streamable-HTTP POST may speak HTTP+SSE (2024-11-05)
                try:
                    session = start(legacy=True)
                except Exception as legacy_exc:  # noqa: BLE001
                    raise self._failed(server, legacy_exc, "handshake", bound, statuses, errlog, legacy=True) from None
                self._note(f"MCP server {server.name} speaks the legacy HTTP+SSE transport")
        finally:
            self._groups |= children.tracked() - before
        try:
            listed = self._portal.call(_list_tools, session, bound)
        except Exception as exc:  # noqa: BLE001
            raise self._failed(server, exc, "tools/list", bound, statuses, errlog) from None
        self._sessions[server.name] = session
        self._add_tools(server, listed)

    def _add_tools(self, server: McpServer, listed: list[dict[str, Any]]) -> None:
        names = {t["name"] for t in listed}
        for missing in sorted(set(server.tools or ()) - names):
            self.warnings.append(
                f"MCP server {server.name} has no tool {missing!r} (it has: {', '.join(sorted(names))})"
            )
        for tool in listed:
            if server.tools is not None and tool["name"] not in server.tools:
                continue
            where = f"MCP server {server.name}, tool {tool['name']}"
            if (tool.get("execution") or {}).get("taskSupport") == "required":
                # It would be offered, then every call refused: glm does not run MCP tasks (yet), so leave it out.
                text = (
                    f"{where} runs only as a task (execution.taskSupport: required), which glm does not support; "
                    "the tool is left out"
                )
                if server.tools is not None:
                    self.warnings.append(text)
                else:
                    self._note(text)
                continue
            try:
                params = check_parameters(tool.get("inputSchema"), where)
            except UsageError as err:
                self.warnings.append(f"{err.message}; the tool is left out")
                continue
            self.tools.append(
                ToolSpec(
                    name=tool_name(tool["name"]),
                    description=tool.get("description") or "",
                    parameters=params,
                    timeout=server.timeout,
                    source=where,
                    server=server.name,
                    remote_name=tool["name"],
                )
            )

    def _failed(
        self,
        server: McpServer,
        exc: BaseException,
        step: str,
        bound: float,
        statuses: list[tuple[str, int]],
        errlog: Any,
        *,
        legacy: bool = False,
    ) -> GlmError:
        """Say why SERVER failed to start: the HTTP status it answered, what timed out, or what broke."""
        import http

        exc, tail = _unwrap(exc), None if self.verbose else _stderr_tail(errlog)
        where = f"MCP server {server.name} ({server.display()})"
        code = next((c for _, c in statuses if c in (401, 403)), None) or _status(statuses)
        if code is not None:
            status = f"{code} {_phrase(code, http)}"
            if code in (401, 403):
                return AuthError(f"{where} refused the connection: {status}", _auth_hint(server))
            if legacy:
                return GlmError(
                    f"{where} failed to start: it answered {status} to the streamable-HTTP handshake, "
                    "and does not speak the legacy HTTP+SSE transport either",
                    "check the URL (a streamable-HTTP endpoint often ends in /mcp, a legacy one in /sse)",
                )
            return GlmError(
                f"{where} failed to start: it answered {status}", "check that the URL serves MCP over streamable HTTP"
            )
        if isinstance(exc, TimeoutError):
            what = "no answer to the MCP handshake (initialize)" if step == "handshake" else f"no answer to {step}"
            return GlmError(
                f"{where} failed to start: {what} within {bound:g}s",
                "\n".join(filter(None, [_slow_hint(server, bound), tail])),
            )
        hint = tail or (
            "check that the URL serves MCP over streamable HTTP" if server.url else "run the command by hand to see why"
        )
        return GlmError(f"{where} failed to start: " + _describe(exc), hint)

    def _note(self, text: str) -> None:
        """Say TEXT on stderr with --verbose (else nothing)."""
        if self.verbose:
            self._say(f"glm: {text}")

    def _session_options(self, server: McpServer) -> dict[str, Any]:
        """Return the ClientSession options this SDK takes: glm's name and version; with -v, the server's log."""
        import inspect

        from mcp import ClientSession

        from glm_cli import __version__

        accepted = inspect.signature(ClientSession.__init__).parameters
        options: dict[str, Any] = {}
        if "client_info" in accepted:
            from mcp.types import Implementation

            options["client_info"] = Implementation(name="glm", version=__version__)
        if self.verbose and "logging_callback" in accepted:

            async def log(params: Any) -> None:
                data = params.data if isinstance(params.data, str) else json.dumps(params.data, ensure_ascii=False)
                by = f" {params.logger}" if getattr(params, "logger", None) else ""
                self._say(f"glm: MCP server {server.name}{by} [{params.level}]: {data}")

            options["logging_callback"] = log
        return options

    def _progress(self, tool: ToolSpec) -> Any:
        """Return a progress callback that shows a tool call's progress on stderr (with -v), or None."""
        if not self.verbose:
            return None

        async def progress(done: float, total: float | None, message: str | None = None) -> None:
            of = f"/{total:g}" if total is not None else ""
            self._say(
                f"glm: MCP server {tool.server}, tool {tool.remote_name}: progress {done:g}{of}"
                + (f": {message}" if message else "")
            )

        return progress

    def call(self, tool: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        """Call an MCP tool; failures and timeouts come back as a failed ToolResult."""
        session = self._sessions[tool.server or ""]
        try:
            result = self._portal.call(
                _call_tool, session, tool.remote_name or tool.name, arguments, tool.timeout, self._progress(tool)
            )
        except TimeoutError:
            msg = f"MCP server {tool.server} did not answer tools/call within {tool.timeout:g}s (timeout)"
            return ToolResult(f"error: {msg}", ok=False, error=msg)
        except Exception as exc:  # noqa: BLE001 - protocol errors go back to the model, not a crash
            msg = _describe(exc)
            return ToolResult(f"error: {msg}", ok=False, error=msg)
        text = result_text(result)
        if result.get("isError"):
            first = text.strip().splitlines()[0] if text.strip() else "the tool reported an error"
            return ToolResult(text or "error", ok=False, error=first)
        return ToolResult(text)


def namespace(tools: list[ToolSpec]) -> list[ToolSpec]:
    """Rename each MCP tool whose name another tool has too: SERVER__NAME (a command tool keeps its name)."""
    from collections import Counter

    count = Counter(t.name for t in tools)
    return [
        replace(t, name=tool_name(f"{t.server}__{t.name}")) if t.server is not None and count[t.name] > 1 else t
        for t in tools
    ]


def _to_stderr(text: str) -> None:
    import sys

    from glm_cli.render import visible

    sys.stderr.write(visible(text) + "\n")
    sys.stderr.flush()


def _status(statuses: list[tuple[str, int]], method: str | None = None) -> int | None:
    """Return the first HTTP error status answered (to METHOD, if given)."""
    return next((code for m, code in statuses if method is None or m == method), None)


def _phrase(code: int, http: Any) -> str:
    try:
        return str(http.HTTPStatus(code).phrase)
    except ValueError:
        return "error"


def _auth_hint(server: McpServer) -> str:
    if server.builtin:
        if server.secret_headers:
            return (
                "glm sent your GLM API key; Zhipu's hosted MCP servers come with the GLM Coding Plan: "
                "check that this key has it"
            )
        return (
            "glm sends your GLM API key only to Zhipu's own hosts, when base_url is one of them; "
            'otherwise define the server under mcp_servers: with `headers: {Authorization: "Bearer ${VAR}"}`'
        )
    if server.headers:
        return f"check its `headers:` in the config (sent: {', '.join(server.headers)})"
    return (
        "it wants credentials: add `headers:` to its entry under mcp_servers:, "
        'e.g. `headers: {Authorization: "Bearer ${TOKEN}"}`'
    )


LAUNCHERS = {"npx", "uvx", "bunx", "pnpx", "pipx", "pnpm", "yarn", "bun", "uv", "docker"}


def _slow_hint(server: McpServer, bound: float) -> str:
    """Say how to give a slow server longer, and why it may be slow (a first `npx -y` downloads the package)."""
    program = Path(server.command or "").name
    why = (
        f"a first `{program} {shlex.join(server.args[:2])}` downloads the server before it can answer; "
        if program in LAUNCHERS
        else ""
    )
    where = "its entry under `mcp_servers:`" if not re.fullmatch(r"mcp\d+", server.name) else "a `mcp_servers:` entry"
    return (
        f"{why}if it is only slow to start, give it longer: `start_timeout: SECONDS` in {where}, "
        f"or `mcp_start_timeout: SECONDS` in the config for every server (now {bound:g}s)"
    )


@asynccontextmanager
async def _session(transport: Callable[[], Any], bound: float, options: dict[str, Any]) -> AsyncIterator[Any]:
    import anyio
    from mcp import ClientSession

    with anyio.CancelScope() as scope:
        async with transport() as streams:
            async with ClientSession(streams[0], streams[1], **options) as session:
                with anyio.fail_after(bound):
                    await session.initialize()
                try:
                    yield session
                finally:  # closing (the HTTP DELETE, the stdio server's exit) gets a bound too
                    scope.deadline = anyio.current_time() + SHUTDOWN_TIMEOUT


def _stdio_transport(server: McpServer, env: dict[str, str], errlog: Any) -> Any:
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    # ENV: the user's environment less the key variables and whatever is withheld (McpHub.environment)
    params = StdioServerParameters(command=server.command or "", args=list(server.args), env=env)
    return stdio_client(params, errlog=errlog)


def _http_transport(url: str, headers: dict[str, str], statuses: list[tuple[str, int]], *, legacy: bool) -> Any:
    """Return the streamable-HTTP transport (LEGACY: HTTP+SSE) sending HEADERS; HTTP errors go to STATUSES."""
    import inspect

    from mcp.client import streamable_http

    async def seen(response: Any) -> None:  # streamable HTTP: a GET refused (405) is normal, only POSTs count
        if response.status_code >= 400 and (legacy or response.request.method == "POST"):
            statuses.append((response.request.method, response.status_code))

    factory: Any = None  # makes the SDK's HTTP client, with HEADERS and the hook that sees each status
    try:
        from mcp.shared._httpx_utils import create_mcp_http_client
    except ImportError:  # an SDK without it: the headers still go, the statuses are not seen
        pass
    else:

        def factory(headers: dict[str, str] | None = None, timeout: Any = None, auth: Any = None) -> Any:
            made = create_mcp_http_client(headers={**(headers or {}), **sent}, timeout=timeout, auth=auth)
            hooks = dict(made.event_hooks)
            made.event_hooks = {**hooks, "response": [*hooks.get("response", []), seen]}
            return made

    sent = headers
    if not legacy and factory is not None and hasattr(streamable_http, "streamable_http_client"):  # v2, late v1
        return _with_client(streamable_http.streamable_http_client, url, factory())
    if legacy:
        from mcp.client.sse import sse_client as transport
    else:
        transport = streamable_http.streamablehttp_client  # type: ignore[attr-defined]  # early v1
    options: dict[str, Any] = {"headers": headers}
    if factory is not None and "httpx_client_factory" in inspect.signature(transport).parameters:
        options["httpx_client_factory"] = factory
    return transport(url, **options)


@asynccontextmanager
async def _with_client(transport: Any, url: str, http_client: Any) -> AsyncIterator[Any]:
    async with http_client, transport(url, http_client=http_client) as streams:
        yield streams


async def _list_tools(session: Any, timeout: float = START_TIMEOUT) -> list[dict[str, Any]]:
    """Return every tool of a server, following `nextCursor` through all pages, all within TIMEOUT."""
    import anyio

    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    with anyio.fail_after(timeout):
        for _ in range(1000):  # a server that keeps sending cursors must not loop forever
            page = await _list_page(session, cursor)
            tools += [_wire(t) for t in page.tools]
            cursor = getattr(page, "next_cursor", None) or getattr(page, "nextCursor", None)
            if not cursor:
                break
    return tools


async def _list_page(session: Any, cursor: str | None) -> Any:
    if cursor is None:
        return await session.list_tools()
    try:  # SDK v2 and late v1: params=; early v1: cursor=
        from mcp.types import PaginatedRequestParams

        return await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
    except (ImportError, TypeError):
        return await session.list_tools(cursor=cursor)


async def _call_tool(
    session: Any, name: str, arguments: dict[str, Any], timeout: float, progress: Any = None
) -> dict[str, Any]:
    import inspect

    import anyio

    with anyio.fail_after(timeout):
        if progress is None or "progress_callback" not in inspect.signature(session.call_tool).parameters:
            return _wire(await session.call_tool(name, arguments))
        return _wire(await session.call_tool(name, arguments, progress_callback=progress))


def _track_stdio_servers() -> None:
    """Have each stdio server the SDK starts tracked by `children`: its process group dies with glm.

    The SDK (1.x since mid-2025, and 2.x) starts it in a session of its own, but kills that group only when
    the server outlives its stdin; what the server started, and any server when glm is killed, would be left.
    """
    import os

    from mcp.client import stdio

    spawn = getattr(stdio, "_create_platform_compatible_process", None)
    if spawn is None or getattr(spawn, "glm_tracked", False) or os.name != "posix":
        return

    async def tracked(*args: Any, **kwargs: Any) -> Any:
        process = await spawn(*args, **kwargs)
        if os.getpgid(process.pid) == process.pid:  # its own group (older SDKs: glm's own; left alone)
            children.track(process.pid)
        return process

    tracked.glm_tracked = True  # type: ignore[attr-defined]
    stdio._create_platform_compatible_process = tracked


def _unwrap(exc: BaseException) -> BaseException:
    """Return the first exception of an exception group (a backport on 3.10), or EXC itself."""
    while getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    return exc


def _describe(exc: BaseException, timeout: str = "") -> str:
    """Return one readable line for an exception (exception groups unwrapped); `timeout` for a bare timeout."""
    exc = _unwrap(exc)
    if timeout and isinstance(exc, TimeoutError) and not str(exc).strip():
        return timeout
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def _stderr_tail(errlog: Any, lines: int = 5) -> str | None:
    try:
        errlog.seek(0)
        tail = [line.rstrip() for line in errlog.read().splitlines() if line.strip()][-lines:]
    except (OSError, ValueError):
        return None
    return ("its stderr ended with:\n  " + "\n  ".join(tail)) if tail else None


def config_servers(settings: Settings) -> dict[str, McpServer]:
    """Return the servers named in the config (already checked when the config was loaded)."""
    path = settings.config_path or Path("config")
    return parse_servers(settings.mcp_servers, str(path))


def builtin_servers(settings: Settings) -> dict[str, McpServer]:
    """Return Zhipu's hosted servers for the chosen endpoint (glm_cli/tools/hosted.py), without the key."""
    from glm_cli.tools.hosted import builtin_specs

    return {name: McpServer(name=name, builtin=True, **spec) for name, spec in builtin_specs(settings).items()}


def with_key(server: McpServer, settings: Settings) -> McpServer:
    """Return a built-in SERVER that sends the GLM key: a Bearer header to a Zhipu host, or in the vision server's
    environment; unchanged where the key may not go (hosted.glm_key)."""
    from glm_cli.tools.hosted import glm_key

    key = glm_key(settings, server.url) if server.builtin else None
    if key is None:
        return server
    if server.url:
        return replace(server, secret_headers={"Authorization": f"Bearer {key}"})
    return replace(server, secret_env={"Z_AI_API_KEY": key})


def known_servers(settings: Settings) -> dict[str, McpServer]:
    """Return every server a name can pick: the config's, then Zhipu's hosted ones (a name in the config wins)."""
    configured = config_servers(settings)
    return {**configured, **{k: v for k, v in builtin_servers(settings).items() if k not in configured}}


def named_server(name: str, settings: Settings) -> McpServer | None:
    """Return the server called NAME (a built-in one with the GLM key, where it may go), or None."""
    server = known_servers(settings).get(name)
    return with_key(server, settings) if server is not None else None


def resolve(spec: str, settings: Settings) -> McpServer:
    """Return the server named SPEC, or the one the command line (or URL) SPEC starts: `glm mcp tools SPEC`."""
    server = named_server(spec, settings)
    if server is not None:
        return server
    if looks_like_command(spec, settings.environ):
        return server_from_flag(spec, 1)
    raise UsageError(
        f"no MCP server or command named {spec!r}",
        f'{servers_hint(settings)}; or give a command line: glm mcp tools "npx -y PACKAGE ARGS"',
    )


def servers_hint(settings: Settings) -> str:
    """Return the server names a user can give, for a hint: the config's, then the built-in ones."""
    configured = ", ".join(config_servers(settings)) or "none configured"
    return f"servers: {configured}; built-in: {', '.join(builtin_servers(settings))}"


def hub_options(settings: Settings) -> dict[str, Any]:
    """Return McpHub's options from the settings: the environment, what it withholds, `mcp_start_timeout`."""
    from glm_cli.tools.files import withheld_vars

    return {
        "environ": settings.environ,
        "withhold": withheld_vars(settings),
        "start_timeout": settings.mcp_start_timeout,
    }
