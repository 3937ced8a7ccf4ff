"""What tools cost: a tool round, an MCP server, --schema validation (wall clock, median of N runs).

Run: .venv/bin/python bench/bench_tools.py [--runs N]
Against tests/fake_server.py on 127.0.0.1 (in-process, scripted answers); each figure is printed with
the command that produced it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.fake_server import FakeGLM  # noqa: E402

GLM = str(Path(sys.executable).parent / "glm")
SCHEMA = json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})


def timed(cmd: list[str], env: dict[str, str], runs: int, script) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        script()
        t0 = time.perf_counter()
        subprocess.run(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=True
        )
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    tmp = Path(tempfile.mkdtemp(prefix="glm-bench-tools-"))
    tool = tmp / "weather.yaml"
    tool.write_text(
        json.dumps(
            {
                "name": "weather",
                "parameters": {"type": "object", "properties": {}},
                "command": [sys.executable, "-c", "print('18 C')"],
            }
        )
    )
    mcp = f"{sys.executable} {ROOT / 'tests' / 'mcp_server.py'}"
    with FakeGLM() as srv:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp),
            "XDG_CONFIG_HOME": str(tmp / "cfg"),
            "XDG_DATA_HOME": str(tmp / "data"),
            "GLM_API_KEY": srv.api_key,
            "GLM_BASE_URL": srv.base_url,
        }

        def plain() -> None:
            srv.reply(content="fine", reasoning="")

        def calls(name: str, args: dict):  # noqa: ANN202
            def script() -> None:
                srv.reply(content="", reasoning="", tool_calls=[{"name": name, "arguments": args}])
                srv.reply(content="fine", reasoning="")

            return script

        def valid() -> None:
            srv.reply(content='{"n": 1}', reasoning="")

        cases = [
            ("one answer, no tools", [GLM, "ask", "q"], plain),
            (
                "a command-tool round (2 requests + 1 tool process)",
                [GLM, "ask", "--tool", str(tool), "--yes", "q"],
                calls("weather", {}),
            ),
            (
                "an MCP server (start, list, 1 call, stop)",
                [GLM, "ask", "--mcp", mcp, "--yes", "q"],
                calls("add", {"a": 1, "b": 2}),
            ),
            ("--json", [GLM, "ask", "--json", "q"], valid),
            ("--schema (jsonschema import + validation)", [GLM, "ask", "--schema", SCHEMA, "q"], valid),
        ]
        print(f"median of {runs} runs, wall clock, against tests/fake_server.py on 127.0.0.1")
        for label, cmd, script in cases:
            seconds = timed(cmd, env, runs, script)
            shown = " ".join(c if " " not in c and not c.startswith("{") else repr(c) for c in cmd)
            print(f"{seconds * 1000:7.0f} ms  {label}\n           $ {shown.replace(str(tmp), '$TMP')}")


if __name__ == "__main__":
    main()
