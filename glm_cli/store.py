"""The conversation store: SQLite in WAL mode, safe under many concurrent `glm` processes.

Every write is one ``BEGIN IMMEDIATE`` transaction and the connection waits up to BUSY_TIMEOUT
for the lock, so `xargs -P 16 glm ask …` never fails with "database is locked" (a deferred
transaction that upgrades from read to write can fail at once, whatever the timeout: llm #789).
The API key is never stored: only messages and what they cost.
"""

from __future__ import annotations

import builtins
import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from glm_cli.conversation import Conversation, Message
from glm_cli.errors import GlmError
from glm_cli.events import Usage

BUSY_TIMEOUT = 30.0  # seconds a writer waits for another one
SCHEMA_VERSION = 2
MIN_TRIGRAM = 3  # the FTS5 trigram tokenizer matches terms of at least 3 characters


class StoreError(GlmError):
    """The history store could not be read or written (exit 1)."""


def default_path(environ: dict[str, str]) -> Path:
    """Return $XDG_DATA_HOME/glm/history.db, else ~/.local/share/glm/history.db."""
    base = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME") or "~") / ".local" / "share")
    return Path(base).expanduser() / "glm" / "history.db"


def _v1(db: sqlite3.Connection) -> None:
    db.execute("""CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT UNIQUE,
        title TEXT NOT NULL DEFAULT '',
        model TEXT, profile TEXT, source TEXT NOT NULL DEFAULT 'chat', system TEXT,
        options TEXT NOT NULL DEFAULT '{}',
        created REAL NOT NULL, updated REAL NOT NULL)""")
    db.execute("CREATE INDEX conversations_updated ON conversations(updated)")
    db.execute("""CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', reasoning_content TEXT,
        tool_calls TEXT, tool_call_id TEXT, model TEXT, finish_reason TEXT,
        prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER,
        cached_tokens INTEGER, reasoning_tokens INTEGER,
        latency REAL, interrupted INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL,
        UNIQUE (conversation_id, seq))""")
    try:  # FTS5 with the trigram tokenizer finds substrings, Chinese included; optional
        db.execute(
            "CREATE VIRTUAL TABLE messages_fts USING fts5("
            "content, content='messages', content_rowid='id', tokenize='trigram')"
        )
    except sqlite3.OperationalError:
        return
    db.execute("""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END""")
    db.execute("""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END""")


def _v2(db: sqlite3.Connection) -> None:
    """Attachments of a message (-a): a JSON list of name, type, size and sha256 (or the URL); never the bytes."""
    db.execute("ALTER TABLE messages ADD COLUMN attachments TEXT")


# Migrations: version -> step. Add a step (never edit a shipped one) and bump SCHEMA_VERSION.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1, 2: _v2}


class Summary(NamedTuple):
    """One row of `glm history list` (a named tuple: `history list -n 0` builds 100,000 of them)."""

    id: int
    name: str | None
    title: str
    model: str | None
    source: str
    created: float
    updated: float
    turns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "model": self.model,
            "source": self.source,
            "created": self.created,
            "updated": self.updated,
            "turns": self.turns,
        }


class Hit(NamedTuple):
    """One message found by `glm history search`."""

    conversation_id: int
    name: str | None
    title: str
    role: str
    content: str


class Store:
    """A connection to history.db; open with Store.open(path)."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = db, path

    @cached_property
    def fts(self) -> bool:
        """Whether this SQLite had FTS5 when the store was made (asked only by search, not on every open)."""
        return bool(self._read("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'"))

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating and migrating as needed), waiting out other processes' locks."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():  # private from the start: conversations are nobody else's business
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the history store {path}: {exc}") from None
        try:
            _retry_locked(lambda: _prepare(db))
            return cls(db, path)
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"history store {path}: {exc}") from None
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            _retry_locked(lambda: self.db.execute("BEGIN IMMEDIATE"))
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"history store {self.path}: {exc}") from None

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"history store {self.path}: {exc}") from None

    # ---- writing

    def save(self, conv: Conversation) -> None:
        """Write the conversation's header and its unsaved messages in one transaction."""
        now, title = time.time(), conv.first_line
        with self._write() as db:
            if conv.id is None:
                cur = db.execute(
                    "INSERT INTO conversations (name, title, model, profile, source, system, options, created, updated)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        conv.name,
                        title,
                        conv.model,
                        conv.profile,
                        conv.source,
                        conv.system,
                        json.dumps(conv.options),
                        conv.created,
                        now,
                    ),
                )
                conv.id = cur.lastrowid
            else:
                db.execute(
                    "UPDATE conversations SET title = ?, model = ?, system = ?, options = ?, updated = ? WHERE id = ?",
                    (title, conv.model, conv.system, json.dumps(conv.options), now, conv.id),
                )
            seq = db.execute(
                "SELECT coalesce(max(seq), 0) FROM messages WHERE conversation_id = ?", (conv.id,)
            ).fetchone()[0]
            for msg in conv.unsaved():
                seq += 1
                msg.id = db.execute(
                    "INSERT INTO messages (conversation_id, seq, role, content, reasoning_content, tool_calls,"
                    " tool_call_id, model, finish_reason, prompt_tokens, completion_tokens, total_tokens,"
                    " cached_tokens, reasoning_tokens, latency, interrupted, created, attachments)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        conv.id,
                        seq,
                        msg.role,
                        msg.content,
                        msg.reasoning or None,
                        json.dumps(msg.tool_calls, ensure_ascii=False) if msg.tool_calls else None,
                        msg.tool_call_id,
                        msg.model,
                        msg.finish_reason,
                        *_usage_row(msg.usage),
                        msg.latency,
                        int(msg.interrupted),
                        msg.created,
                        json.dumps([a.record() for a in msg.attachments], ensure_ascii=False)
                        if msg.attachments
                        else None,
                    ),
                ).lastrowid
        conv.saved, conv.updated = len(conv.messages), now

    def delete_messages(self, messages: list[Message]) -> None:
        ids = [(m.id,) for m in messages if m.id is not None]
        if ids:
            with self._write() as db:
                db.executemany("DELETE FROM messages WHERE id = ?", ids)

    def rename(self, conv_id: int, name: str | None) -> None:
        """Name a conversation (names are unique: one named like this already is refused)."""
        if name is not None and (not name.strip() or name.isdigit()):
            raise StoreError(f"a conversation name must not be empty or a number: {name!r}")
        try:
            with self._write() as db:
                db.execute("UPDATE conversations SET name = ? WHERE id = ?", (name, conv_id))
        except StoreError as err:
            if "UNIQUE" in err.message:
                raise StoreError(
                    f"another conversation is already named {name!r}", f"choose another name or `glm history rm {name}`"
                ) from None
            raise

    def delete(self, conv_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (conv_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conv_id,))

    # ---- reading

    def resolve(self, ref: str | int) -> int:
        """Return the id of the conversation with this id or name."""
        text = str(ref).strip()
        col = "id" if text.isdigit() else "name"
        row = self._read(f"SELECT id FROM conversations WHERE {col} = ?", (int(text) if col == "id" else text,))
        if not row:
            raise StoreError(f"no conversation {text!r} in {self.path}", "see `glm history list`")
        return int(row[0][0])

    def last_id(self) -> int | None:
        row = self._read("SELECT id FROM conversations ORDER BY updated DESC, id DESC LIMIT 1")
        return int(row[0][0]) if row else None

    def load(self, conv_id: int) -> Conversation:
        rows = self._read(
            "SELECT name, model, profile, source, system, options, created, updated FROM conversations WHERE id = ?",
            (conv_id,),
        )
        if not rows:
            raise StoreError(f"no conversation {conv_id} in {self.path}", "see `glm history list`")
        name, model, profile, source, system, options, created, updated = rows[0]
        messages = [
            _message(r)
            for r in self._read(
                "SELECT id, role, content, reasoning_content, tool_calls, tool_call_id, model, finish_reason,"
                " prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens, latency,"
                " interrupted, created, attachments FROM messages WHERE conversation_id = ? ORDER BY seq",
                (conv_id,),
            )
        ]
        return Conversation(
            system=system,
            messages=messages,
            id=conv_id,
            name=name,
            model=model,
            profile=profile,
            source=source,
            options=json.loads(options or "{}"),
            created=created,
            updated=updated,
            saved=len(messages),
        )

    def list(self, limit: int | None = 20) -> list[Summary]:
        """Return conversations, most recently updated first (limit None: all)."""
        rows = self._read(
            "SELECT c.id, c.name, c.title, c.model, c.source, c.created, c.updated, (SELECT count(*) FROM messages m"
            " WHERE m.conversation_id = c.id AND m.role = 'user') FROM conversations c"
            " ORDER BY c.updated DESC, c.id DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [Summary(*r) for r in rows]

    def count(self) -> int:
        return int(self._read("SELECT count(*) FROM conversations")[0][0])

    def search(self, text: str, limit: int = 50) -> builtins.list[Hit]:  # `list` here is Store.list
        """Return messages containing every word of TEXT (case-insensitive), newest conversations first."""
        terms = text.split()
        if not terms:
            raise StoreError("nothing to search for")
        where, args = [], []
        long = [t for t in terms if len(t) >= MIN_TRIGRAM] if self.fts else []
        if long:
            where.append("m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)")
            args.append(" ".join('"' + t.replace('"', '""') + '"' for t in long))
        for t in terms:
            if t not in long:
                where.append(r"m.content LIKE ? ESCAPE '\'")
                args.append("%" + t.replace("\\", r"\\").replace("%", r"\%").replace("_", r"\_") + "%")
        rows = self._read(
            "SELECT c.id, c.name, c.title, m.role, m.content FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id WHERE "
            + " AND ".join(where)
            + " ORDER BY c.updated DESC, m.seq LIMIT ?",
            (*args, limit),
        )
        return [Hit(*r) for r in rows]


def _prepare(db: sqlite3.Connection) -> None:
    """Switch to WAL once (it is persistent) and bring the schema up to date (connect's timeout is the busy_timeout)."""
    if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the history store has schema version {version}; this glm knows only up to {SCHEMA_VERSION}", "upgrade glm"
        )
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
        for step in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _retry_locked(fn: Callable[[], Any], deadline: float = BUSY_TIMEOUT) -> Any:
    """Run fn, retrying the rare lock errors SQLite reports without waiting (journal-mode switch, schema)."""
    end = time.monotonic() + deadline
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > end:
                raise
            time.sleep(0.01 + random.random() * 0.05)


def _usage_row(usage: Usage | None) -> tuple[int | None, ...]:
    if usage is None:
        return (None,) * 5
    return (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.cached_tokens,
        usage.reasoning_tokens,
    )


def _message(row: tuple[Any, ...]) -> Message:
    (
        mid,
        role,
        content,
        reasoning,
        tool_calls,
        tool_call_id,
        model,
        finish,
        prompt,
        completion,
        total,
        cached,
        reasoning_tokens,
        latency,
        interrupted,
        created,
        attachments,
    ) = row
    usage = None if prompt is None else Usage(prompt, completion or 0, total or 0, cached or 0, reasoning_tokens or 0)
    return Message(
        role=role,
        content=content,
        reasoning=reasoning or "",
        tool_calls=json.loads(tool_calls) if tool_calls else None,
        tool_call_id=tool_call_id,
        model=model,
        finish_reason=finish,
        usage=usage,
        latency=latency,
        interrupted=bool(interrupted),
        created=created,
        id=mid,
        attachments=_attachments(attachments),
    )


def _attachments(text: str | None) -> list[Any] | None:
    """The attachments a message was sent with, as stored (no bytes: a file is read again if unchanged)."""
    if not text:
        return None
    from glm_cli.attachments import Attachment

    try:
        return [Attachment.from_record(rec) for rec in json.loads(text) if isinstance(rec, dict)] or None
    except (ValueError, TypeError):
        return None


def load_conversation(environ: dict[str, str], ref: str | None = None) -> Conversation:
    """Load the conversation with this id or name, or the most recently updated one."""
    from glm_cli.errors import UsageError

    with Store.open(default_path(environ)) as store:
        conv_id = store.resolve(ref) if ref is not None else store.last_id()
        if conv_id is None:
            raise UsageError("there is no earlier conversation to continue", 'start one: glm ask "…" or glm chat')
        return store.load(conv_id)


def save_conversation(environ: dict[str, str], conv: Conversation) -> None:
    """Open the store, write the conversation's unsaved messages, close."""
    with Store.open(default_path(environ)) as store:
        store.save(conv)
