"""`glm tokens`: the command-line options only (the work is in glm_cli/tokens.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.flags import Help

if TYPE_CHECKING:
    from glm_cli.app import App

HELP = (
    "Count the tokens of a request (as `glm ask` would send it) with Zhipu's tokenizer; show the share of "
    "the model's context window and the input cost. Piped stdin is appended after a blank line."
)


@dataclass(frozen=True)
class TokensCliOptions:
    prompt: o.Prompt = ()
    files: Annotated[o.Files, Help("A text file, fenced and named as ask adds it (repeatable).")] = ()
    attach: Annotated[o.Attach, Help("An image, video or document (repeatable).")] = ()
    model: o.Model = None
    system: o.System = None
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    no_stdin: o.NoStdin = False
    as_json: Annotated[o.AsJson, Help("One JSON object, for scripts.")] = False


def run(opts: TokensCliOptions, app: App) -> int:
    from glm_cli.tokens import TokensOptions, run_tokens

    return run_tokens(TokensOptions(**{f.name: getattr(opts, f.name) for f in dataclasses.fields(opts)}), app)


def command() -> Any:
    """The `glm tokens` command."""
    return binding.command(TokensCliOptions, run, name="tokens", help=HELP)
