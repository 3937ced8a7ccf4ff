"""IOStreams: the one place that decides TTY, colour and width."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import IO


@dataclass
class IOStreams:
    """Standard streams plus terminal decisions, overridable for tests."""

    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    stdin_tty: bool = False
    stdout_tty: bool = False
    stderr_tty: bool = False
    no_color: bool = False
    width: int = 80
    environ: dict[str, str] = field(default_factory=dict)

    @classmethod
    def system(cls, environ: dict[str, str] | None = None) -> IOStreams:
        """Wrap the process's streams; UTF-8 with replacement so GBK consoles never crash."""
        env = dict(os.environ if environ is None else environ)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
            except (AttributeError, ValueError):
                pass
        try:
            sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass

        def tty(s: IO[str]) -> bool:
            try:
                return s.isatty()
            except (AttributeError, ValueError):
                return False

        try:
            width = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = 0
        # a pty whose size was never set (CI, `script`, docker exec) reports 0 columns
        if width <= 0:
            columns = env.get("COLUMNS", "")
            width = int(columns) if columns.isdigit() and int(columns) > 0 else 80
        no_color = "NO_COLOR" in env or env.get("TERM") == "dumb"
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_tty=tty(sys.stdin),
            stdout_tty=tty(sys.stdout),
            stderr_tty=tty(sys.stderr),
            no_color=no_color,
            width=width,
            environ=env,
        )

    @classmethod
    def for_test(
        cls,
        stdin: str = "",
        *,
        stdin_tty: bool = False,
        stdout_tty: bool = False,
        stderr_tty: bool = False,
        width: int = 80,
        no_color: bool = False,
    ) -> IOStreams:
        """Build streams backed by StringIO; read them back with ``.stdout.getvalue()``."""
        import io

        return cls(
            stdin=io.StringIO(stdin),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            stdin_tty=stdin_tty,
            stdout_tty=stdout_tty,
            stderr_tty=stderr_tty,
            no_color=no_color,
            width=width,
        )

    def color_stderr(self) -> bool:
        return self.stderr_tty and not self.no_color
