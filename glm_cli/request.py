"""THE request builder: messages + settings + per-request knobs -> a chat-completions body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glm_cli.catalogue import check_context, check_max_tokens, check_usable, setting_label
from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.catalogue import Catalogue
    from glm_cli.config import Settings


VISION_MODEL = "glm-4.6v"  # named when a model that cannot see gets attachments (the catalogue's `vision` alias)


@dataclass(frozen=True)
class Knobs:
    """Per-request choices that are not settings: streaming, JSON mode, stop words, tools."""

    stream: bool = True
    json_mode: bool = False
    stop: tuple[str, ...] = ()
    request_id: str | None = None
    tools: tuple[dict[str, Any], ...] = ()
    tool_stream: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def user_message(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def build_messages(
    prompt: str | None,
    *,
    system: str | None = None,
    history: Sequence[dict[str, Any]] = (),
    preserve_thinking: bool = False,
    prepared: bool = False,
) -> list[dict[str, Any]]:
    """Return system + history + the new user turn.

    With preserved thinking every earlier ``reasoning_content`` goes back unmodified and
    in order (GLM-4.7 needs it byte for byte); without it, history is sent without reasoning.
    ``prepared``: the history already is that (no system messages, reasoning kept or dropped as
    asked), so it is copied as is: building the next request of a long chat stays flat.
    """
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    if prepared:
        messages.extend(history)
        history = ()
    for msg in history:
        if msg.get("role") == "system":
            continue
        if not preserve_thinking and "reasoning_content" in msg:
            msg = {k: v for k, v in msg.items() if k != "reasoning_content"}
        messages.append(msg)
    if prompt is not None:
        messages.append(user_message(prompt))
    return messages


def thinking_field(settings: Settings) -> dict[str, Any] | None:
    """Return the ``thinking`` object for these settings, or None to leave the server default."""
    thinking, clear = settings.thinking, settings.clear_thinking
    if thinking is False:
        return {"type": "disabled"}
    if thinking is None and clear is None:
        return None
    out: dict[str, Any] = {"type": "enabled"}
    if clear is not None:
        out["clear_thinking"] = clear
    return out


def _check_range(settings: Settings, name: str, value: float | None, low: float, high: float) -> None:
    if value is not None and not (low <= value <= high):
        raise UsageError(f"{setting_label(name, settings.source(name))} must be between {low} and {high}, got {value}")


def build_chat_request(
    settings: Settings,
    messages: list[dict[str, Any]],
    knobs: Knobs = Knobs(),
    catalogue: Catalogue | None = None,
) -> dict[str, Any]:
    """Build the JSON body of ``POST /chat/completions``; validate ranges before any network."""
    model = settings.model
    info = None
    if catalogue is not None:
        model = catalogue.resolve(model)
        info = catalogue.get(model)
    check_usable(info, model)
    _check_range(settings, "temperature", settings.temperature, 0.0, 1.0)
    _check_range(settings, "top_p", settings.top_p, 0.01, 1.0)
    check_max_tokens(info, model, settings.max_tokens, settings.source("max_tokens"))
    check_context(info, model, messages)
    if any(isinstance(m.get("content"), list) for m in messages):  # content parts: images, video, documents
        from glm_cli.attachments import check_media

        check_media(info, model, messages, catalogue.resolve("vision") if catalogue is not None else VISION_MODEL)
    if len(knobs.stop) > 4:
        raise UsageError("at most 4 --stop sequences (GLM documents only one)")
    if "" in knobs.stop:  # `--stop "$UNSET"`: an empty stop sequence is a mistake, not a request
        raise UsageError("a --stop sequence must not be empty")

    body: dict[str, Any] = {"model": model, "messages": messages}
    thinking = thinking_field(settings)
    if thinking is not None:
        body["thinking"] = thinking
    sampling = {"temperature": settings.temperature, "top_p": settings.top_p, "max_tokens": settings.max_tokens}
    body.update({key: value for key, value in sampling.items() if value is not None})
    if knobs.stop:
        body["stop"] = list(knobs.stop)
    if knobs.json_mode:
        body["response_format"] = {"type": "json_object"}
    if knobs.request_id:
        body["request_id"] = knobs.request_id
    if knobs.tools:
        body["tools"] = list(knobs.tools)
        body["tool_choice"] = "auto"
        if knobs.stream and knobs.tool_stream:
            body["tool_stream"] = True
    body["stream"] = knobs.stream
    if knobs.stream:  # GLM sends usage in a stream anyway; OpenAI-compatible servers only when asked
        body["stream_options"] = {"include_usage": True}
    apply_params(body, settings)
    body.update(knobs.extra)  # a batch line's own fields: the most specific
    return body


# The fields glm sets itself, and how to set each with glm (a `params:` field of that name is refused unless forced).
OWN_FIELDS = {
    "model": "use -m/--model",
    "messages": "the prompt, -s/--system and the history make them",
    "stream": "use --no-stream",
    "stream_options": "glm asks for usage in a stream",
    "temperature": "use -t/--temperature",
    "top_p": "use --top-p",
    "max_tokens": "use --max-tokens",
    "thinking": "use --think/--no-think (clear_thinking in the config)",
    "stop": "use --stop",
    "response_format": "use --json-object or --schema",
    "request_id": "use --request-id",
    "tools": "use --tool, --mcp-server or --web-search",
    "tool_choice": "glm sets it with the tools",
    "tool_stream": "glm sets it with the tools",
}


def check_params(settings: Settings) -> None:
    """Refuse, before anything is sent, a `params` field that would replace one of OWN_FIELDS without a `!`."""
    for key in settings.params or {}:
        if not key.endswith("!") and key.split(".")[0] in OWN_FIELDS:
            _refuse(settings, key)


def apply_params(body: dict[str, Any], settings: Settings) -> None:
    """Put the `params` setting (--param KEY=VALUE, `params:` in the config) into BODY.

    `a.b` sets a nested field. A field glm sets itself (OWN_FIELDS, or any already in BODY) is refused
    unless the key ends in `!`, which replaces it.
    """
    check_params(settings)
    for key, value in (settings.params or {}).items():
        name = key.rstrip("!")
        path = name.split(".")
        where: Any = body
        for depth, part in enumerate(path[:-1]):
            inner = where.setdefault(part, {})
            if not isinstance(inner, dict):
                top = ".".join(path[: depth + 1])
                raise UsageError(f"param `{name}`: `{top}` is {json_type(inner)}, not an object")
            where = inner
        if path[-1] in where and not key.endswith("!"):
            _refuse(settings, key)
        where[path[-1]] = value


def _refuse(settings: Settings, key: str) -> None:
    name = key.rstrip("!")
    top = name.split(".")[0]
    what = "a field" if name == top else f"inside `{top}`, a field"
    how = OWN_FIELDS.get(top, "glm sets it in this request")
    raise UsageError(
        f"param `{name}` (from {settings.source('params.' + name)}) is {what} glm sets itself",
        f"{how}; to replace it anyway, end the key with ! (--param '{name}!=VALUE', or `{name}!:` in the config)",
    )


def json_type(value: Any) -> str:
    """The JSON name of VALUE's type, for messages."""
    names = {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "an array"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
