"""`glm chat`: an interactive conversation (prompt_toolkit REPL), saved and resumable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.flags import Help, Option
from glm_cli.commands.tooling import ToolOptions
from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.chat.session import ChatSession

PROMPT = "glm> "
EMPTY_PROMPT_HINT = "(Ctrl-D or /exit to leave)"
NO_TTY = (
    "glm chat needs a terminal on stdin",
    'from a script, ask one turn at a time: glm ask "…", then glm ask -c "…" for each next turn',
)

ReadLine = Callable[[], str]  # returns a line; raises EOFError (leave) or KeyboardInterrupt (Ctrl-C)


@dataclass(frozen=True)
class ChatOptions:
    model: o.Model = None
    system: o.System = None
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    think: o.Think = None
    show_thinking: o.ShowThinking = None
    preserve_thinking: Annotated[
        bool | None,
        Option(
            "--preserve-thinking/--no-preserve-thinking",
            rich_help_panel=o.THINKING,
            help="Send earlier reasoning back (clear_thinking: false; default on the coding endpoints).",
        ),
    ] = None
    temperature: o.Temperature = None
    top_p: o.TopP = None
    max_tokens: o.MaxTokens = None
    param: o.Param = ()
    json_object: o.JsonObject = None
    continue_: o.Continue = False
    resume: Annotated[o.Resume, Help("Resume a conversation by id or name (see `glm history list`).")] = None
    no_log: o.NoLog = False
    verbose: o.Verbose = False
    raw: Annotated[bool, Option("--raw", help="No markdown rendering.", rich_help_panel=o.OUTPUT)] = False
    tools: ToolOptions = ToolOptions()
    attach: Annotated[
        o.Attach, Help("Attach an image, video or document to the first message (repeatable; later: /attach).")
    ] = ()


def run_chat(opts: ChatOptions, app: App, read_line: ReadLine | None = None) -> int:
    """Run the REPL until Ctrl-D or /exit; return the exit code."""
    if read_line is None and not app.ios.stdin_tty:
        raise UsageError(*NO_TTY)
    session = open_session(opts, app)
    try:
        _banner(session, resumed=opts.continue_ or opts.resume is not None)
        repl(session, read_line or make_prompt(session))
    finally:
        session.close()
    return 0


def open_session(opts: ChatOptions, app: App) -> ChatSession:
    """Load or start the conversation and resolve the settings it runs with."""
    from glm_cli.catalogue import check_usable
    from glm_cli.chat.session import ChatSession
    from glm_cli.commands.conversing import (
        continue_or_start,
        conversation_settings,
        show_reasoning,
        warn_unknown_model,
    )
    from glm_cli.request import check_params
    from glm_cli.store import load_conversation

    if opts.resume is not None and not opts.resume.strip():  # was: a new conversation, "resumed conversation None"
        raise UsageError("--resume needs a conversation id or name", "see `glm history list`")
    prior = load_conversation(app.environ, opts.resume) if opts.continue_ or opts.resume else None
    settings = conversation_settings(app, opts, prior, preserve=opts.preserve_thinking)
    catalogue = app.catalogue(settings)
    info = catalogue.get(settings.model)
    check_usable(info, info.id if info else "")  # as `glm ask` does: refuse now, not at the first message
    check_params(settings)  # a --param glm sets itself: refused now too
    warn_unknown_model(app, catalogue, settings.model)
    conv = continue_or_start(prior, settings, opts.system, source="chat", model=catalogue.resolve(settings.model))
    # The choices of the flags are kept with the conversation, as /think, /preserve and /json keep theirs; a
    # resumed conversation's own choices are already in its options (its thinking in the settings).
    chosen = {"preserve_thinking": opts.preserve_thinking, "thinking": opts.think, "json_object": opts.json_object}
    conv.options.update({key: value for key, value in chosen.items() if value is not None})
    json_object = conv.options.get("json_object") is True if opts.json_object is None else opts.json_object
    session = ChatSession(
        app=app,
        settings=settings,
        conv=conv,
        client=app.make_client(settings, verbose=opts.verbose),
        catalogue=catalogue,
        show_thinking=show_reasoning(settings, app.ios),
        log=not opts.no_log and settings.log,
        markdown=False if opts.raw else None,
        json_object=json_object,
    )
    if opts.tools.wanted(settings):  # a tool flag, or `tools:` in the config (as for glm ask)
        _open_tools(session, opts)
    try:
        _attach_first(session, opts.attach)
    except BaseException:
        session.close()
        raise
    return session


def _attach_first(session: ChatSession, refs: tuple[str, ...]) -> None:
    """-a: check and read the attachments of the first message now (a model that cannot see is refused now)."""
    if not refs:
        return
    from glm_cli.attachments import check_can_see

    check_can_see(session.catalogue.get(session.model), session.model, session.catalogue.resolve("vision"))
    for ref in refs:
        session.attach(ref)


def _open_tools(session: ChatSession, opts: ChatOptions) -> None:
    """Load the tools and start the MCP servers for the whole session (session.close() stops them)."""
    from contextlib import ExitStack

    from glm_cli.request import Knobs
    from glm_cli.tools.session import tool_session

    try:
        with ExitStack() as stack:  # a failure here stops the servers already started
            tools = stack.enter_context(tool_session(opts.tools, session.settings, session.app, verbose=opts.verbose))
            if tools.toolbox.tools:
                tools.approver.check(tools.toolbox)  # --allow typos, before the first turn
            tools.knobs(Knobs(), session.catalogue.resolve(session.model), session.catalogue)  # warns if unsupported
            session._cleanup = stack.pop_all()
    except BaseException:
        session.client.close()
        raise
    session.tools = tools
    session.conv.system = tools.system(session.conv.system)


def repl(session: ChatSession, read_line: ReadLine) -> None:
    """Read lines and run them: slash commands, or messages sent as turns."""
    from glm_cli.chat.slash import EXIT, dispatch

    while True:
        try:
            line = read_line()
        except KeyboardInterrupt:
            session.info(EMPTY_PROMPT_HINT)
            continue
        except EOFError:
            return
        text = line.strip()
        if not text:
            continue
        if text.startswith("/") and not text.startswith("//"):
            result = dispatch(session, text)
            if result is EXIT:
                return
            if not isinstance(result, str):
                continue
            text = result
        elif text.startswith("//"):
            text = text[1:]
        session.send(text)


def _banner(session: ChatSession, resumed: bool) -> None:
    conv = session.conv
    parts = [f"glm chat · {session.model}", f"thinking {session.thinking}"]
    if session.preserve:
        parts.append("preserved thinking")
    if not session.log:
        parts.append("not logged")
    session.info(" · ".join(parts) + " · /help for commands, Ctrl-D to leave")
    if resumed:
        turns = sum(1 for m in conv.messages if m.role == "user")
        label = f"{conv.id}" + (f" ({conv.name})" if conv.name else "")
        session.info(f"resumed conversation {label}: {turns} turn{'s' if turns != 1 else ''} · {conv.title}")


def make_prompt(session: ChatSession, **pt_args: Any) -> ReadLine:
    """Build the prompt_toolkit prompt: persisted history, Alt-Enter newlines, paste, /completion."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("escape", "enter")  # Alt-Enter sends ESC Enter in terminals
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    @keys.add("c-c")
    def _interrupt(event: Any) -> None:
        if event.current_buffer.text:
            event.current_buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt())

    history: Any = InMemoryHistory()
    path = _input_history_path(session) if session.log else None
    if path is not None:
        history = input_history(str(path))
    if "output" not in pt_args:
        from prompt_toolkit.output import create_output

        pt_args["output"] = create_output(always_prefer_tty=True)  # `glm chat > file`: the prompt stays visible
    prompt: PromptSession[str] = PromptSession(
        history=history,
        key_bindings=keys,
        completer=_completer(session),
        complete_while_typing=True,
        prompt_continuation="... ",
        **pt_args,
    )
    return lambda: prompt.prompt(PROMPT)


def input_history(path: str) -> Any:
    """prompt_toolkit's FileHistory (same file format), written so that two chats at once lose nothing.

    Each entry is one write to the file opened O_APPEND, so another chat's entry can never land in the
    middle of it (FileHistory writes a long entry in 8 KiB pieces); the file is created private (0600, like
    history.db: it holds what was typed). A failed write (disk full) costs that entry, never the chat.
    """
    import datetime
    import os

    from prompt_toolkit.history import FileHistory

    class AppendHistory(FileHistory):
        def store_string(self, string: str) -> None:
            entry = f"\n# {datetime.datetime.now()}\n" + "".join(f"+{line}\n" for line in string.split("\n"))
            data = entry.encode("utf-8", errors="replace")
            try:
                fd = os.open(self.filename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    while data:
                        data = data[os.write(fd, data) :]
                finally:
                    os.close(fd)
            except OSError:
                pass

    try:  # a file an older glm left readable by others (0644) is made private too
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass
    return AppendHistory(path)


def _completer(session: ChatSession) -> Any:
    """Complete /command names, then their arguments (model ids and aliases for /model, as TAB offers for -m)."""
    from prompt_toolkit.completion import Completer, Completion

    from glm_cli.chat.slash import COMMANDS
    from glm_cli.completion.values import catalogue_values

    class SlashCompleter(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            text = document.text_before_cursor
            if not text.startswith("/") or "\n" in text:
                return
            name, space, arg = text[1:].partition(" ")
            if not space:
                for c in COMMANDS.values():
                    if c.name.startswith(name.lower()) and c.name != "quit":
                        yield Completion("/" + c.name, -len(text), display_meta=c.help)
                return
            command = COMMANDS.get(name.lower())
            if name.lower() == "model":
                choices = catalogue_values(session.catalogue)
            else:
                choices = [(c, "") for c in (command.choices if command else ())]
            for choice, meta in choices:
                if choice.startswith(arg):
                    yield Completion(choice, -len(arg), display_meta=meta or None)

    return SlashCompleter()


def _input_history_path(session: ChatSession) -> Any:
    from glm_cli.store import default_path

    folder = default_path(session.app.environ).parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return folder / "chat-input-history"


def command() -> Any:
    """The `glm chat` command."""
    return binding.command(
        ChatOptions,
        run_chat,
        name="chat",
        help="Chat interactively; every turn is saved to the history unless --no-log. /help lists the commands.",
    )
