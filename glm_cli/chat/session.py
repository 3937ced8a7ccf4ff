"""The state of one `glm chat` session and what it can do, without any terminal UI.

Each turn goes through run_turn (the same request builder, client and renderer as `ask`);
the conversation is saved after every turn unless logging is off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glm_cli.catalogue import check_usable
from glm_cli.conversation import Conversation
from glm_cli.errors import GlmError
from glm_cli.events import Usage
from glm_cli.render import format_usage_line, write_diagnostic
from glm_cli.turn import preserves_thinking, run_turn, with_preserve

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.attachments import Attachment
    from glm_cli.catalogue import Catalogue
    from glm_cli.client import GlmClient
    from glm_cli.config import Settings
    from glm_cli.events import Reply
    from glm_cli.store import Store
    from glm_cli.tools.session import ToolSession


@dataclass
class ChatSession:
    """Settings that slash commands change, the conversation, and the open client and store."""

    app: App
    settings: Settings
    conv: Conversation
    client: GlmClient
    catalogue: Catalogue
    show_thinking: bool = False
    log: bool = True
    markdown: bool | None = None
    json_object: bool = False  # --json-object / `/json on`: ask for a JSON object (response_format)
    spent: dict[str, Usage] = field(default_factory=dict)  # every answer of the session, retried ones too
    tools: ToolSession | None = None  # --tool/--mcp/--web-search/--schema (glm_cli/tools/session.py)
    pending: list[Attachment] = field(default_factory=list)  # -a and /attach: sent with the next message
    _store: Store | None = field(default=None, repr=False)
    _cleanup: Any = field(default=None, repr=False)  # stops the tools' MCP servers on close

    # ---- turns

    def send(self, text: str) -> Reply | None:
        """Add the user's message and run a turn; None when it failed (the message is dropped)."""
        mark = len(self.conv.messages)
        attachments, self.pending = self.pending, []
        reply = None
        try:  # checked here, not only by the request builder, so the hint names /model rather than the shell's -m
            if attachments:
                self._check_can_see(f"{len(attachments)} attachment{'s' if len(attachments) > 1 else ''}")
        except GlmError as err:
            self.error(err)
        else:
            self.conv.add_user(text, attachments)
            reply = self._turn(mark)
        if reply is None and attachments:  # the message was dropped: its attachments wait for the next one
            self.pending = attachments
            self.info(f"({len(attachments)} attachment{'s' if len(attachments) > 1 else ''} kept for the next message)")
        return reply

    def attach(self, ref: str) -> None:
        """Check and read one PATH|URL for the next message (/attach, -a)."""
        from glm_cli.attachments import load_attachment

        attachment = load_attachment(ref)
        self.pending.append(attachment)
        self.info(f"attached {attachment.describe()} to the next message")
        try:
            self._check_can_see()
        except GlmError as err:
            self.info(f"note: {err.message}; {err.hint} before sending")

    def _check_can_see(self, what: str = "") -> None:
        from glm_cli.attachments import check_can_see

        vision = self.catalogue.resolve("vision")
        check_can_see(self.catalogue.get(self.model), self.model, vision, what, switch="/model")

    def retry(self) -> Reply | None:
        """Drop the last answer and ask again."""
        if not any(m.role == "user" for m in self.conv.messages):
            self.info("nothing to retry yet")
            return None
        self._forget(self.conv.pop_reply())
        return self._turn(len(self.conv.messages))

    def _run(self) -> Reply:
        """Send the conversation: one request, or the tool loop (and the --schema check) when tools are on."""
        from glm_cli.request import Knobs

        knobs = Knobs(json_mode=self.json_object)
        if self.tools is not None:
            knobs = self.tools.knobs(knobs, self.catalogue.resolve(self.model))

        def step() -> Reply:
            return run_turn(
                self.conv,
                self.settings,
                self.app,
                self.client,
                knobs=knobs,
                catalogue=self.catalogue,
                show_reasoning=self.show_thinking,
                markdown=self.markdown,
            )

        if self.tools is None:
            return step()
        from glm_cli.tools.session import conversation_hooks

        reply = self.tools.converse(step, *conversation_hooks(self.conv)).final_reply()
        self.tools.show_sources(reply)
        return reply

    def _turn(self, mark: int) -> Reply | None:
        """Run a turn; on failure forget its messages from index MARK on (a retried message stays)."""
        try:
            reply = self._run()
        except GlmError as err:
            from glm_cli.client import broke_off

            partial: Reply | None = getattr(err, "partial_reply", None) if broke_off(err) else None
            if partial is None or not (partial.content or partial.reasoning):
                self.conv.truncate(mark)
                self.error(err)
                return None
            # It broke off mid-answer: what was shown stays in the conversation, as after Ctrl-C.
            from glm_cli.conversation import Message

            self.conv.add(Message.from_reply(partial, model=self.catalogue.resolve(self.model)))
            self.error(err)
            self.info("[the answer broke off: the partial answer is kept; /retry asks again]")
            self.persist()
            return partial
        except KeyboardInterrupt:  # outside the stream (building the request)
            self.conv.truncate(mark)
            self.info("cancelled")
            return None
        self.conv.model = self.catalogue.resolve(self.model)  # what was asked for: resuming asks for it again
        if reply.interrupted and not (reply.content or reply.reasoning or reply.tool_calls):
            self.conv.truncate(mark)
            self.info("cancelled before any answer arrived (Up recalls your message)")
            return None
        if reply.interrupted:
            self.info("[interrupted: the partial answer is kept]")
        if reply.usage is not None:
            self.spent[self.conv.model] = self.spent.get(self.conv.model, Usage()) + reply.usage
        if not reply.interrupted:  # unknown usage says so: never a zero that is not true
            cost = self._cost({self.conv.model: reply.usage}) if reply.usage is not None else None
            self.info(format_usage_line(reply.usage, cost))
        if reply.finish_reason not in (None, "stop", "tool_calls"):
            self.info(f"(finish_reason: {reply.finish_reason})")
        self.persist()
        return reply

    # ---- the store

    def persist(self, force: bool = False) -> None:
        """Save unsaved messages when logging (or when forced by /save)."""
        if not (self.log or force):
            return
        from glm_cli.store import StoreError

        try:
            self.store().save(self.conv)
        except StoreError as err:
            self.log = False
            self.app.warn(f"{err.message}; this session is no longer logged")

    def store(self) -> Store:
        if self._store is None:
            from glm_cli.store import Store, default_path

            self._store = Store.open(default_path(self.app.environ))
        return self._store

    def _forget(self, removed: list[Any]) -> None:
        if self.conv.id is not None and any(m.id is not None for m in removed):
            from glm_cli.store import StoreError

            try:
                self.store().delete_messages(removed)
            except StoreError as err:
                self.app.warn(err.message)

    def undo(self) -> None:
        removed = self.conv.pop_exchange()
        if not removed:
            self.info("nothing to undo")
            return
        self._forget(removed)
        first = " ".join(removed[0].content.split())
        self.info(f"removed the last exchange ({first[:60]}{'…' if len(first) > 60 else ''})")

    def save(self, name: str) -> None:
        """Name the conversation (saving it, even with logging off); later turns are logged."""
        self.log = True
        self.persist(force=True)
        if self.conv.id is None:
            return
        self.store().rename(self.conv.id, name)
        self.conv.name = name
        import shlex

        resume = f"glm chat --resume {shlex.quote(name)}"  # a name with a space works pasted into a shell
        self.info(f"saved as {name!r} (conversation {self.conv.id}); resume with: {resume}")

    def clear(self) -> None:
        self.conv = Conversation(
            system=self.conv.system,
            source="chat",
            profile=self.settings.profile,
            model=self.settings.model,
            options=dict(self.conv.options),
        )
        self.info("new conversation")

    def close(self) -> None:
        self.client.close()
        if self._store is not None:
            self._store.close()
        if self._cleanup is not None:
            self._cleanup.close()

    # ---- settings changed by slash commands

    @property
    def model(self) -> str:
        return self.settings.model

    def set_model(self, name: str) -> None:
        model = self.catalogue.resolve(name)
        info = self.catalogue.get(model)
        if (warning := self.catalogue.unknown_warning(model)) is not None:
            self.app.warn(warning)
        check_usable(info, model, switch="/model")
        self.settings = self.settings.with_values("chat", model=model)
        self.info(f"model: {model}")

    def set_thinking(self, on: bool) -> None:
        self.settings = self.settings.with_values("chat", thinking=on)
        self.remember("thinking", on)
        self.info(f"thinking {'on' if on else 'off'} from the next message")

    def set_preserve(self, on: bool) -> None:
        self.settings = with_preserve(self.settings, on)
        self.remember("preserve_thinking", on)
        self.info(f"preserved thinking {'on' if on else 'off'}")

    def set_json(self, on: bool) -> None:
        self.json_object = on
        self.remember("json_object", on)
        self.info(f"JSON object answers {'on' if on else 'off'} from the next message")

    def remember(self, option: str, value: Any) -> None:
        """Keep a choice with the conversation (restored by --resume and -c); saved now if the conversation is."""
        self.conv.options[option] = value
        if self.conv.id is not None:
            self.persist()

    @property
    def preserve(self) -> bool:
        return preserves_thinking(self.settings)

    @property
    def thinking(self) -> str:
        value = self.settings.thinking
        return "server default (on)" if value is None else ("on" if value else "off")

    def usage_text(self) -> str:
        """This conversation's tokens: in, cached and cache-hit %, out, reasoning, and estimated cost."""
        by_model = self.conv.usage_by_model()
        answers = sum(1 for m in self.conv.messages if m.usage is not None)
        unknown = sum(1 for m in self.conv.messages if m.role == "assistant" and m.usage is None and not m.interrupted)
        text = "no tokens used yet"
        if by_model:
            total = sum(by_model.values(), start=Usage())
            text = f"{format_usage_line(total, self._cost(by_model))} · {answers} answer{'s' if answers != 1 else ''}"
        if unknown:  # counted as unknown, not as zero
            text = format_usage_line(None, None) if not by_model else text
            text += f" · {unknown} answer{'s' if unknown != 1 else ''} with no usage reported (not counted)"
        unreported = [m for m in self.conv.messages if m.role == "assistant" and m.interrupted and m.usage is None]
        if unreported:  # stopped before the server reported its usage: say so, never count it as nothing
            chars = sum(len(m.content or "") + len(m.reasoning or "") for m in unreported)
            text = text.replace("no tokens used yet", "no usage reported yet")
            text += (
                f"\n{len(unreported)} interrupted answer{'s' if len(unreported) != 1 else ''}: usage not reported "
                f"({chars:,} characters received; the request may still be billed)"
            )
        if self.spent and self.spent != by_model:
            spent = sum(self.spent.values(), start=Usage())
            text += (
                f"\nspent in this session (retried and undone answers too): "
                f"{format_usage_line(spent, self._cost(self.spent))}"
            )
        return text

    def _cost(self, by_model: dict[str, Any]) -> str | None:
        from glm_cli.catalogue import cost_text

        return cost_text(self.catalogue, self.settings, by_model)

    # ---- messages to the user (stderr: stdout carries only answers)

    def info(self, text: str) -> None:
        write_diagnostic(self.app.ios, text, "dim")

    def error(self, err: GlmError) -> None:
        write_diagnostic(self.app.ios, f"glm: {err.message}", "red")
        if err.hint:
            write_diagnostic(self.app.ios, f"hint: {err.hint}", "dim")
