"""Function tools: tool files (YAML/JSON) checked against GLM's rules, and running one as a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glm_cli import children
from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.config import Settings

TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # zhipu-api.md §2.3
MAX_TOOLS = 128
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_OUTPUT = 64 * 1024  # bytes of a tool's stdout sent back to the model
TOOL_FILE_KEYS = {
    "name": "the function name the model calls (letters, digits, _ and -, at most 64)",
    "description": "what the tool does, for the model",
    "parameters": "JSON Schema of the arguments (an object schema)",
    "command": "argv list run without a shell; the arguments arrive as JSON on stdin",
    "timeout": "seconds before the tool is killed (default 30)",
    "max_output": "bytes of stdout kept (default 65536)",
}


@dataclass(frozen=True)
class ToolSpec:
    """One tool the model may call: its API declaration and how glm runs it."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    command: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    max_output: int = DEFAULT_MAX_OUTPUT
    source: str = ""  # where it was declared, for messages
    server: str | None = None  # the MCP server that serves it (None: a command tool)
    remote_name: str | None = None  # the MCP server's own name for it

    def to_api(self) -> dict[str, Any]:
        """Return the `tools[]` entry sent to GLM."""
        fn: dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            fn["description"] = self.description
        return {"type": "function", "function": fn}


@dataclass(frozen=True)
class ToolResult:
    """What a tool run gave: the text for the model, and whether it failed."""

    content: str
    ok: bool = True
    error: str | None = None  # one line for the user when it failed


def check_parameters(params: Any, where: str) -> dict[str, Any]:
    """Return a function's parameters schema, or raise UsageError saying what is wrong with it."""
    if params is None:
        return {"type": "object", "properties": {}}
    if not isinstance(params, dict):
        raise UsageError(f"{where}: `parameters` must be a JSON Schema object (a mapping)")
    if params.get("type", "object") != "object":
        raise UsageError(f"{where}: `parameters` must have type: object, got {params.get('type')!r}")
    props = params.get("properties", {})
    if not isinstance(props, dict) or not all(isinstance(v, dict) for v in props.values()):
        raise UsageError(f"{where}: `parameters.properties` must map each argument name to a schema")
    required = params.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise UsageError(f"{where}: `parameters.required` must be a list of argument names")
    missing = [r for r in required if r not in props]
    if missing:
        raise UsageError(f"{where}: `parameters.required` names {', '.join(missing)}, not in properties")
    return {"type": "object", **params}


def check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        raise UsageError(
            f"{where}: tool name {name!r} is not allowed",
            "GLM accepts 1-64 letters, digits, _ and - (^[a-zA-Z0-9_-]{1,64}$)",
        )
    return name


def _positive(value: Any, key: str, where: str, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise UsageError(f"{where}: `{key}` must be a positive number, got {value!r}")
    return value


def tool_from_dict(data: Any, where: str, base: Path) -> ToolSpec:
    """Build one tool from a tool file's mapping; relative command paths are relative to the file."""
    if not isinstance(data, dict):
        raise UsageError(f"{where}: a tool must be a mapping with name, description, parameters and command")
    if "function" in data and "name" not in data:  # the API shape {"type": "function", "function": {...}}
        data = {**data["function"], **{k: v for k, v in data.items() if k not in ("function", "type")}}
    unknown = sorted(set(data) - set(TOOL_FILE_KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}", "known keys: " + ", ".join(TOOL_FILE_KEYS))
    name = check_name(data.get("name"), where)
    where = f"{where} (tool {name})"
    desc = data.get("description") or ""
    if not isinstance(desc, str):
        raise UsageError(f"{where}: `description` must be a string")
    command = data.get("command")
    if isinstance(command, str):
        raise UsageError(
            f"{where}: `command` must be a list (argv, no shell), got a string",
            f"write it as a list, e.g. command: {json.dumps(command.split())}",
        )
    if not isinstance(command, list) or not command:
        raise UsageError(f"{where}: `command` must be a non-empty list of strings (argv, run without a shell)")
    argv = [_argv_item(a, i, where) for i, a in enumerate(command)]
    if ("/" in argv[0] or argv[0].startswith(".")) and not Path(argv[0]).expanduser().is_absolute():
        argv[0] = str((base / argv[0]).resolve())
    # `command: [python3, ./weather.py]`: an argument written ./x or ../x is relative to the file too.
    argv[1:] = [str((base / a).resolve()) if a.startswith(("./", "../")) else a for a in argv[1:]]
    return ToolSpec(
        name=name,
        description=desc,
        parameters=check_parameters(data.get("parameters"), where),
        command=tuple(argv),
        timeout=float(_positive(data.get("timeout"), "timeout", where, DEFAULT_TIMEOUT)),
        max_output=int(_positive(data.get("max_output"), "max_output", where, DEFAULT_MAX_OUTPUT)),
        source=where,
    )


def _argv_item(value: Any, index: int, where: str) -> str:
    """Return one argv element: a string (YAML keeps them as written), or an integer as JSON wrote it."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (bool, float)) or value is None:
        shown = json.dumps(value)
        raise UsageError(
            f"{where}: `command` element {index + 1} is {shown}, not a string",
            f"quote it to pass it as written: {json.dumps(shown)}",
        )
    raise UsageError(f"{where}: `command` element {index + 1} is a {type(value).__name__}, not a string")


def parse_json_or_yaml(text: str, what: str, *, json_only: bool = False, as_written: tuple[str, ...] = ()) -> Any:
    """Parse JSON (or YAML, a superset) text; raise UsageError naming `what` when it is neither."""
    try:
        return json.loads(text)
    except RecursionError:  # JSON is YAML: the YAML parser below refuses it with its line and column
        if json_only:
            raise UsageError(f"{what}: JSON nested too deep") from None
    except ValueError as exc:
        if json_only:
            raise UsageError(f"{what}: invalid JSON: {exc}") from None
    from glm_cli.safe_yaml import YamlError, load_yaml

    try:
        return load_yaml(text, as_written)  # bounded: an alias bomb or deep nesting is an error, not a hang
    except YamlError as exc:
        raise UsageError(f"{what}: {exc}") from None


def load_tool_file(path: str | Path) -> list[ToolSpec]:
    """Read a tool file: one tool, a list of tools, or a mapping with a `tools:` list (YAML or JSON)."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read tool file {path}: {exc.strerror or exc}") from None
    # `command: [echo, yes, 010]` runs `echo yes 010`, not `echo True 8`: argv is kept as written
    data = parse_json_or_yaml(text, f"tool file {path}", json_only=p.suffix.lower() == ".json", as_written=("command",))
    if isinstance(data, dict) and "tools" in data and "name" not in data:
        data = data["tools"]
    items = data if isinstance(data, list) else [data]
    if not items:
        raise UsageError(f"tool file {path} declares no tool")
    return [
        tool_from_dict(item, f"{path}" + (f"[{i}]" if len(items) > 1 else ""), p.parent) for i, item in enumerate(items)
    ]


def check_tools(tools: Iterable[ToolSpec]) -> list[ToolSpec]:
    """Refuse duplicate names and more than GLM's 128 functions."""
    out: list[ToolSpec] = []
    seen: dict[str, ToolSpec] = {}
    for tool in tools:
        if tool.name in seen:
            raise UsageError(
                f"two tools are named {tool.name!r}: {seen[tool.name].source} and {tool.source}",
                "rename one, or limit an MCP server's tools with `tools:` in its config",
            )
        seen[tool.name] = tool
        out.append(tool)
    if len(out) > MAX_TOOLS:
        raise UsageError(f"{len(out)} tools given; GLM accepts at most {MAX_TOOLS}")
    return out


def withheld_vars(settings: Settings | None = None) -> frozenset[str]:
    """Return the variables no tool or MCP server gets: glm's key variables, `api_key_env`, `env_withhold`."""
    from glm_cli.config import KEY_ENV_VARS

    drop = set(KEY_ENV_VARS)
    if settings is not None:
        if settings.api_key_env:
            drop.add(settings.api_key_env)
        drop.update(settings.env_withhold or ())
    return frozenset(drop)


def tool_environ(environ: dict[str, str], settings: Settings | None = None) -> dict[str, str]:
    """Return the environment for a tool process: the user's, without any API key variable (or one withheld)."""
    drop = withheld_vars(settings)
    return {k: v for k, v in environ.items() if k not in drop}


def run_command_tool(tool: ToolSpec, arguments: str, environ: dict[str, str]) -> ToolResult:
    """Run a command tool: argv without a shell, arguments JSON on stdin, stdout is the result.

    The tool runs in a process group of its own, killed when the call ends: whatever it started ends with it
    (Ctrl-C at the terminal reaches only glm, which then kills the group).
    """
    try:
        proc = subprocess.Popen(
            list(tool.command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environ,
            start_new_session=True,
        )
    except OSError as exc:
        msg = f"cannot run {tool.command[0]}: {exc.strerror or exc}"
        return ToolResult(f"error: {msg}", ok=False, error=msg)
    children.track(proc.pid)
    try:
        out, err = _Capped(proc.stdout, tool.max_output), _Capped(proc.stderr, 4096)
        # Written from a thread: a tool that never reads stdin must still meet its timeout. A lone surrogate
        # (inside a JSON string: the model sent "\ud800") goes as that same JSON escape.
        data = arguments.encode("utf-8", errors="backslashreplace")
        threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True).start()
        try:
            code = proc.wait(timeout=tool.timeout)
        except subprocess.TimeoutExpired:
            code = None
    finally:  # a timeout, Ctrl-C, SIGTERM, or a grandchild still running after the tool exited
        children.kill(proc.pid)
        if proc.poll() is None:  # no process groups (Windows)
            proc.kill()
        proc.wait()
    out.join()
    err.join()
    if code is None:
        msg = f"timed out after {tool.timeout:g}s"
        return ToolResult(f"error: the tool {msg}", ok=False, error=msg)
    text = out.text().rstrip("\n")
    if code != 0:
        detail = err.text().strip().splitlines()
        msg = f"exited with status {code}" + (f": {detail[-1]}" if detail else "")
        return ToolResult(f"error: the tool {msg}" + (f"\n{text}" if text else ""), ok=False, error=msg)
    return ToolResult(text)


def _feed(pipe: Any, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except OSError:  # the tool exited without reading its arguments: fine
        pass


class _Capped:
    """Drain a pipe in a thread, keeping only the first `cap` bytes (the tool never blocks on a full pipe)."""

    def __init__(self, pipe: Any, cap: int) -> None:
        self.pipe, self.cap, self.kept, self.dropped = pipe, cap, bytearray(), 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        try:
            while chunk := self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(65536):
                room = self.cap - len(self.kept)
                self.kept += chunk[: max(room, 0)]
                self.dropped += max(len(chunk) - max(room, 0), 0)
        except (OSError, ValueError):
            pass

    def join(self) -> None:
        self.thread.join(5)

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[output truncated: {self.dropped:,} more bytes]"
        return text
