"""A misbehaving MCP server for the tests: raw JSON-RPC on stdin/stdout, no SDK (it starts fast).

Run: python tests/mcp_rogue.py MODE STATE_FILE
  MODE silent:      answers `initialize`, then never answers anything (tools/list hangs)
       hang-call:   answers `initialize` and `tools/list` (one tool, `hang`), never answers tools/call
       stubborn:    like hang-call, and ignores SIGTERM and the end of its stdin (only SIGKILL ends it)
  Any MODE + `+child` (e.g. silent+child) first starts a grandchild that sleeps for ever.
  STATE_FILE gets one line per event: `pid N` (the server), `child N` (the grandchild), then the
  name of each request received (`initialize`, `tools/list`, `tools/call`), so tests wait for a state.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

HANG_TOOL = {"name": "hang", "description": "Never answers.", "inputSchema": {"type": "object", "properties": {}}}


def note(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def answer(msg_id: object, result: dict) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}) + "\n")
    sys.stdout.flush()


def main() -> None:
    mode, state = sys.argv[1], sys.argv[2]
    if mode.endswith("+child"):
        mode = mode.removesuffix("+child")
        child = subprocess.Popen(
            [sys.executable, "-c", "import time\nwhile True: time.sleep(3600)"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        note(state, f"child {child.pid}")
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    note(state, f"pid {os.getpid()}")
    for line in sys.stdin:
        msg = json.loads(line)
        method = msg.get("method", "")
        if "id" not in msg:  # a notification
            continue
        note(state, method)
        if method == "initialize":
            answer(
                msg["id"],
                {
                    "protocolVersion": msg["params"]["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "rogue", "version": "0"},
                },
            )
        elif method == "tools/list" and mode != "silent":
            answer(msg["id"], {"tools": [HANG_TOOL]})
    while mode == "stubborn":  # stdin ended: a well-behaved server would exit now
        time.sleep(3600)


if __name__ == "__main__":
    main()
