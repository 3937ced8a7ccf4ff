"""One turn of a conversation: build the request, stream and render the answer, append it.

`run_turn` is the unit `ask` and `chat` share (and a tool-call loop wraps): it sends the
conversation as it stands and appends the assistant's reply. Ctrl-C while the answer streams is
not an error here: the partial reply comes back with ``interrupted=True`` and is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glm_cli.conversation import Conversation, Message
from glm_cli.request import Knobs, build_chat_request, build_messages

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.catalogue import Catalogue
    from glm_cli.client import GlmClient
    from glm_cli.config import Settings
    from glm_cli.events import Reply
    from glm_cli.iostreams import IOStreams


def preserves_thinking(settings: Settings) -> bool:
    """Whether earlier reasoning goes back to the model (clear_thinking false; the coding endpoints' default)."""
    clear = settings.clear_thinking
    return clear is False or (clear is None and settings.coding_endpoint)


def with_preserve(settings: Settings, on: bool) -> Settings:
    """Return settings with preserved thinking on or off.

    On: ``clear_thinking: false`` (sent as thinking {type: enabled, clear_thinking: false}).
    Off: clear_thinking left to the server default, except on the coding endpoints, whose default
    is to preserve, where ``clear_thinking: true`` says so explicitly.
    """
    clear = False if on else (True if settings.coding_endpoint else None)
    return settings.with_values("chat", clear_thinking=clear)


def build_turn_request(
    conv: Conversation, settings: Settings, knobs: Knobs | None = None, catalogue: Catalogue | None = None
) -> dict[str, Any]:
    """Return the request body for the conversation as it stands (its last message is the new one)."""
    preserve = preserves_thinking(settings)
    # history() already left out the reasoning that must not go back (it keeps the current turn's).
    messages = build_messages(None, system=conv.system, history=conv.history(preserve), prepared=True)
    return build_chat_request(settings, messages, knobs or Knobs(), catalogue)


def stream_reply(
    app: App,
    client: GlmClient,
    body: dict[str, Any],
    *,
    show_reasoning: bool,
    markdown: bool | None = None,
    ios: IOStreams | None = None,
) -> tuple[Reply, float]:
    """Send one request and render it; return the reply (interrupted on Ctrl-C) and its latency."""
    from glm_cli.render import Pace, render_stream

    started = app.clock()
    deltas = client.chat(body, idle=True)  # IDLE: the answer so far is shown before each wait for more
    try:
        reply = render_stream(
            deltas, ios or app.ios, show_reasoning=show_reasoning, markdown=markdown, pace=Pace(clock=app.clock)
        )
    except KeyboardInterrupt as exc:
        partial: Reply | None = getattr(exc, "partial_reply", None)
        if partial is None:
            raise
        reply = partial
    finally:
        close = getattr(deltas, "close", None)
        if close is not None:  # Ctrl-C may land outside the generator: hang up the stream either way
            close()
    return reply, app.clock() - started


def run_turn(
    conv: Conversation,
    settings: Settings,
    app: App,
    client: GlmClient,
    *,
    knobs: Knobs | None = None,
    catalogue: Catalogue | None = None,
    show_reasoning: bool = False,
    markdown: bool | None = None,
    ios: IOStreams | None = None,
    body: dict[str, Any] | None = None,
) -> Reply:
    """Send the conversation, render the answer, append it to the conversation and return it.

    ``body``: the request already built by build_turn_request (ask builds it first for --dry-run).
    """
    if body is None:
        body = build_turn_request(conv, settings, knobs, catalogue)
    reply, latency = stream_reply(app, client, body, show_reasoning=show_reasoning, markdown=markdown, ios=ios)
    conv.add(Message.from_reply(reply, model=body["model"], latency=latency))
    return reply
