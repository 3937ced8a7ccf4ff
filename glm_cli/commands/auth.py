"""`glm auth login|status|logout`: the command-line options only (the work is in glm_cli/auth.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.flags import Help, Option

if TYPE_CHECKING:
    from glm_cli.app import App

HELP = """Store, check and remove the API key (like `gh auth`). The key goes in credentials.json beside
config.yaml (mode 0600), one per profile; GLM_API_KEY / ZAI_API_KEY / ZHIPUAI_API_KEY still win over it."""


@dataclass(frozen=True)
class LoginOptions:
    profile: o.Profile = None


@dataclass(frozen=True)
class StatusOptions:
    profile: o.Profile = None
    offline: Annotated[
        bool, Option("--offline", help="Do not test the key with a request.", rich_help_panel=o.CONNECTION)
    ] = False
    as_json: Annotated[o.AsJson, Help("One JSON object, for scripts.")] = False


@dataclass(frozen=True)
class LogoutOptions:
    profile: o.Profile = None


def _login(opts: LoginOptions, app: App) -> int:
    from glm_cli.auth import AuthOptions, run_auth

    return run_auth(AuthOptions("login", profile=opts.profile), app)


def _status(opts: StatusOptions, app: App) -> int:
    from glm_cli.auth import AuthOptions, run_auth

    return run_auth(AuthOptions("status", profile=opts.profile, offline=opts.offline, as_json=opts.as_json), app)


def _logout(opts: LogoutOptions, app: App) -> int:
    from glm_cli.auth import AuthOptions, run_auth

    return run_auth(AuthOptions("logout", profile=opts.profile), app)


def command() -> Any:
    """The `glm auth` group."""
    return binding.group(
        "auth",
        HELP,
        [
            binding.command(
                LoginOptions,
                _login,
                name="login",
                help="Store a key: typed without echo on a terminal, or the first line of stdin (scripts).",
            ),
            binding.command(
                StatusOptions,
                _status,
                name="status",
                help="Which key is in effect (masked) and where it comes from, the endpoint, and whether it "
                "works: one request with max_tokens 1 to the configured model (exit 4: refused, "
                "5: no balance, 6: unreachable).",
            ),
            binding.command(LogoutOptions, _logout, name="logout", help="Remove the stored key (of the profile)."),
        ],
    )
