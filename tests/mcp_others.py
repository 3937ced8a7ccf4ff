"""An MCP server for tests of MCP "as it is really used": raw JSON-RPC on stdin/stdout, no SDK (it starts fast).

Run: python tests/mcp_others.py STATE_FILE [LABEL]
  STATE_FILE gets one line per event: `initialize {params as JSON}`, then the name of each request.
  Tools:  env        the server's environment, as a JSON object
          same       answers LABEL (two copies with different labels clash on this name)
          progress   sends two progress notifications (when the call has a progressToken) and a log
                     message, then answers "done"
          needs_task declares `execution.taskSupport: "required"`; a plain call is refused
"""

from __future__ import annotations

import json
import os
import sys

EMPTY = {"type": "object", "properties": {}}
TOOLS = [
    {"name": "env", "description": "Return this server's environment as JSON.", "inputSchema": EMPTY},
    {"name": "same", "description": "Say which server answers.", "inputSchema": EMPTY},
    {"name": "progress", "description": "Report progress, log, then answer.", "inputSchema": EMPTY},
    {
        "name": "needs_task",
        "description": "Only runs as a task.",
        "inputSchema": EMPTY,
        "execution": {"taskSupport": "required"},
    },
]


def note(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def send(msg: dict) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", **msg}) + "\n")
    sys.stdout.flush()


def text(value: str) -> dict:
    return {"content": [{"type": "text", "text": value}]}


def call(params: dict, label: str) -> dict:
    name = params.get("name")
    if name == "env":
        return text(json.dumps(dict(os.environ)))
    if name == "same":
        return text(label)
    if name == "progress":
        token = (params.get("_meta") or {}).get("progressToken")
        if token is not None:
            for done in (1, 2):
                send(
                    {
                        "method": "notifications/progress",
                        "params": {"progressToken": token, "progress": done, "total": 2, "message": f"step {done}"},
                    }
                )
        send(
            {
                "method": "notifications/message",
                "params": {"level": "info", "logger": "others", "data": "indexing the files"},
            }
        )
        return text("done")
    return {"content": [{"type": "text", "text": f"{name} needs task mode"}], "isError": True}


def main() -> None:
    state, label = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "others")
    for line in sys.stdin:
        msg = json.loads(line)
        method = msg.get("method", "")
        if "id" not in msg:  # a notification
            continue
        if method == "initialize":
            note(state, "initialize " + json.dumps(msg["params"]))
            send(
                {
                    "id": msg["id"],
                    "result": {
                        "protocolVersion": msg["params"]["protocolVersion"],
                        "capabilities": {"tools": {}, "logging": {}},
                        "serverInfo": {"name": "others", "version": "0"},
                    },
                }
            )
            continue
        note(state, method)
        if method == "tools/list":
            send({"id": msg["id"], "result": {"tools": TOOLS}})
        elif method == "tools/call":
            send({"id": msg["id"], "result": call(msg.get("params") or {}, label)})
        else:
            send({"id": msg["id"], "error": {"code": -32601, "message": f"no method {method}"}})


if __name__ == "__main__":
    main()
