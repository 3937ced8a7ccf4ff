"""`glm history list|show|search|export|rm`: the saved conversations of ask and chat."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, Literal

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.common import writing_to
from glm_cli.commands.flags import Argument, Help, Option, Retired
from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.conversation import Conversation
    from glm_cli.store import Store

HELP = """The saved conversations: every `glm chat` turn and every `glm ask` (unless --no-log or
`log: false`), in $XDG_DATA_HOME/glm/history.db (else ~/.local/share/glm/history.db).
A conversation is named by its id or by a name given with /save in chat."""


Ref = Annotated[str, Argument(metavar="ID|NAME", help="Conversation id or name."), o.CONVERSATIONS]
Json = Annotated[o.AsJson, Help("Print JSON.")]
FORMAT_IS_NOT_F = Retired(
    ("-f",),
    "-f is an input file in every glm command; the export's shape is --format",
    "glm history export ID|NAME --format json (or --json)",
    takes_value=True,
)


@dataclass(frozen=True)
class ListOptions:
    limit: Annotated[o.Limit, Help("How many (0: all).")] = 20
    as_json: Json = False


@dataclass(frozen=True)
class ShowOptions:
    ref: Ref
    thinking: Annotated[bool, Option("--thinking", help="Include reasoning.", rich_help_panel=o.OUTPUT)] = False
    as_json: Json = False


@dataclass(frozen=True)
class SearchOptions:
    words: Annotated[tuple[str, ...], Argument(metavar="WORD...", help="Words that must all appear.")]
    limit: Annotated[o.Limit, Help("Most hits (0: all).")] = 50
    as_json: Json = False

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class ExportOptions:
    ref: Ref
    format: Annotated[Literal["markdown", "md", "json"] | None, o.format_flag("markdown (default) or json.")] = None
    as_json: Annotated[o.AsJson, Help("Export JSON (same as --format json).")] = False
    output: Annotated[o.Output, Help("Write the export to FILE instead of stdout (-).")] = None


@dataclass(frozen=True)
class RmOptions:
    refs: Annotated[tuple[str, ...], Argument(metavar="ID|NAME...", help="Conversation ids or names."), o.CONVERSATIONS]


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise UsageError(f"--limit must be 0 (all) or more, got {limit}")


def run_list(opts: ListOptions, app: App) -> int:
    """List conversations, newest first."""
    from glm_cli.store import Store, default_path

    _check_limit(opts.limit)
    with Store.open(default_path(app.environ)) as store:
        _list(store, opts, app)
    return 0


def run_search(opts: SearchOptions, app: App) -> int:
    """Print the messages that contain every word."""
    from glm_cli.store import Store, default_path

    _check_limit(opts.limit)
    if not opts.text.strip():
        raise UsageError("nothing to search for", "glm history search WORDS…")
    with Store.open(default_path(app.environ)) as store:
        _search(store, opts, app)
    return 0


def run_show(opts: ShowOptions, app: App) -> int:
    """Print one conversation as markdown (or JSON)."""
    from glm_cli.store import Store, default_path

    with Store.open(default_path(app.environ)) as store:
        conv = store.load(store.resolve(opts.ref))
    app.ios.stdout.write(to_json(conv) if opts.as_json else to_markdown(conv, thinking=opts.thinking))
    return 0


def run_export(opts: ExportOptions, app: App) -> int:
    """Write one whole conversation, reasoning included, as markdown or JSON."""
    from glm_cli.store import Store, default_path

    fmt = o.output_format(opts.format, opts.as_json, "markdown")
    if fmt not in ("json", "markdown", "md"):
        raise UsageError(f"--format must be json or markdown, got {fmt!r}")
    with Store.open(default_path(app.environ)) as store:
        conv = store.load(store.resolve(opts.ref))
    _emit(app, to_json(conv) if fmt == "json" else to_markdown(conv, thinking=True), opts.output)
    return 0


def run_rm(opts: RmOptions, app: App) -> int:
    """Delete conversations: every ref is checked before any is deleted."""
    from glm_cli.store import Store, default_path

    with Store.open(default_path(app.environ)) as store:
        ids = [store.resolve(ref) for ref in opts.refs]  # all or nothing: check every ref first
        for conv_id, ref in dict(zip(ids, opts.refs, strict=True)).items():  # `rm 3 3`, `rm 3 name-of-3`: once
            store.delete(conv_id)
            app.ios.stderr.write(f"deleted conversation {conv_id}{'' if ref == str(conv_id) else f' ({ref})'}\n")
    return 0


def _json_array(items: Iterable[dict[str, Any]]) -> str:
    """A JSON array with one compact object a line: as easy to read and to grep as indented JSON, and written
    by json's C encoder (indent= falls back to the pure-Python one: seconds for 100,000 conversations)."""
    body = ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)
    return f"[\n{body}\n]\n" if body else "[]\n"


def _list(store: Store, opts: ListOptions, app: App) -> None:
    rows = store.list(limit=opts.limit or None)
    out = app.ios.stdout
    if opts.as_json:
        out.write(_json_array({**r.to_json(), "created": _iso(r.created), "updated": _iso(r.updated)} for r in rows))
        return
    tty = app.ios.stdout_tty
    if tty and not rows:
        app.ios.stderr.write("no conversations yet\n")
    lines = [f"{'ID':>5}  {'UPDATED':<16}  {'TURNS':>5}  {'MODEL':<14}  NAME / FIRST MESSAGE"] if tty and rows else []
    for r in rows:
        title = f"{r.name}: {r.title}" if r.name else r.title
        if tty:
            line = f"{r.id:>5}  {_local(r.updated):<16}  {r.turns:>5}  {(r.model or '-'):<14}  {title}"
            lines.append(line[: max(app.ios.width, 60)])
        else:  # tab-separated for scripts: id, updated (ISO), turns, model, name, title
            lines.append("\t".join([str(r.id), _iso(r.updated), str(r.turns), r.model or "", r.name or "", r.title]))
    out.write("".join(line + "\n" for line in lines))


def _search(store: Store, opts: SearchOptions, app: App) -> None:
    hits = store.search(opts.text, limit=opts.limit or 1_000_000)
    out = app.ios.stdout
    if opts.as_json:
        out.write(
            _json_array(
                {
                    "conversation": h.conversation_id,
                    "name": h.name,
                    "title": h.title,
                    "role": h.role,
                    "content": h.content,
                }
                for h in hits
            )
        )
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
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def _emit(app: App, text: str, output: str | None) -> None:
    with writing_to(app, output) as out:
        out.ios.stdout.write(text)
    if output not in (None, "-"):
        app.ios.stderr.write(f"wrote {output}\n")


def _iso(ts: float | None) -> str:
    """Return TS as datetime's ISO UTC to the second, with one datetime a minute (`list -n 0`: 100,000 rows)."""
    whole = int((ts or 0) + 5e-7)  # datetime rounds to the microsecond first
    minute = whole // 60
    head = _UTC_MINUTES.get(minute)
    if head is None:
        head = _UTC_MINUTES[minute] = datetime.fromtimestamp(minute * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M")
    return f"{head}:{whole % 60:02d}+00:00"


def _local(ts: float | None) -> str:
    """Return TS as local `YYYY-MM-DD HH:MM`, with one datetime a minute (zones are whole minutes off UTC)."""
    minute = int((ts or 0) + 5e-7) // 60
    text = _LOCAL_MINUTES.get(minute)
    if text is None:
        text = _LOCAL_MINUTES[minute] = datetime.fromtimestamp(minute * 60).strftime("%Y-%m-%d %H:%M")
    return text


_UTC_MINUTES: dict[int, str] = {}  # one process prints one listing: no eviction needed
_LOCAL_MINUTES: dict[int, str] = {}


def to_json(conv: Conversation) -> str:
    """Return the whole conversation as one JSON document (reasoning included, byte for byte)."""
    messages = []
    for m in conv.messages:
        # the API message (a copy: to_api's is cached), then the rest; attachments by name, size and sha256, no bytes
        rec: dict[str, Any] = (
            dict(m.to_api())
            if not m.attachments
            else {"role": m.role, "content": m.content, "attachments": [a.record() for a in m.attachments]}
        )
        if m.role == "assistant":
            rec.update(
                model=m.model,
                finish_reason=m.finish_reason,
                usage=m.usage.to_api() if m.usage else None,
                latency=m.latency,
                interrupted=m.interrupted,
            )
        rec["created"] = _iso(m.created)
        messages.append(rec)
    doc = {
        "id": conv.id,
        "name": conv.name,
        "title": conv.title,
        "model": conv.model,
        "profile": conv.profile,
        "source": conv.source,
        "system": conv.system,
        "options": conv.options,
        "created": _iso(conv.created),
        "updated": _iso(conv.updated),
        "messages": messages,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_markdown(conv: Conversation, *, thinking: bool) -> str:
    """Return a readable transcript; reasoning in <details> blocks when asked for."""
    out = [
        f"# {conv.title or f'Conversation {conv.id}'}",
        "",
        f"conversation {conv.id} · {conv.model or '?'} · {conv.source} · "
        f"{_local(conv.created)} – {_local(conv.updated)}",
        "",
    ]
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


def command() -> Any:
    """The `glm history` group."""
    return binding.group(
        "history",
        HELP,
        [
            binding.command(
                ListOptions,
                run_list,
                name="list",
                help="List conversations, most recent first (tab-separated when piped).",
            ),
            binding.command(ShowOptions, run_show, name="show", help="Print a conversation as markdown (or JSON)."),
            binding.command(
                SearchOptions,
                run_search,
                name="search",
                help="Find messages containing every word (case-insensitive substrings; FTS5 when available).",
            ),
            binding.command(
                ExportOptions,
                run_export,
                name="export",
                retired=(FORMAT_IS_NOT_F,),
                help="Export a whole conversation, reasoning included, as markdown or JSON.",
            ),
            binding.command(RmOptions, run_rm, name="rm", help="Delete conversations."),
        ],
    )
