"""Batch output: the records, the append-only file that is the run's state, resume and repair."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from glm_cli.errors import UsageError
from glm_cli.redact import scrub

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.events import Reply, Usage

FORMATS = ("record", "batch-api")


def ok_record(
    item_id: str,
    line: int | None,
    reply: Reply,
    *,
    keep_reasoning: bool = True,
    attempts: int | None = 1,
    latency_ms: int | None = None,
    request_id: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the output record for a reply (status error when `error` is given, content kept)."""
    return {
        "id": item_id,
        "line": line,
        "status": "error" if error else "ok",
        "content": reply.content,
        "reasoning": (reply.reasoning or None) if keep_reasoning else None,
        "finish_reason": reply.finish_reason,
        "model": reply.model,
        "usage": reply.usage.to_api() if reply.usage else None,
        "error": error,
        "attempts": attempts,
        "latency_ms": latency_ms,
        "request_id": request_id,
    }


def error_record(
    item_id: str,
    line: int | None,
    code: str,
    message: str,
    *,
    status: int | None = None,
    attempts: int | None = 0,
    latency_ms: int | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Return the output record of a line that got no answer."""
    error: dict[str, Any] = {"code": code, "message": scrub(message)}  # an exception's text may quote a secret
    if status is not None:
        error["status"] = status
    return {
        "id": item_id,
        "line": line,
        "status": "error",
        "content": None,
        "reasoning": None,
        "finish_reason": None,
        "model": None,
        "usage": None,
        "error": error,
        "attempts": attempts,
        "latency_ms": latency_ms,
        "request_id": request_id,
    }


def to_batch_api(record: dict[str, Any]) -> dict[str, Any]:
    """Return a record in the shape of a line of Zhipu's batch output (or error) file."""
    if record.get("content") is None and record["error"]:
        err = record["error"]
        status = err.get("status") or 400
        body: dict[str, Any] = {"error": {"code": err["code"], "message": err["message"]}}
    elif "embedding" in record:  # an embeddings record (glm embed --batch, or fetched from the Batch API)
        status = 200
        body = {
            "model": record.get("model"),
            "object": "list",
            "data": [{"index": 0, "object": "embedding", "embedding": record["embedding"]}],
            "usage": record.get("usage"),
        }
    else:
        status = 200
        message = {"role": "assistant", "content": record["content"]}
        if record.get("reasoning"):
            message["reasoning_content"] = record["reasoning"]
        body = {
            "request_id": record.get("request_id"),
            "model": record.get("model"),
            "choices": [{"index": 0, "finish_reason": record.get("finish_reason"), "message": message}],
            "usage": record.get("usage"),
        }
    return {"response": {"status_code": status, "body": body}, "custom_id": record["id"]}


def record_state(obj: Any) -> tuple[str, bool] | None:
    """Return (id, ok) for a record in either output format, or None if it is not one."""
    if not isinstance(obj, dict):
        return None
    if "custom_id" in obj and isinstance(obj.get("response"), dict):
        return str(obj["custom_id"]), _batch_api_ok(obj["response"])
    if "id" in obj and "status" in obj:
        return str(obj["id"]), obj["status"] == "ok"
    return None


def _batch_api_ok(response: dict[str, Any]) -> bool:
    from glm_cli.batch.policy import BAD_FINISH

    body = response.get("body")
    if response.get("status_code") != 200 or not isinstance(body, dict):
        return False
    choices = body.get("choices") or [{}]
    first = choices[0] if isinstance(choices, list) else None
    if not isinstance(first, dict):  # not an answer glm knows: not done
        return False
    reason = first.get("finish_reason")
    return not (isinstance(reason, str) and reason in BAD_FINISH)  # a cut or filtered answer is not done


def read_record(raw: bytes) -> tuple[str, bool] | None:
    """Return (id, ok) for one line of an output file; None for anything else (never raises).

    Whatever a line holds -- not JSON, not UTF-8, nested too deeply, a number too long, a record of
    another shape -- it is "not a record": resume ignores it (with a warning) and compaction keeps it.
    """
    try:
        return record_state(json.loads(raw))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


class IdSet:
    """A set of ids held as sorted 64-bit hashes: 8 bytes an id, however long the ids are."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._hashes = array("q", sorted(hash(i) for i in ids))

    @classmethod
    def of_hashes(cls, hashes: Iterable[int]) -> IdSet:
        """Build from str hashes already taken (so the ids themselves are never all in memory)."""
        out = cls()
        out._hashes = array("q", sorted(hashes))
        return out

    def has_hash(self, h: int) -> bool:
        """Whether an id with this hash is in the set."""
        i = bisect_left(self._hashes, h)
        return i < len(self._hashes) and self._hashes[i] == h

    def __contains__(self, item_id: str) -> bool:
        return self.has_hash(hash(item_id))

    def __len__(self) -> int:
        return len(self._hashes)


def iter_records(fh: IO[bytes]) -> Iterator[tuple[str, bool] | None]:
    """Yield (id, ok) per line of an output file; None for a line that is not a record."""
    for raw in fh:
        yield read_record(raw)


@dataclass(frozen=True)
class ResumeState:
    """What an existing output file says is done."""

    ok: IdSet
    failed: IdSet
    records: int
    unreadable: int


def foreign_line(path: str) -> str | None:
    """Return the first whole line of an existing file when it is not a record: the file is not a batch output."""
    try:
        with open(path, "rb") as fh:
            while raw := fh.readline(1 << 20):
                if not raw.endswith(b"\n"):  # a torn first record (the writer cuts it), or one line of something else
                    return None if raw.lstrip().startswith(b'{"') else raw.decode("utf-8", "replace").strip()[:60]
                if raw.strip():
                    return None if read_record(raw) is not None else raw.decode("utf-8", errors="replace").strip()[:60]
    except OSError:
        return None
    return None


def repair_torn_tail(fd: int) -> int:
    """Cut a last line that has no newline (a write killed half-way); return the bytes removed."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return 0
    pos, block = size, 1 << 16
    while pos > 0:
        start = max(0, pos - block)
        chunk = os.pread(fd, pos - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, start + cut + 1)
            return size - (start + cut + 1)
        pos = start
    os.ftruncate(fd, 0)
    return size


def load_state(path: str) -> ResumeState:
    """Read an output file: which ids are ok, which failed (and never succeeded later)."""
    ok_hashes, failed_hashes = array("q"), array("q")
    records = unreadable = 0
    with open(path, "rb") as fh:
        for state in iter_records(fh):
            if state is None:
                unreadable += 1
                continue
            records += 1
            (ok_hashes if state[1] else failed_hashes).append(hash(state[0]))
    ok = IdSet.of_hashes(ok_hashes)
    del ok_hashes
    failed = IdSet.of_hashes(h for h in failed_hashes if not ok.has_hash(h))
    return ResumeState(ok, failed, records, unreadable)


class RecordWriter:
    """Append whole records, one write and flush each; the file is locked against a second run.

    The lock is held from open to close(): seal() stops the writes first, and compact() rewrites the
    file in between, so no other run can slip in while the file is swapped.
    """

    def __init__(self, path: str | None, stream: IO[str] | None = None, fmt: str = "record") -> None:
        self.path, self.stream, self.fmt = path, stream, fmt
        self.lock = threading.Lock()
        self.closed = False
        self.error: OSError | None = None  # set when a write failed (disk full, reader gone)
        self.fd: int | None = None
        self.repaired = 0
        if path is not None:
            self.fd = _open_locked(path)
            self.repaired = repair_torn_tail(self.fd)

    def write(self, record: dict[str, Any]) -> bool:
        """Write one record; return False once closed or broken (nothing partial, ever)."""
        obj = to_batch_api(record) if self.fmt == "batch-api" else record
        # A lone surrogate (a server's "\ud800") cannot be UTF-8: write it as the JSON escape it came as.
        data = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
        with self.lock:
            if self.closed or self.error is not None:
                return False
            try:
                self._write(data)
            except OSError as exc:
                self.error = exc
                return False
            return True

    def _write(self, data: bytes) -> None:
        if self.fd is None:
            assert self.stream is not None
            self.stream.write(data.decode("utf-8"))
            self.stream.flush()
            return
        while data:
            data = data[os.write(self.fd, data) :]

    def seal(self) -> None:
        """Refuse further writes (requests still in flight are dropped); the file stays open and locked."""
        with self.lock:
            self.closed = True
            if self.fd is not None:
                with contextlib.suppress(OSError):
                    os.fsync(self.fd)

    def compact(self) -> int:
        """Drop superseded error records (see compact()) while the lock is still held; return how many."""
        if self.fd is None or self.path is None or not stat.S_ISREG(os.fstat(self.fd).st_mode):
            return 0
        self.seal()
        return compact(self.path)

    def close(self) -> None:
        """Refuse further writes and release the file (and its lock)."""
        self.seal()
        with self.lock:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None


def _open_locked(path: str) -> int:
    """Open and lock the output; when another run swapped in a new file meanwhile, open that one instead."""
    for _ in range(5):
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot open {path} for writing: {exc.strerror or exc}") from None
        _lock_exclusive(fd, path)
        if _same_file(fd, path):  # the locked file is still the one the name points to: it is ours
            return fd
        os.close(fd)
    raise UsageError(f"{path} keeps being replaced while glm opens it", "is another program rewriting it?")


def _same_file(fd: int, path: str) -> bool:
    try:
        held, named = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


def _lock_exclusive(fd: int, path: str) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; a second run is the user's problem
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise UsageError(
            f"another `glm batch` is writing to {path}", "wait for it to finish, or choose another -o"
        ) from None


def compact(path: str) -> int:
    """Drop error records of ids that later succeeded or failed again (the last one stays); return how many.

    Only while holding the output's lock (RecordWriter.compact). The new file is written beside the real
    one (a symlinked -o is followed), gets its mode and owner, and is renamed over it: a crash leaves the
    old file or the new one, never half of each. Lines that are not records are kept.
    """
    import tempfile

    real = os.path.realpath(path)
    st = os.stat(real)
    ok_hashes, errors = array("q"), dict[int, int]()  # errors: hash of an id -> its error records
    with open(real, "rb") as fh:
        for rec in iter_records(fh):
            if rec is not None:
                if rec[1]:
                    ok_hashes.append(hash(rec[0]))
                else:
                    errors[hash(rec[0])] = errors.get(hash(rec[0]), 0) + 1
    ok = IdSet.of_hashes(ok_hashes)
    del ok_hashes
    dropped = sum(n if ok.has_hash(h) else n - 1 for h, n in errors.items())
    if not dropped or st.st_nlink > 1:  # a hard-linked file cannot be swapped without splitting the links
        return 0
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(real) + ".", suffix=".compact", dir=os.path.dirname(real))
    try:
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
        with contextlib.suppress(OSError):  # only root may give a file away; the owner keeps it anyway
            os.fchown(fd, st.st_uid, st.st_gid)
        with open(fd, "wb") as dst, open(real, "rb") as src:
            for raw in src:
                rec = read_record(raw)
                if rec is not None and not rec[1]:
                    h = hash(rec[0])
                    errors[h] -= 1
                    if ok.has_hash(h) or errors[h]:  # it later succeeded, or a later error record follows
                        continue
                dst.write(raw)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_dir(os.path.dirname(real))
    return dropped


def _sync_dir(directory: str) -> None:
    """Make a rename in `directory` durable (best effort: not every system can open a directory)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class Stats:
    """Counters of a run, updated from every worker under `lock`."""

    total: int | None = None
    ok: int = 0
    failed: int = 0
    skipped_ok: int = 0
    skipped_failed: int = 0
    retries: int = 0
    usage: dict[str, Usage] = field(default_factory=dict)
    no_usage: int = 0  # answers whose server reported no usage: unknown, not counted as zero
    requests: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, record: dict[str, Any]) -> None:
        """Count a written record and its tokens (by model)."""
        from glm_cli.events import Usage

        with self.lock:
            if record["status"] == "ok":
                self.ok += 1
            else:
                self.failed += 1
                code = str((record.get("error") or {}).get("code"))
                self.errors[code] = self.errors.get(code, 0) + 1
            usage = Usage.from_api(record.get("usage"))
            if usage is None and record.get("content") is not None:
                self.no_usage += 1
            if usage is not None:
                model = record.get("model") or "?"
                self.usage[model] = self.usage.get(model, Usage()) + usage
                self.requests[model] = self.requests.get(model, 0) + 1


class RecordSink:
    """Write records as they finish, or in input order (--ordered) with a bounded look-ahead."""

    def __init__(
        self,
        writer: RecordWriter,
        stats: Stats,
        *,
        ordered: bool = False,
        window: int = 64,
        on_record: Callable[[], None] | None = None,
    ) -> None:
        self.writer, self.stats, self.ordered, self.on_record = writer, stats, ordered, on_record
        self.window = threading.BoundedSemaphore(window) if ordered else None
        self.pending: dict[int, dict[str, Any] | None] = {}
        self.next_seq = 0
        self.lock = threading.Lock()
        self.flushed = False  # the run ended: what still finishes is written as it comes

    def reserve(self, stop: threading.Event, slice_s: float = 0.1) -> bool:
        """Wait until the look-ahead has room for one more line; False if `stop` was set."""
        if self.window is None:
            return True
        while not self.window.acquire(timeout=slice_s):
            if stop.is_set():
                return False
        return True

    def emit(self, seq: int, record: dict[str, Any] | None) -> None:
        """Take line `seq`'s record; None marks a line left for a later run."""
        if self.window is None:
            self._write(record)
            return
        with self.lock:
            if self.flushed:
                self._write(record)
                return
            self.pending[seq] = record
            while self.next_seq in self.pending:
                self._write(self.pending.pop(self.next_seq))
                self.next_seq += 1
                self.window.release()

    def flush(self) -> None:
        """Write what finished behind a line that never will (an interrupted --ordered run)."""
        with self.lock:
            self.flushed = True
            for seq in sorted(self.pending):
                self._write(self.pending.pop(seq))

    def _write(self, record: dict[str, Any] | None) -> None:
        if record is not None and self.writer.write(record):
            self.stats.add(record)
            if self.on_record:
                self.on_record()


def open_output(path: str | None, fmt: str, app: App) -> tuple[RecordWriter, ResumeState | None]:
    """Open the output (lock, repair a torn last line) and read what is already done."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if path in (None, "-"):
        return RecordWriter(None, app.ios.stdout, fmt), None
    if os.path.isfile(path) and (first := foreign_line(path)) is not None:  # e.g. -o another input file
        raise UsageError(
            f"{path} is not the output of a glm batch run: its first line is not a record ({first!r})",
            "choose another -o: a new file, or the output of an earlier run to resume it",
        )
    writer = RecordWriter(path, fmt=fmt)
    if not os.path.isfile(path):  # /dev/stdout, a FIFO, /dev/null: written to, never read back (it would block)
        return writer, None
    if writer.repaired:
        app.warn(f"{path}: removed a torn last line ({writer.repaired:,} bytes cut mid-write); that line runs again")
    state = load_state(path)
    if state.unreadable:
        app.warn(f"{path}: {state.unreadable:,} line(s) are not records and were ignored")
    return writer, state
