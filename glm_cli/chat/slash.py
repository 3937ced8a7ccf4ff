"""The slash commands of `glm chat`: one table (name, argument, help, handler) and a dispatcher."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from glm_cli.errors import GlmError

if TYPE_CHECKING:
    from glm_cli.chat.session import ChatSession

EXIT = object()  # a handler's answer meaning "leave the REPL"
ON_OFF = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
CLIPBOARD_TOOLS = (  # (program, argv): the first one found on PATH is used
    ("wl-copy", ["wl-copy"]),
    ("xclip", ["xclip", "-selection", "clipboard"]),
    ("xsel", ["xsel", "--clipboard", "--input"]),
    ("pbcopy", ["pbcopy"]),
    ("clip.exe", ["clip.exe"]),
)
KEYS_HELP = (
    "keys: Enter sends · Alt-Enter or Esc then Enter: new line (pasted text keeps its lines) · "
    "Tab completes /commands · Ctrl-C stops an answer or clears the line · Ctrl-D or /exit leaves · "
    "start a message with // to send a literal /"
)

Result = object | str | None  # EXIT, a message to send, or nothing


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    run: Callable[[ChatSession, str], Result]
    choices: tuple[str, ...] = ()


def dispatch(session: ChatSession, line: str) -> Result:
    """Run one slash command line; return EXIT, text to send as a message, or None."""
    name, _, arg = line[1:].partition(" ")
    command = COMMANDS.get(name.lower())
    if command is None:
        session.info(f"unknown command /{name}; /help lists them")
        return None
    try:
        return command.run(session, arg.strip())
    except GlmError as err:
        session.error(err)
        return None


def _on_off(session: ChatSession, name: str, arg: str) -> bool | None:
    value = ON_OFF.get(arg.lower())
    if value is None:
        session.info(f"usage: /{name} on|off")
    return value


def _help(session: ChatSession, arg: str) -> None:
    for c in COMMANDS.values():
        if c.name != "quit":
            session.info(f"/{c.name}{' ' + c.args if c.args else ''}".ljust(24) + c.help)
    session.info(KEYS_HELP)


def _model(session: ChatSession, arg: str) -> None:
    if arg:
        session.set_model(arg)
    else:
        session.info(f"model: {session.model}")


def _system(session: ChatSession, arg: str) -> None:
    if not arg:
        session.info(f"system prompt: {session.conv.system!r}" if session.conv.system else "no system prompt")
        return
    session.conv.system = None if arg == "off" else arg
    session.info("system prompt removed" if arg == "off" else "system prompt set for the next messages")


def _think(session: ChatSession, arg: str) -> None:
    if not arg:
        session.info(f"thinking: {session.thinking}")
    elif (on := _on_off(session, "think", arg)) is not None:
        session.set_thinking(on)


def _show_thinking(session: ChatSession, arg: str) -> None:
    if (on := _on_off(session, "show-thinking", arg or ("off" if session.show_thinking else "on"))) is not None:
        session.show_thinking = on
        session.info(f"reasoning {'shown' if on else 'hidden'}")


def _preserve(session: ChatSession, arg: str) -> None:
    if not arg:
        session.info(f"preserved thinking: {'on' if session.preserve else 'off'}")
    elif (on := _on_off(session, "preserve", arg)) is not None:
        session.set_preserve(on)


def _json(session: ChatSession, arg: str) -> None:
    if not arg:
        session.info(f"JSON object answers: {'on' if session.json_object else 'off'}")
    elif (on := _on_off(session, "json", arg)) is not None:
        session.set_json(on)


def _save(session: ChatSession, arg: str) -> None:
    if not arg:
        session.info("usage: /save NAME")
    else:
        session.save(arg)


def _edit(session: ChatSession, arg: str) -> str | None:
    """Compose a message in $VISUAL / $EDITOR; it is sent when the editor exits with text."""
    env = session.app.environ
    editor = shlex.split(env.get("VISUAL") or env.get("EDITOR") or "vi")
    fd, path = tempfile.mkstemp(prefix="glm-message-", suffix=".md")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(arg)
        try:
            code = subprocess.run([*editor, path], env={**os.environ, **env}).returncode
        except OSError as exc:
            raise GlmError(
                f"cannot run the editor {editor[0]!r}: {exc.strerror or exc}", "set $EDITOR (or $VISUAL)"
            ) from None
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read().strip()
    finally:
        os.unlink(path)
    if code != 0 or not text:
        session.info("nothing to send" if code == 0 else f"the editor exited {code}; nothing sent")
        return None
    return text


def _attach(session: ChatSession, arg: str) -> None:
    """Attach files or URLs to the next message; no argument lists them, `off` drops them."""
    if not arg:
        if not session.pending:
            session.info("nothing attached; /attach PATH|URL adds an image, video or document to the next message")
        for attachment in session.pending:
            session.info(f"attached: {attachment.describe()}")
        return
    if arg == "off":
        session.info(f"dropped {len(session.pending)} attachment(s)")
        session.pending = []
        return
    whole = os.path.expanduser(arg.strip("'\""))
    try:  # one path with spaces as it is; else words, quoted the shell's way
        refs = [arg.strip("'\"")] if os.path.exists(whole) else shlex.split(arg)
    except ValueError:
        refs = [arg]
    for ref in refs:
        session.attach(ref)


def _copy(session: ChatSession, arg: str) -> None:
    reply = session.conv.last_reply()
    if reply is None or not reply.content:
        session.info("no answer to copy yet")
        return
    path = session.app.environ.get("PATH", os.defpath)
    found = next((argv for name, argv in CLIPBOARD_TOOLS if shutil.which(name, path=path)), None)
    if found is None:
        session.info("no clipboard tool found (install wl-clipboard, xclip or xsel); nothing copied")
        return
    try:
        subprocess.run(
            found, input=reply.content.encode(), check=True, timeout=10, env={**os.environ, **session.app.environ}
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GlmError(f"{found[0]} failed: {exc}") from None
    session.info(f"copied the last answer ({len(reply.content)} characters) with {found[0]}")


def _commands() -> dict[str, Command]:
    table = [
        Command("help", "", "this list", _help),
        Command("model", "[NAME]", "switch model (from the next message)", _model),
        Command("system", "[TEXT|off]", "show, set or remove the system prompt", _system),
        Command("think", "on|off", "thinking on or off from the next message", _think, ("on", "off")),
        Command("show-thinking", "on|off", "show or hide the reasoning", _show_thinking, ("on", "off")),
        Command("preserve", "on|off", "send earlier reasoning back (preserved thinking)", _preserve, ("on", "off")),
        Command(
            "json", "on|off", "ask for a JSON object (response_format) from the next message", _json, ("on", "off")
        ),
        Command("retry", "", "regenerate the last answer", lambda s, a: s.retry() and None),
        Command("undo", "", "drop the last exchange", lambda s, a: s.undo()),
        Command("clear", "", "start a new conversation", lambda s, a: s.clear()),
        Command("save", "NAME", "name this conversation (resume: glm chat --resume NAME)", _save),
        Command("usage", "", "tokens and estimated cost of this conversation", lambda s, a: s.info(s.usage_text())),
        Command("edit", "", "compose the next message in $EDITOR", _edit),
        Command("copy", "", "copy the last answer to the clipboard", _copy),
        Command("attach", "[PATH|URL|off]", "attach an image, video or document to the next message", _attach),
        Command("exit", "", "leave (also Ctrl-D)", lambda s, a: EXIT),
        Command("quit", "", "leave", lambda s, a: EXIT),
    ]
    return {c.name: c for c in table}


COMMANDS = _commands()
