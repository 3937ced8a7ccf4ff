"""Batch progress (a live bar on a terminal stderr, drawn by render.ProgressBar) and the final summary."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glm_cli.batch.output import Stats
    from glm_cli.events import Usage
    from glm_cli.iostreams import IOStreams

CostFn = Callable[[dict[str, "Usage"]], str | None]


def total_usage(stats: Stats) -> Usage:
    """Sum the tokens of every model the run used."""
    from glm_cli.events import Usage

    out = Usage()
    for usage in list(stats.usage.values()):
        out = out + usage
    return out


def tokens_text(usage: Usage) -> str:
    """Return `in N (cached N) · out N (reasoning N)`."""
    return (
        f"in {usage.prompt_tokens:,} (cached {usage.cached_tokens:,}) · "
        f"out {usage.completion_tokens:,} (reasoning {usage.reasoning_tokens:,})"
    )


def summary_lines(stats: Stats, elapsed: float, cost: str | None, *, label: str = "glm batch") -> list[str]:
    """Return the final summary: counts, failures by code, tokens, cost, wall time, throughput."""
    done = stats.ok + stats.failed
    rate = done / elapsed if elapsed > 0 else 0.0
    head = f"{label}: {stats.ok:,} ok, {stats.failed:,} failed"
    if stats.errors:
        head += " (" + ", ".join(f"{n:,}× {code}" for code, n in sorted(stats.errors.items())) + ")"
    lines = [
        head + f" · {elapsed:.2f} s, {rate:.1f} records/s" + (f", {stats.retries:,} retries" if stats.retries else "")
    ]
    if stats.usage:
        lines.append(f"{label}: tokens {tokens_text(total_usage(stats))}" + (f" · est. {cost}" if cost else ""))
    if stats.no_usage:  # unknown, not zero: the tokens and cost above leave these answers out
        n = stats.no_usage
        lines.append(
            f"{label}: {n:,} answer{'s' if n != 1 else ''} with no usage reported (tokens unknown, not counted)"
        )
    if stats.skipped_ok or stats.skipped_failed:
        text = f"{label}: skipped {stats.skipped_ok:,} already ok"
        if stats.skipped_failed:
            text += f" and {stats.skipped_failed:,} that failed before (--retry-failed runs them again)"
        lines.append(text)
    return lines


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class NullProgress:
    """No progress display: stderr is not a terminal (only the summary is printed)."""

    def __init__(self, ios: IOStreams) -> None:
        import threading

        self.ios, self.lock = ios, threading.RLock()  # re-entrant: a signal handler may note while main does

    def note(self, text: str) -> None:
        """Write one line to stderr (workers call this: one line at a time)."""
        with self.lock:
            self.ios.stderr.write(text + "\n")
            self.ios.stderr.flush()

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def advance(self) -> None:
        """Nothing to draw."""
        return None


class RichProgress:
    """A live bar on stderr: done/failed/in flight, records/s, tokens, cost, ETA."""

    def __init__(
        self, ios: IOStreams, stats: Stats, in_flight: Callable[[], int], cost: CostFn, clock: Callable[[], float]
    ) -> None:
        from glm_cli.render import ProgressBar

        self.stats, self.in_flight, self.cost, self.clock = stats, in_flight, cost, clock
        self.bar = ProgressBar(ios, stats.total, self._info)

    def _done(self) -> int:
        s = self.stats
        return s.ok + s.failed + s.skipped_ok + s.skipped_failed

    def _info(self) -> str:
        s = self.stats
        elapsed = max(self.clock() - s.started, 1e-9)
        rate = (s.ok + s.failed) / elapsed
        text = f"{s.ok:,} ok · {s.failed:,} failed · {self.in_flight()} in flight · {rate:.1f}/s"
        if s.total is not None and rate > 0:  # skipped lines are not work: the rate counts sent ones only
            text += f" · ETA {_clock_text((s.total - self._done()) / rate)}"
        if s.usage:
            usage = total_usage(s)
            text += f" · {usage.prompt_tokens + usage.completion_tokens:,} tok"
            cost = self.cost(dict(s.usage))
            text += f" · {cost}" if cost else ""
        return text

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        with contextlib.suppress(OSError):  # a terminal that hung up: the run's records and summary come first
            self.bar.stop()

    def note(self, text: str) -> None:
        """Print one line above the bar."""
        self.bar.note(text)

    def advance(self) -> None:
        """Move the bar to the records written so far."""
        self.bar.update(self._done())


def make_progress(
    ios: IOStreams,
    stats: Stats,
    in_flight: Callable[[], int],
    cost: CostFn,
    clock: Callable[[], float],
    enabled: bool | None = None,
) -> NullProgress | RichProgress:
    """Return the live display: a bar when stderr is a terminal (or `enabled`), else nothing."""
    if enabled is False or (enabled is None and not ios.stderr_tty):
        return NullProgress(ios)
    return RichProgress(ios, stats, in_flight, cost, clock)
