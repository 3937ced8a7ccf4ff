"""Shared pieces of every command: option types and the one error-to-exit-code wrapper."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from glm_cli.errors import INTERRUPTED, GlmError, Terminated

if TYPE_CHECKING:
    from glm_cli.app import App

T = TypeVar("T")


def run_command(run: Callable[[T, App], int | None], opts: T, app: App | None = None) -> None:
    """Run a command; turn errors, Ctrl-C and broken pipes into messages and exit codes."""
    import typer

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
    raise typer.Exit(code)


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
