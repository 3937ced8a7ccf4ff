"""The processes glm starts (MCP servers, command tools) run in process groups of their own: none outlives glm.

`track` a group when it starts; `kill` it when it is done. Whatever is still tracked is killed when glm
exits, however it exits: a normal end, an error, Ctrl-C, or SIGTERM/SIGHUP (see `stop_on_signals`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
from typing import Any

from glm_cli.errors import Terminated

_groups: set[int] = set()
_lock = threading.Lock()


def track(pid: int) -> None:
    """Remember PID's process group (its own: it was started with start_new_session) until `kill`."""
    with _lock:
        _groups.add(pid)


def tracked() -> set[int]:
    with _lock:
        return set(_groups)


def kill(pid: int) -> None:
    """SIGKILL the whole process group led by PID (whatever of it still runs) and forget it."""
    with _lock:
        _groups.discard(pid)
    # ProcessLookupError: all gone already; AttributeError: no process groups (Windows: the caller kills PID)
    with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
        os.killpg(pid, signal.SIGKILL)


@atexit.register
def kill_all() -> None:
    for pid in tracked():
        kill(pid)


def stop_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into a clean exit (exit code 128 + signal): `finally` blocks stop the children.

    A second one while that clean-up runs (each of its steps is bounded) kills the children and exits at once.
    A signal glm was started ignoring stays ignored (`nohup glm batch …`).
    """

    def stop(signum: int, frame: Any) -> None:
        if stopping.is_set():
            kill_all()
            os._exit(128 + signum)
        stopping.set()
        raise Terminated(signum)

    stopping = threading.Event()
    for name in ("SIGTERM", "SIGHUP"):  # Windows has no SIGHUP
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, stop)
