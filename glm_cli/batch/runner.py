"""The local batch engine: N workers, shared rate limits, retries by class, a clean stop."""

from __future__ import annotations

import contextlib
import hashlib
import queue
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from glm_cli.batch import policy
from glm_cli.batch.input import Item, build_body
from glm_cli.batch.limits import WAIT_SLICE, AdaptiveLimiter, TokenBucket
from glm_cli.batch.output import RecordSink, RecordWriter, ResumeState, Stats, error_record, ok_record
from glm_cli.client import Deadline
from glm_cli.errors import GlmError

# Each worker has a client of its own: a connection pool scans every connection it holds each time a request
# starts or ends, so 64 workers on one pool spent a third of the run's CPU there, and eight workers a pool still
# cost 1.4x the CPU of a client each (issue 14, bench/bench_batch.py on a quiet machine). The clients share one
# TLS context (glm_cli/tls.py), so a client costs a pool and its headers, not a certificate store.

if TYPE_CHECKING:
    from glm_cli.catalogue import Catalogue
    from glm_cli.client import GlmClient
    from glm_cli.config import Settings
    from glm_cli.events import Reply, Usage
    from glm_cli.tools.schema import Schema


@dataclass(frozen=True)
class RunConfig:
    """How to run a batch (everything but the input and the output)."""

    concurrency: int = 8
    rpm: float | None = None
    tpm: float | None = None
    ordered: bool = False
    retry_failed: bool = False
    keep_reasoning: bool = True
    stream: bool = False
    json_mode: bool = False
    stop: tuple[str, ...] = ()
    schema: Schema | None = None  # its instruction joins every line's system prompt (batch_input.build_body)
    limit: int | None = None
    grace: float = 10.0


@dataclass
class Budget:
    """One line's share of the `deadline` setting: its tries and the backoff waits between them, in all.

    Waiting for a free slot (--concurrency, --rpm, --tpm) is the run's pacing, not the line's: it is not counted.
    """

    seconds: float | None
    used: float = 0.0

    def deadline(self, clock: Callable[[], float]) -> Deadline:
        """The deadline of the next try: what is left."""
        return Deadline(self.seconds, clock, self.used)

    def allows(self, delay: float) -> bool:
        """Whether a wait of DELAY seconds still leaves time for another try."""
        return self.seconds is None or self.used + delay < self.seconds


@dataclass(frozen=True)
class Repair:
    """An answer that is not the JSON (or schema) asked for: what to add to the conversation to get it corrected."""

    messages: tuple[dict[str, Any], ...]  # the bad answer, then the user message naming its errors
    usage: Usage | None  # what the bad answer cost (the line's record counts both requests)


def collect(deltas: Iterable[Any]) -> Reply:
    """Accumulate a stream of deltas into the finished reply."""
    from glm_cli.events import ReplyBuilder

    builder = ReplyBuilder()
    for delta in deltas:
        builder.add(delta)
    return builder.build()


def _requests(n: int) -> str:
    return f"{n:,} request" + ("" if n == 1 else "s")


def _stopping_text(signum: int, in_flight: int, grace: float) -> str:
    """What a first stop signal does, said at once (a second one abandons the requests in flight)."""
    name = signal.Signals(signum).name
    by = "" if signum == signal.SIGINT else f" ({name})"
    if not in_flight:
        return f"glm: stopping{by}: no new requests; writing the summary"
    again = "press Ctrl-C again" if signum == signal.SIGINT else f"send {name} again or press Ctrl-C"
    return (
        f"glm: stopping{by}: waiting up to {grace:g} s for {_requests(in_flight)} in flight to finish "
        f"(answers already paid for are kept); {again} to abandon them (they run again on resume)"
    )


def request_id_for(item_id: str, tag: str, attempt: int) -> str:
    """Return a request_id that names the line, unique per run and attempt (GLM rejects reuse: 1231)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", item_id)
    if safe != item_id or len(safe) > 40:  # shortened or changed: a digest keeps distinct ids distinct
        safe = f"{safe[:31]}.{hashlib.sha1(item_id.encode('utf-8')).hexdigest()[:8]}"
    return f"{safe}-{tag}-{attempt}"


class BatchRunner:
    """Send every item through the one client with bounded, adaptive concurrency.

    The runner retries, by the client's own policy (``client.retry``), sending each try once: so that a
    rate limit slows every worker down, each try gets its own request_id, and a stop is noticed mid-wait.
    """

    def __init__(
        self,
        cfg: RunConfig,
        client: GlmClient,
        settings: Settings,
        catalogue: Catalogue | None,
        writer: RecordWriter,
        *,
        validate: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.cfg, self.client, self.settings, self.catalogue = cfg, client, settings, catalogue
        self.retry = client.retry
        self.validate, self.clock = validate, clock
        self.stats = Stats(started=clock())
        self.sink = RecordSink(writer, self.stats, ordered=cfg.ordered, window=max(64, 4 * cfg.concurrency))
        self.writer = writer
        self.limiter = AdaptiveLimiter(cfg.concurrency, clock=clock)
        self.rpm = TokenBucket(cfg.rpm, clock=clock) if cfg.rpm else None
        self.tpm = TokenBucket(cfg.tpm, clock=clock) if cfg.tpm else None
        self.stopping = threading.Event()  # no new requests: Ctrl-C, SIGTERM or a fatal error
        self.abandon = threading.Event()  # and stop waiting for the requests in flight
        self.fatal: GlmError | None = None
        self.interrupted_at: float | None = None
        self.signum: int | None = None  # the signal that stopped the run (SIGINT, SIGTERM, SIGHUP)
        self.abandoned = 0  # requests still in flight when the run stopped waiting for them
        self.note: Callable[[str], None] = lambda text: None
        self.tag = secrets.token_hex(3)
        self.completion_avg = 512.0  # tokens; the --tpm estimate learns from real answers
        self._queue: queue.Queue[tuple[int, Item] | None] = queue.Queue(maxsize=2 * cfg.concurrency)

    def listen(self, on_record: Callable[[], None], note: Callable[[str], None] | None = None) -> None:
        """Call `on_record` after each record is written (and now and then while skipping), and `note` with
        what a stop means for the requests in flight, at once (from the signal handler: it must not block), and
        with each shared slow-down (a pause, fewer requests in flight), once each."""
        self.sink.on_record = on_record
        if note is not None:
            self.note = note

    @property
    def interrupted(self) -> bool:
        """Whether a signal stopped the run."""
        return self.interrupted_at is not None

    # -- the main thread: dispatch, wait, stop -------------------------------------------------

    def run(self, items: Iterable[Item], state: ResumeState | None = None) -> Stats:
        """Run every item not already done; return the counters. Handles SIGINT/SIGTERM meanwhile."""
        clients = self._clients()
        workers = [
            threading.Thread(target=self._work, args=(clients[i % len(clients)],), daemon=True, name=f"glm-batch-{i}")
            for i in range(self.cfg.concurrency)
        ]
        try:
            with self._signals():
                for w in workers:
                    w.start()
                self._dispatch(items, state)
                self._end_dispatch(len(workers))
                for w in workers:
                    while w.is_alive() and not self._overdue():
                        w.join(WAIT_SLICE)
            self.sink.flush()
            self.writer.seal()  # requests still in flight (abandoned) can no longer write; the lock stays
            if self.abandon.is_set():
                self.abandoned = self.limiter.in_flight
        finally:
            for client in clients[1:]:  # the first is the caller's, closed by the caller
                client.close()
        return self.stats

    def _clients(self) -> list[GlmClient]:
        """Return a client a worker: the run's own, and copies of it, each with a connection pool of its own."""
        copies = [replace(self.client, pool_size=1) for _ in range(self.cfg.concurrency - 1)]
        for client in copies:  # built here, not by a worker: its TLS context in a worker's malloc arena was +5 MB
            client.http  # noqa: B018
        return [self.client, *copies]

    def _dispatch(self, items: Iterable[Item], state: ResumeState | None) -> None:
        seq = taken = 0
        for item in items:
            if self.writer.error is not None:  # the output cannot take records: stop sending
                self.stop()
            if self.stopping.is_set() or (self.cfg.limit is not None and taken >= self.cfg.limit):
                return
            taken += 1
            if state is not None and self._skip(item, state):
                continue
            if not self.sink.reserve(self.stopping):
                return
            if item.error:
                self.sink.emit(seq, error_record(item.id, item.line, "invalid_line", item.error))
            elif not self._put((seq, item)):
                self.sink.emit(seq, None)
                return
            seq += 1

    def _skip(self, item: Item, state: ResumeState) -> bool:
        if item.id in state.ok:
            self.stats.skipped_ok += 1
        elif not self.cfg.retry_failed and item.id in state.failed:
            self.stats.skipped_failed += 1
        else:
            return False
        if self.sink.on_record and (self.stats.skipped_ok + self.stats.skipped_failed) % 256 == 0:
            self.sink.on_record()
        return True

    def _put(self, task: tuple[int, Item] | None, *, force: bool = False) -> bool:
        while True:
            try:
                self._queue.put(task, timeout=WAIT_SLICE)
                return True
            except queue.Full:
                if self._overdue() if force else self.stopping.is_set():
                    return False

    def _end_dispatch(self, workers: int) -> None:
        """Drop queued lines when stopping (they run on resume), then tell each worker to finish."""
        while self.stopping.is_set():
            try:
                task = self._queue.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                self.sink.emit(task[0], None)
        for _ in range(workers):
            if not self._put(None, force=True):
                return

    def _overdue(self) -> bool:
        """Whether to stop waiting for requests in flight (a second signal, or the grace is over)."""
        if (
            self.interrupted_at is not None
            and not self.abandon.is_set()
            and self.clock() - self.interrupted_at > self.cfg.grace
        ):
            self.abandon.set()
            if self.limiter.in_flight:
                self._say(
                    f"glm: still {_requests(self.limiter.in_flight)} in flight after {self.cfg.grace:g} s: "
                    "abandoning them (they run again on resume)"
                )
        return self.abandon.is_set()

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        names = ("SIGINT", "SIGTERM", "SIGHUP")  # Windows has no SIGHUP
        wanted = [s for s in (getattr(signal, n, None) for n in names) if s is not None]
        # A signal glm was started ignoring stays ignored (`nohup glm batch …`, a background job's SIGINT).
        old = {s: h for s in wanted if (h := signal.getsignal(s)) is not signal.SIG_IGN}
        for s in old:
            signal.signal(s, self._on_signal)
        try:
            yield
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        # The first signal (Ctrl-C, SIGTERM, SIGHUP): no new requests; those in flight may finish (up to `grace`
        # seconds), their answers are paid for. A second one: stop waiting for them; they run again on resume.
        if self.interrupted_at is not None:
            self.abandon.set()
            return
        self.interrupted_at, self.signum = self.clock(), signum
        self.stop()
        self._say(_stopping_text(signum, self.limiter.in_flight, self.cfg.grace))

    def _say(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError, RuntimeError):  # a hung-up terminal must not end the stop
            self.note(text)

    def stop(self) -> None:
        """Dispatch nothing more (what is in flight may finish)."""
        self.stopping.set()
        self.limiter.wake()

    # -- worker threads ------------------------------------------------------------------------

    def _work(self, client: GlmClient) -> None:
        while (task := self._queue.get()) is not None:
            seq, item = task
            if self.stopping.is_set():
                self.sink.emit(seq, None)
                continue
            try:
                record = self._process(item, client)
            except Exception as exc:  # a bug must cost one record, not the run
                record = error_record(item.id, item.line, "internal", f"{exc.__class__.__name__}: {exc}")
            self.sink.emit(seq, record)

    def _process(self, item: Item, client: GlmClient) -> dict[str, Any] | None:
        """Return the line's record after retries (and one repair), or None if the run stopped first."""
        attempt = 0
        repair: Repair | None = None
        budget = Budget(client.deadline)
        while not self.stopping.is_set():
            attempt += 1
            request_id = request_id_for(item.id, self.tag, attempt)
            try:
                body = build_body(
                    item,
                    self.settings,
                    self.catalogue,
                    stream=self.cfg.stream,
                    json_mode=self.cfg.json_mode,
                    stop=self.cfg.stop,
                    schema=self.cfg.schema,
                    request_id=request_id,
                )
            except GlmError as err:
                return error_record(item.id, item.line, "invalid_request", err.message, attempts=0)
            if repair is not None:
                body["messages"] = [*body["messages"], *repair.messages]
            outcome = self._attempt(item, body, attempt, request_id, repair, client, budget)
            if isinstance(outcome, Repair):
                repair = outcome
            elif outcome is not None:
                return outcome
        return None

    def _attempt(
        self,
        item: Item,
        body: dict[str, Any],
        attempt: int,
        request_id: str,
        repair: Repair | None,
        client: GlmClient,
        budget: Budget,
    ) -> dict[str, Any] | Repair | None:
        """Send once; return the final record, a Repair to send next, or None to try again (after the backoff)."""
        from glm_cli.tools.schema import repair_message

        estimate = self._estimate(body)
        if not self._take_slot(estimate):
            return None
        started = self.clock()
        reply: Reply | None = None
        try:
            reply = collect(client.chat(body, retries=False, deadline=budget.deadline(self.clock)))
            wants_json = (body.get("response_format") or {}).get("type") == "json_object"
            err = policy.finish_error(reply, wants_json, self.validate, repairable=repair is None)
        except GlmError as exc:
            err = exc
        finally:
            self.limiter.release()
        took = self.clock() - started
        budget.used += took
        latency = int(took * 1000)
        self._charge(reply, estimate)
        meta: dict[str, Any] = dict(attempts=attempt, latency_ms=latency, request_id=request_id)
        if reply is not None and isinstance(err, policy.FinishError) and err.repair:
            self.limiter.on_success()
            with self.stats.lock:
                self.stats.retries += 1
            return Repair((reply.to_message(), repair_message(err.message)), reply.usage)
        if reply is not None and (err is None or not self.retry.retryable(err)):
            self.limiter.on_success()
            if repair is not None:  # the record counts what both requests cost (unknown if either reported none)
                from glm_cli.events import usage_sum

                reply = replace(reply, usage=usage_sum(repair.usage, reply.usage))
            error = {"code": policy.error_code(err), "message": err.message} if err else None
            return ok_record(item.id, item.line, reply, keep_reasoning=self.cfg.keep_reasoning, error=error, **meta)
        assert err is not None
        if self._should_retry(err, attempt - (repair is not None), budget):  # the repair is not one of the retries
            return None
        if policy.is_fatal(err, self.retry) or (self.stopping.is_set() and self.retry.retryable(err)):
            # An error that stopped the run (no balance, auth, ...) or a stop mid-retry is no verdict on the
            # line: no record, so a plain rerun sends it again.
            return None
        return error_record(
            item.id, item.line, policy.error_code(err), err.message, status=getattr(err, "status", None), **meta
        )

    def _should_retry(self, err: GlmError, attempt: int, budget: Budget) -> bool:
        """Apply the error to the run (stop, slow down); wait out the backoff if the line gets another try."""
        if policy.is_fatal(err, self.retry) and self.fatal is None:
            self.fatal = err
            self.stop()
        if policy.is_throttle(err, self.retry):
            # Fewer requests in flight for everyone; a pause for everyone only when the server names one.
            pause = self.retry.retry_after(err) or 0.0
            began, cut = self.limiter.on_throttle(pause)
            if began or cut:  # said once per pause or cut, not once per line
                self.note(policy.throttle_notice(err, pause if began else 0.0, self.limiter.limit))
        if not self.retry.retryable(err) or attempt > self.retry.max_retries:
            return False
        delay = self.retry.delay(err, attempt)
        if not budget.allows(delay):  # the `deadline` bounds all of a line's tries, as it does in `glm ask`
            budget.deadline(self.clock).give_up(err, attempt)
            return False
        budget.used += delay
        if self.stopping.wait(delay):
            return False
        with self.stats.lock:
            self.stats.retries += 1
        return True

    def _take_slot(self, estimate: float) -> bool:
        if self.rpm is not None and not self.rpm.acquire(1, self.stopping):
            return False
        if self.tpm is not None and not self.tpm.acquire(estimate, self.stopping):
            return False
        return self.limiter.acquire(self.stopping)

    def _estimate(self, body: dict[str, Any]) -> float:
        from glm_cli.catalogue import text_chars

        chars = sum(text_chars(m.get("content")) for m in body.get("messages", []))  # not the base64 of attachments
        return chars / 3 + self.completion_avg

    def _charge(self, reply: Reply | None, estimate: float) -> None:
        """Settle the tokens/min bucket with what the request really used (a failure is refunded)."""
        if self.tpm is None:
            return
        usage = reply.usage if reply is not None else None
        if reply is not None and usage is None:  # an answer whose usage is unknown: the estimate stands
            return
        self.tpm.adjust((usage.total_tokens if usage else 0) - estimate)
        if usage and usage.completion_tokens:
            self.completion_avg = 0.9 * self.completion_avg + 0.1 * usage.completion_tokens
