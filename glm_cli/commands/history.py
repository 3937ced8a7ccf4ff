"""`glm history list|show|search|export|rm`: the saved conversations of ask and chat."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from glm_cli.commands.common import run_command
from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.conversation import Conversation
    from glm_cli.store import Store

HELP = """The saved conversations: every `glm chat` turn and every `glm ask` (unless --no-log or
`log: false`), in $XDG_DATA_HOME/glm/history.db (else ~/.local/share/glm/history.db).
A conversation is named by its id or by a name given with /save in chat."""


Limit = Annotated[int, typer.Option("--limit", "-n", help="How many (0: all).")]
Json = Annotated[bool, typer.Option("--json", help="JSON output.")]
Ref = Annotated[str, typer.Argument(help="Conversation id or name.")]


@dataclass(frozen=True)
class HistoryOptions:
    action: str
    refs: tuple[str, ...] = ()
    text: str = ""
    limit: int = 20
    as_json: bool = False
    thinking: bool = False
    fmt: str = "markdown"
    output: str | None = None


def run_history(opts: HistoryOptions, app: App) -> int:
    """Run one history subcommand."""
    from glm_cli.store import Store, default_path

    if opts.limit < 0:
        raise UsageError(f"--limit must be 0 (all) or more, got {opts.limit}")
    if opts.action == "export" and opts.fmt not in ("json", "markdown", "md"):
        raise UsageError(f"--format must be json or markdown, got {opts.fmt!r}")
    if opts.action == "search" and not opts.text.strip():
        raise UsageError("nothing to search for", "glm history search WORDS…")
    with Store.open(default_path(app.environ)) as store:
        if opts.action == "list":
            _list(store, opts, app)
        elif opts.action == "search":
            _search(store, opts, app)
        elif opts.action == "rm":
            ids = [store.resolve(ref) for ref in opts.refs]  # all or nothing: check every ref first
            for conv_id, ref in dict(zip(ids, opts.refs, strict=True)).items():  # `rm 3 3`, `rm 3 name-of-3`: once
                store.delete(conv_id)
                app.ios.stderr.write(f"deleted conversation {conv_id}{'' if ref == str(conv_id) else f' ({ref})'}\n")
        else:
            conv = store.load(store.resolve(opts.refs[0]))
            if opts.action == "show":
                text = to_json(conv) if opts.as_json else to_markdown(conv, thinking=opts.thinking)
            else:
                text = to_json(conv) if opts.fmt == "json" else to_markdown(conv, thinking=True)
            _emit(app, text, opts.output)
    return 0


def _list(store: Store, opts: HistoryOptions, app: App) -> None:
    rows = store.list(limit=opts.limit or None)
    out = app.ios.stdout
    if opts.as_json:
        out.write(json.dumps([{**r.to_json(), "created": _iso(r.created), "updated": _iso(r.updated)}
                              for r in rows], ensure_ascii=False, indent=2) + "\n")
        return
    tty = app.ios.stdout_tty
    if tty and not rows:
        app.ios.stderr.write("no conversations yet\n")
    lines = [f"{'ID':>5}  {'UPDATED':<16}  {'TURNS':>5}  {'MODEL':<14}  NAME / FIRST MESSAGE"] if tty and rows else []
    for r in rows:
        title = f"{r.name}: {r.title}" if r.name else r.title
        if tty:
            line = f"{r.id:>5}  {_local(r.updated):<16}  {r.turns:>5}  {(r.model or '-'):<14}  {title}"
            lines.append(line[:max(app.ios.width, 60)])
        else:  # tab-separated for scripts: id, updated (ISO), turns, model, name, title
            lines.append("\t".join([str(r.id), _iso(r.updated), str(r.turns), r.model or "", r.name or "", r.title]))
    out.write("".join(line + "\n" for line in lines))


def _search(store: Store, opts: HistoryOptions, app: App) -> None:
    hits = store.search(opts.text, limit=opts.limit or 1_000_000)
    out = app.ios.stdout
    if opts.as_json:
        out.write(json.dumps([{"conversation": h.conversation_id, "name": h.name, "title": h.title, "role": h.role,
                               "content": h.content} for h in hits], ensure_ascii=False, indent=2) + "\n")
        return
    if not hits and app.ios.stdout_tty:
        app.ios.stderr.write(f"nothing found for {opts.text!r}\n")
    for h in hits:
        snippet = _snippet(h.content, opts.text.split())
        if app.ios.stdout_tty:
            label = f"{h.conversation_id}" + (f" ({h.name})" if h.name else "")
            out.write(f"{label:>6}  {h.role:<9}  {snippet}\n")
        else:
            out.write(f"{h.conversation_id}\t{h.role}\t{snippet}\n")


def _snippet(text: str, terms: list[str], before: int = 40, width: int = 120) -> str:
    flat = " ".join(text.split())
    lower = flat.lower()
    at = min((i for i in (lower.find(t.lower()) for t in terms) if i >= 0), default=0)
    start = max(0, at - before)
    piece = flat[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def _emit(app: App, text: str, output: str | None) -> None:
    if output and output != "-":
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
        app.ios.stderr.write(f"wrote {output}\n")
    else:
        app.ios.stdout.write(text)


def _iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts or 0, timezone.utc).isoformat(timespec="seconds")


def _local(ts: float | None) -> str:
    return datetime.fromtimestamp(ts or 0).strftime("%Y-%m-%d %H:%M")


def to_json(conv: Conversation) -> str:
    """Return the whole conversation as one JSON document (reasoning included, byte for byte)."""
    messages = []
    for m in conv.messages:
        # the API message (a copy: to_api's is cached), then the rest; attachments by name, size and sha256, no bytes
        rec: dict[str, Any] = dict(m.to_api()) if not m.attachments else {
            "role": m.role, "content": m.content, "attachments": [a.record() for a in m.attachments]}
        if m.role == "assistant":
            rec.update(model=m.model, finish_reason=m.finish_reason, usage=m.usage.to_api() if m.usage else None,
                       latency=m.latency, interrupted=m.interrupted)
        rec["created"] = _iso(m.created)
        messages.append(rec)
    doc = {"id": conv.id, "name": conv.name, "title": conv.title, "model": conv.model, "profile": conv.profile,
           "source": conv.source, "system": conv.system, "options": conv.options, "created": _iso(conv.created),
           "updated": _iso(conv.updated), "messages": messages}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_markdown(conv: Conversation, *, thinking: bool) -> str:
    """Return a readable transcript; reasoning in <details> blocks when asked for."""
    out = [f"# {conv.title or f'Conversation {conv.id}'}", "",
           f"conversation {conv.id} · {conv.model or '?'} · {conv.source} · "
           f"{_local(conv.created)} – {_local(conv.updated)}", ""]
    if conv.system:
        out += ["## System", "", conv.system, ""]
    for m in conv.messages:
        if m.role == "assistant":
            out += [f"## Assistant ({m.model or conv.model or '?'})", ""]
            if thinking and m.reasoning:
                out += ["<details><summary>Thinking</summary>", "", m.reasoning, "", "</details>", ""]
            if m.content:
                out += [m.content, ""]
            for call in m.tool_calls or []:
                fn = call.get("function", {})
                out += [f"Tool call `{fn.get('name')}`:", "", "```json", str(fn.get("arguments", "")), "```", ""]
            if m.interrupted:
                out += ["*(interrupted)*", ""]
        elif m.role == "tool":
            out += [f"## Tool result ({m.tool_call_id})", "", "```", m.content, "```", ""]
        else:
            out += [f"## {m.role.capitalize()}", ""]
            out += [f"*attached: {a.describe()}*" for a in m.attachments or []] + ([""] if m.attachments else [])
            out += [m.content, ""]
    return "\n".join(out).rstrip("\n") + "\n"


def register(app: Any) -> None:
    """Add `glm history …` to the Typer app."""
    sub = typer.Typer(name="history", help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]})
    @sub.command("list")
    def list_(limit: Limit = 20, as_json: Json = False) -> None:
        """List conversations, most recent first (tab-separated when piped)."""
        run_command(run_history, HistoryOptions("list", limit=limit, as_json=as_json))

    @sub.command()
    def show(ref: Ref, thinking: Annotated[bool, typer.Option("--thinking", help="Include reasoning.")] = False,
             as_json: Json = False) -> None:
        """Print a conversation as markdown (or JSON)."""
        run_command(run_history, HistoryOptions("show", refs=(ref,), thinking=thinking, as_json=as_json))

    @sub.command()
    def search(text: Annotated[list[str], typer.Argument(help="Words that must all appear.")],
               limit: Annotated[int, typer.Option("--limit", "-n", help="Most hits (0: all).")] = 50,
               as_json: Json = False) -> None:
        """Find messages containing every word (case-insensitive substrings; FTS5 when available)."""
        run_command(run_history, HistoryOptions("search", text=" ".join(text), limit=limit, as_json=as_json))

    @sub.command()
    def export(ref: Ref,
               fmt: Annotated[str, typer.Option("--format", "-f", help="json or markdown.")] = "markdown",
               output: Annotated[str | None, typer.Option("--output", "-o", help="Write to FILE.")] = None) -> None:
        """Export a whole conversation, reasoning included, as JSON or markdown."""
        run_command(run_history, HistoryOptions("export", refs=(ref,), fmt=fmt, output=output))

    @sub.command()
    def rm(refs: Annotated[list[str], typer.Argument(help="Conversation ids or names.")]) -> None:
        """Delete conversations."""
        run_command(run_history, HistoryOptions("rm", refs=tuple(refs)))

    app.add_typer(sub)
