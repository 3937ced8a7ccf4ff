"""Zhipu's own MCP servers (GLM Coding Plan), built in: `--mcp-server web-search`, `web-reader`, `zread`, `vision`.

Facts, from ../shared/zhipu-api.md §8.5 (docs.z.ai devpack/mcp/*, docs.bigmodel.cn coding-plan/mcp/*):
  confirmed [doc]: the remote ones speak streamable HTTP at {origin}/api/mcp/{path}/mcp, origin
    https://api.z.ai (Z.ai) or https://open.bigmodel.cn (BigModel), and take the user's ordinary API key as
    `Authorization: Bearer <key>`; web search's tool is `webSearchPrime`; the vision server is the npm package
    `@z_ai/mcp-server` (stdio), key in `Z_AI_API_KEY`, platform in `Z_AI_MODE` (`ZAI` or `ZHIPU`).
  assumed: the doc gives one URL per family, so the coding and the general endpoints of a family share it;
    web reader's and zread's tool names (UNCONFIRMED in the doc: glm lists whatever the server offers);
    whether a pay-as-you-go key without a Coding Plan is accepted (UNCONFIRMED: a 401/403 says so).

The key goes ONLY to Zhipu's own hosts (ZHIPU_HOSTS, over https), and only when glm talks to one of them for
chat as well (base_url): a key set up for a proxy is never sent to Zhipu. A server of the same name under
`mcp_servers:` replaces the built-in one and never gets the key implicitly (it is not `builtin`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from glm_cli.config import FAMILY_HOSTS

if TYPE_CHECKING:
    from glm_cli.config import Settings

ZHIPU_HOSTS = FAMILY_HOSTS
# Internal, for tests only: point the remote built-ins at another origin. Such a host never gets the key:
# the key goes only to ZHIPU_HOSTS, checked on the final URL (here, and again where the headers are sent).
OVERRIDE_ENV = "GLM_HOSTED_MCP_BASE"
REMOTE = {  # name: (path, description)
    "web-search": ("web_search_prime", "Zhipu web search (webSearchPrime); GLM Coding Plan"),
    "web-reader": ("web_reader", "Zhipu web reader: a URL as text; GLM Coding Plan"),
    "zread": ("zread", "Zhipu zread: documentation and search of repositories; GLM Coding Plan"),
}
VISION_PACKAGE = "@z_ai/mcp-server"
VISION_DESCRIPTION = "Zhipu vision (npm @z_ai/mcp-server); GLM Coding Plan"
VISION_START_TIMEOUT = 120.0  # a first `npx -y` downloads the package before it can answer


def zhipu_url(url: str) -> bool:
    """Whether URL is https on one of Zhipu's own API hosts (default port, no credentials in it)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.hostname in ZHIPU_HOSTS.values()
        and port in (None, 443)
        and "@" not in parts.netloc
    )


def family(settings: Settings) -> str:
    """Return "zai" or "bigmodel": the host family of base_url, else of the chosen endpoint."""
    return settings.family


def builtin_specs(settings: Settings) -> dict[str, dict[str, Any]]:
    """Return the built-in servers for the chosen endpoint, as McpServer fields (tools/mcp.py builds them)."""
    fam = family(settings)
    origin = (settings.environ.get(OVERRIDE_ENV) or f"https://{ZHIPU_HOSTS[fam]}").rstrip("/")
    specs: dict[str, dict[str, Any]] = {
        name: {"url": f"{origin}/api/mcp/{path}/mcp", "description": text} for name, (path, text) in REMOTE.items()
    }
    specs["vision"] = {
        "command": "npx",
        "args": ("-y", VISION_PACKAGE),
        "env": {"Z_AI_MODE": "ZHIPU" if fam == "bigmodel" else "ZAI"},
        "start_timeout": VISION_START_TIMEOUT,
        "description": VISION_DESCRIPTION,
    }
    return specs


def builtin_names() -> dict[str, str]:
    """The built-in servers' names and descriptions, whatever the endpoint (TAB offers them for --mcp-server)."""
    return {**{name: text for name, (_, text) in REMOTE.items()}, "vision": VISION_DESCRIPTION}


def glm_key(settings: Settings, url: str | None) -> str | None:
    """Return the GLM key for a built-in server at URL (None: the local vision server), or None when it may not
    have it: glm does not talk to Zhipu itself (the key may be a proxy's), or URL is not on a Zhipu host."""
    if not zhipu_url(settings.base_url) or (url is not None and not zhipu_url(url)):
        return None
    from glm_cli.config import resolve_api_key

    key, _ = resolve_api_key(settings)  # checked, and masked in every message (glm_cli/redact.py)
    return key
