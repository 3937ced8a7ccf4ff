"""Reading a child's pseudo-terminal in tests (shared by the pty tests)."""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable


def read_pty(
    master: int, proc: subprocess.Popen, timeout: float, on_output: Callable[[bytes], None] | None = None
) -> bytes:
    """Read MASTER until EOF, PROC's exit or TIMEOUT; return all it printed, then close MASTER.

    ``on_output(seen)`` is called after each read with everything so far (e.g. to type an answer).
    """
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            seen += data
            if on_output is not None:
                on_output(seen)
        elif proc.poll() is not None:
            break
    os.close(master)
    return seen
