"""A conversation in memory: messages kept exactly as sent and received, plus what each one cost."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glm_cli.events import Reply, Usage

if TYPE_CHECKING:
    from glm_cli.attachments import Attachment


@dataclass
class Message:
    """One message; ``reasoning`` is the assistant's reasoning_content, kept byte for byte."""

    role: str
    content: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    latency: float | None = None
    interrupted: bool = False
    created: float = field(default_factory=time.time)
    id: int | None = None  # the store's row id once saved
    attachments: list[Attachment] | None = None  # a user message's images, video, documents (content parts)
    _api: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    def to_api(self, reasoning: bool = True) -> dict[str, Any]:
        """Return the API message (built once per form: request building stays flat over long chats)."""
        key = "full" if reasoning else "bare"
        msg = self._api.get(key)
        if msg is None:
            content: Any = self.content
            if self.attachments:
                from glm_cli.attachments import user_content

                content = user_content(self.content, self.attachments)
            msg = {"role": self.role, "content": content}
            if reasoning and self.reasoning:
                msg["reasoning_content"] = self.reasoning
            if self.tool_calls:
                msg["tool_calls"] = self.tool_calls
            if self.tool_call_id:
                msg["tool_call_id"] = self.tool_call_id
            self._api[key] = msg
        return msg

    @classmethod
    def from_reply(cls, reply: Reply, *, model: str | None = None, latency: float | None = None) -> Message:
        return cls(
            role="assistant",
            content=reply.content,
            reasoning=reply.reasoning,
            tool_calls=[c.to_api() for c in reply.tool_calls] or None,
            model=reply.model or model,
            finish_reason=reply.finish_reason,
            usage=reply.usage,
            latency=latency,
            interrupted=reply.interrupted,
        )


@dataclass
class Conversation:
    """System prompt + messages; ``saved`` counts the messages already in the store."""

    system: str | None = None
    messages: list[Message] = field(default_factory=list)
    id: int | None = None
    name: str | None = None
    model: str | None = None
    profile: str | None = None
    source: str = "chat"
    options: dict[str, Any] = field(default_factory=dict)  # e.g. preserve_thinking, restored on resume
    created: float = field(default_factory=time.time)
    updated: float | None = None
    saved: int = 0
    _api: dict[bool, list[dict[str, Any]]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, message: Message) -> Message:
        self.messages.append(message)
        return message

    def add_user(self, text: str, attachments: list[Attachment] | None = None) -> Message:
        return self.add(Message(role="user", content=text, attachments=list(attachments) if attachments else None))

    def history(self, preserve_thinking: bool) -> list[dict[str, Any]]:
        """Return the API messages (no system), with every reasoning_content, or only the current turn's.

        The current turn (after the last user message: tool calls and their results) always keeps its
        reasoning: interleaved thinking across tool calls needs it; clear_thinking is about earlier turns.
        """
        full = self._api_list(True)
        if preserve_thinking:
            return list(full)
        last_user = self._last_user()
        return self._api_list(False)[: last_user + 1] + full[last_user + 1 :]

    def _api_list(self, reasoning: bool) -> list[dict[str, Any]]:
        """The API form of every message, extended as messages are added: a long chat's next request is a copy."""
        cached = self._api.get(reasoning)
        if cached is None or len(cached) > len(self.messages):
            cached = self._api[reasoning] = []
        if len(cached) < len(self.messages):
            cached.extend(m.to_api(reasoning) for m in self.messages[len(cached) :])
        return cached

    def unsaved(self) -> list[Message]:
        return self.messages[self.saved :]

    def last_reply(self) -> Message | None:
        for m in reversed(self.messages):
            if m.role == "assistant":
                return m
        return None

    def _last_user(self) -> int:
        """The index of the last user message, -1 when there is none."""
        return next((i for i in range(len(self.messages) - 1, -1, -1) if self.messages[i].role == "user"), -1)

    def pop_reply(self) -> list[Message]:
        """Remove everything after the last user message (its answer, tool calls and results)."""
        i = self._last_user()
        return self.truncate(i + 1) if i >= 0 else []

    def pop_exchange(self) -> list[Message]:
        """Remove the last user message and everything after it."""
        i = self._last_user()
        return self.truncate(i) if i >= 0 else []

    def truncate(self, index: int) -> list[Message]:
        """Remove the messages from INDEX on and return them."""
        removed = self.messages[index:]
        del self.messages[index:]
        self.saved = min(self.saved, index)
        self._api.clear()
        return removed

    def usage_by_model(self) -> dict[str, Usage]:
        """Sum every answer's usage per model."""
        totals: dict[str, Usage] = {}
        for m in self.messages:
            if m.usage is not None:
                key = m.model or self.model or ""
                totals[key] = totals.get(key, Usage()) + m.usage
        return totals

    @property
    def first_line(self) -> str:
        """The first user message on one line, cut to 80 characters (the store's title column)."""
        user = next((m for m in self.messages if m.role == "user"), None)
        first = user.content if user is not None else ""
        if user is not None and not first.strip() and user.attachments:  # an attachment alone was the question
            first = " ".join(f"[{a.kind} {a.name}]" for a in user.attachments)
        return " ".join(first.split())[:80]

    @property
    def title(self) -> str:
        """A one-line title: the name, else the first user message."""
        return self.name or self.first_line
