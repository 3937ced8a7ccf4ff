"""Typer option types shared by ask, chat and batch (imported only when the app is built)."""

from __future__ import annotations

from typing import Annotated

import typer

Model = Annotated[
    str | None, typer.Option("--model", "-m", metavar="MODEL", help="Model id or alias (default glm-4.7).")
]
System = Annotated[str | None, typer.Option("--system", "-s", metavar="TEXT", help="System prompt.")]
Preset = Annotated[
    str | None, typer.Option("--preset", "-p", metavar="NAME", help="Use a named preset from the config.")
]
Profile = Annotated[
    str | None, typer.Option("--profile", "-P", metavar="NAME", help="Use a named profile from the config.")
]
Endpoint = Annotated[
    str | None,
    typer.Option("--endpoint", "-e", metavar="NAME", help="zai, bigmodel, zai-coding or bigmodel-coding."),
]
Think = Annotated[
    bool | None,
    typer.Option("--think/--no-think", help="Turn GLM thinking on or off (sends thinking.type)."),
]
ShowThinking = Annotated[
    bool | None,
    typer.Option("--show-thinking/--hide-thinking",
                 help="Show reasoning on stderr (default: when stderr is a terminal)."),
]
Temperature = Annotated[float | None, typer.Option("--temperature", "-t", metavar="T", help="0..1")]
TopP = Annotated[float | None, typer.Option("--top-p", metavar="P", help="0.01..1")]
MaxTokens = Annotated[int | None, typer.Option("--max-tokens", metavar="N", help="Maximum output tokens.")]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Request/response metadata and timings on stderr.")
]


def setting_flags(**flags: object) -> dict[str, object]:
    """Return the flags that were given, by setting name."""
    return {k: v for k, v in flags.items() if v is not None}
