"""Shared pieces of every command: the one error-to-exit-code wrapper and `-o FILE`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any, TypeVar

from glm_cli.errors import INTERRUPTED, GlmError, Terminated, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App

T = TypeVar("T")


def run_command(run: Callable[[T, App], int | None], opts: T, app: App | None = None) -> None:
    """Run a command; turn errors, Ctrl-C and broken pipes into messages and an exit (typer.Exit)."""
    import typer

    raise typer.Exit(exit_code(run, opts, app))


def exit_code(run: Callable[[T, App], int | None], opts: T, app: App | None = None) -> int:
    """Run a command; turn errors, Ctrl-C and broken pipes into messages; return its exit code (no Typer)."""
    import gc

    if not gc.isenabled():  # paused for start-up (cli.main): what it made lives on, never scanned again
        gc.freeze()
        gc.enable()

    from glm_cli.app import App

    app = app or App.system()
    try:
        code = run(opts, app) or 0
        app.ios.stdout.flush()  # a write error shows here, not as "Exception ignored" at exit
    except GlmError as err:
        code = report_error(app, err)
    except KeyboardInterrupt:
        _safe_write(app.ios.stderr, "\nglm: interrupted\n")
        code = INTERRUPTED
    except Terminated as stop:
        import signal

        _safe_write(app.ios.stderr, f"\nglm: stopped by {signal.Signals(stop.signum).name}\n")
        code = 128 + stop.signum
    except OSError as exc:
        code = os_error_exit(exc, app.ios.stderr)
    return code


def os_error_exit(exc: OSError, stderr: Any) -> int:
    """Return the exit code for an OSError that escaped a command (also used by cli.main); never a traceback.

    A broken pipe (`glm ask … | head -1`: the reader left) is success and stays quiet; any other
    (`> /dev/full`, EIO, an unwritable directory) is `glm: I/O error: …` and exit 1.
    """
    _silence_stdout()  # what is still buffered for stdout would fail again at exit
    if isinstance(exc, BrokenPipeError):
        return 0
    where = f" ({exc.filename})" if exc.filename else ""
    _safe_write(stderr, f"glm: I/O error: {exc.strerror or exc}{where}\n")
    return 1


def report_error(app: App, err: GlmError) -> int:
    """Print `glm: message` and `hint: …` on stderr; return the exit code."""
    _safe_write(app.ios.stderr, f"glm: {err.message}\n" + (f"hint: {err.hint}\n" if err.hint else ""))
    return err.exit_code


def _safe_write(stream: Any, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


@contextmanager
def writing_to(app: App, path: str | None) -> Iterator[App]:
    """Yield APP with its stdout going to PATH (`-o FILE`; None or `-` is stdout itself).

    The file is created at the first write: a command that fails before it has a result leaves an
    existing file as it was. A directory that does not exist is a usage error before anything is sent.
    """
    if path in (None, "-"):
        yield app
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(folder):
        what = "it is a directory" if os.path.isdir(path) else f"no such directory {folder}"
        raise UsageError(f"cannot write -o {path}: {what}")
    sink = _FileOnFirstWrite(path)
    try:
        yield replace(app, ios=replace(app.ios, stdout=sink, stdout_tty=False))  # type: ignore[arg-type]
    except BaseException:
        sink.close()
        raise
    sink.write("")  # it succeeded with nothing to write: the file still exists (empty), as with `> FILE`
    sink.close()


class _FileOnFirstWrite:
    """A text stream that opens (truncates) its file at the first write."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def write(self, text: str) -> int:
        if self._fh is None:
            self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
        return self._fh.write(text)

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def isatty(self) -> bool:
        return False

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
