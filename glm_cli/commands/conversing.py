"""What `ask` and `chat` share before a turn: settings from the flags and a continued conversation,
the conversation itself, and whether the reasoning shows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.catalogue import Catalogue
    from glm_cli.config import Settings
    from glm_cli.conversation import Conversation
    from glm_cli.iostreams import IOStreams


def conversation_settings(
    app: App, opts: Any, prior: Conversation | None, *, preset: str | None = None, preserve: bool | None = None
) -> Settings:
    """Resolve the settings from OPTS' flags; a continued conversation (PRIOR) gives its model unless --model,
    its thinking on/off (chat's /think) unless a flag or preset sets it, and its preserved-thinking choice unless
    PRESERVE says otherwise."""
    from glm_cli.commands.options import request_flags
    from glm_cli.turn import with_preserve

    flags = request_flags(opts, model=opts.model or (prior.model if prior else None), show_thinking=opts.show_thinking)
    settings = app.settings(flags, profile=opts.profile, preset=preset)
    thinking = prior.options.get("thinking") if prior is not None else None
    if isinstance(thinking, bool) and not settings.source("thinking").startswith(("flag", "preset")):
        settings = settings.with_values(f"conversation {prior.id if prior else ''}", thinking=thinking)
    if preserve is None and prior is not None:
        preserve = prior.options.get("preserve_thinking")
    if preserve is not None:
        settings = with_preserve(settings, preserve)
    return settings


def continue_or_start(
    prior: Conversation | None, settings: Settings, system: str | None, **fields: Any
) -> Conversation:
    """Return PRIOR (a given --system replaces its system prompt), or a new conversation with FIELDS."""
    from glm_cli.conversation import Conversation

    if prior is None:
        return Conversation(system=settings.system, profile=settings.profile, **fields)
    if system is not None:
        prior.system = system
    return prior


def show_reasoning(settings: Settings, ios: IOStreams) -> bool:
    """The show_thinking setting; unset: whether stderr is a terminal."""
    value = settings.show_thinking
    return ios.stderr_tty if value is None else bool(value)


def warn_unknown_model(app: App, catalogue: Catalogue, model: str) -> None:
    """Warn (once, before sending) about a model the catalogue does not know: `-m glm-4.7-flsh` is likely a typo."""
    if (warning := catalogue.unknown_warning(model)) is not None:
        app.warn(warning)
