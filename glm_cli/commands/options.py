"""Typer option types shared by ask, chat and batch (imported only when the app is built)."""

from __future__ import annotations

from typing import Annotated

import typer

Model = Annotated[str | None, typer.Option("--model", "-m", help="Model id or alias (default glm-4.7).")]
System = Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")]
Preset = Annotated[str | None, typer.Option("--preset", "-p", help="Use a named preset from the config.")]
Profile = Annotated[str | None, typer.Option("--profile", "-P", help="Use a named profile from the config.")]
Endpoint = Annotated[
    str | None,
    typer.Option("--endpoint", "-e", help="zai, bigmodel, zai-coding or bigmodel-coding."),
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
Temperature = Annotated[float | None, typer.Option("--temperature", "-t", help="0..1")]
TopP = Annotated[float | None, typer.Option("--top-p", help="0.01..1")]
MaxTokens = Annotated[int | None, typer.Option("--max-tokens", help="Maximum output tokens.")]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Request/response metadata and timings on stderr.")
]


def setting_flags(**flags: object) -> dict[str, object]:
    """Return the flags that were given, by setting name."""
    return {k: v for k, v in flags.items() if v is not None}
