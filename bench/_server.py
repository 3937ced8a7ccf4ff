"""tests/fake_server.py's FakeGLM answering every chat request with a realistic answer from bench/content.py.

Run: python bench/_server.py --port 0 --kind markdown --tokens 20000 [--reasoning-tokens N] [--delay S]
     [--first-byte-delay S]; prints the base URL as its first line (like tests/fake_server.py). Without
--kind it is tests/fake_server.py's `--tokens N` ("tok " × N).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from content import CHARS_PER_TOKEN, answer  # noqa: E402

from tests.fake_server import FakeGLM, Reply, serve_until_stopped  # noqa: E402


class _Forget(set):
    """A set that keeps nothing (the request ids of a million-request run would fill the server's memory)."""

    def add(self, item: object) -> None:
        pass


class ContentGLM(FakeGLM):
    """FakeGLM whose default answer is `content` (and `reasoning`), split into `chunk_size` characters a delta.

    It keeps no record of the requests (a bench sends up to a million), only their count, and prints
    `first-request T` (T: time.monotonic(), the same clock in every process) when the first chat request arrives.
    """

    content: str | None = None
    reasoning: str = ""

    def start(self) -> ContentGLM:
        self.chat_count = 0
        self._used_request_ids = _Forget()
        return super().start()  # type: ignore[return-value]

    def _record(self, rec) -> None:  # noqa: ANN001 - FakeGLM's own signature
        if rec.path.endswith("/chat/completions"):
            with self.lock:
                self.chat_count += 1
                first = self.chat_count == 1
            if first:
                print(f"first-request {time.monotonic():.6f}", flush=True)

    def _answer(self, body, reply, fault=None):  # noqa: ANN001, ANN202 - FakeGLM's own signature
        if reply is None and self.content is not None:
            reply = Reply(content=self.content, reasoning=self.reasoning)
        return super()._answer(body, reply, fault)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--kind", choices=sorted(CHARS_PER_TOKEN))
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--reasoning-tokens", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--first-byte-delay", type=float, default=0.0)
    args = ap.parse_args()
    knobs = dict(delay=args.delay, first_byte_delay=args.first_byte_delay, check_request_ids=False)
    if args.kind:
        knobs.update(
            content=answer(args.kind, args.tokens),
            chunk_size=CHARS_PER_TOKEN[args.kind],
            reasoning=answer("reasoning", args.reasoning_tokens) if args.reasoning_tokens else "",
        )
    else:
        knobs.update(tokens=args.tokens)
    serve_until_stopped(ContentGLM("127.0.0.1", args.port, **knobs))


if __name__ == "__main__":
    main()
