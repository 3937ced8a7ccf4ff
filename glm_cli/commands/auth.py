"""`glm auth login|status|logout`: the Typer registration only (the work is in glm_cli/auth.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from glm_cli.commands import options as o
from glm_cli.commands.common import run_command

HELP = """Store, check and remove the API key (like `gh auth`). The key goes in credentials.json beside
config.yaml (mode 0600), one per profile; GLM_API_KEY / ZAI_API_KEY / ZHIPUAI_API_KEY still win over it."""


def register(app: Any) -> None:
    """Add `glm auth …` to the Typer app."""
    from glm_cli.auth import AuthOptions, run_auth

    sub = typer.Typer(
        name="auth",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @sub.command()
    def login(profile: o.Profile = None) -> None:
        """Store a key: typed without echo on a terminal, or the first line of stdin (scripts)."""
        run_command(run_auth, AuthOptions("login", profile=profile))

    @sub.command()
    def status(
        profile: o.Profile = None,
        offline: Annotated[bool, typer.Option("--offline", help="Do not test the key with a request.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
    ) -> None:
        """Which key is in effect (masked) and where it comes from, the endpoint, and whether it works: one
        request with max_tokens 1 to the configured model (exit 4: refused, 5: no balance, 6: unreachable)."""
        run_command(run_auth, AuthOptions("status", profile=profile, offline=offline, as_json=as_json))

    @sub.command()
    def logout(profile: o.Profile = None) -> None:
        """Remove the stored key (of the profile)."""
        run_command(run_auth, AuthOptions("logout", profile=profile))

    app.add_typer(sub)
