"""Every example in the README runs as printed on a fresh install (issue 13 item 10).

Each `glm` line of the README's ```sh blocks (and each alias, used once) runs in bash against
tests/fake_server.py, in a fresh HOME with no config and no history: only GLM_API_KEY (fake) and GLM_BASE_URL are
set. The input files the examples name (notes.md, prompts.jsonl, screenshot.png…) are made in the working
directory first. An example exits 0 unless its entry below says otherwise. `glm chat` and tool approval run on a
pseudo-terminal. The few examples that cannot run here are listed in OFFLINE with the reason; placeholders
(BATCH_ID, a conversation id or name) are made by a setup step and put in.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from glm_cli.presets import BUILTIN_PRESETS
from tests.conftest import ROOT, SLOW, glm_executable

README = (ROOT / "README.md").read_text(encoding="utf-8")
GLM_CALL = re.compile(r"(?:^|[|;&(]\s*|\bdo\s+|<\()glm\s|^alias \w+='[^']*\bglm\s")


def readme_examples() -> list[str]:
    """The shell lines of the README's ```sh blocks that run `glm` (comment lines left out; ` · ` separates)."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            for part in re.split(r"\s+·\s+", line.strip()):
                if GLM_CALL.search(part) and not part.startswith("#"):
                    found.append(part)
    return found


EXAMPLES = readme_examples()


def png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg(width: int = 4, height: int = 3) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return (
        b"\xff\xd8\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + sof
        + b"\xff\xd9"
    )


WEATHER_TOOL = """\
name: weather
description: Current weather for a city
parameters:
  type: object
  properties:
    city: {type: string}
  required: [city]
command: [python3, ./weather.py]
"""
FILES: dict[str, str | bytes] = {
    "notes.md": "# Notes\n\nThe meeting moved to Thursday.\n",
    "README.md": "# demo\n\nA small project.\n",
    "main.py": "def add(a, b):\n    return a - b\n",
    "test_main.py": "from main import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    "urls.txt": "https://example.com/a\nhttps://example.com/b\n",
    "prompts.jsonl": '{"id": "q1", "prompt": "hello"}\n{"id": "q2", "prompt": "what is 2+2?"}\n',
    "prompts.txt": "first text\nsecond text\n",
    "rows.jsonl": '{"id": "r1", "prompt": "a pen for 2 euros"}\n{"id": "r2", "prompt": "a cup for 3 euros"}\n',
    "item.schema.json": json.dumps(
        {"type": "object", "required": ["item"], "properties": {"item": {"type": "string"}}}
    ),
    "person.schema.json": json.dumps(
        {"type": "object", "required": ["name", "born"], "properties": {"name": {}, "born": {"type": "integer"}}}
    ),
    "doc.txt": "A document to embed.\n",
    "docs.jsonl": '"first document"\n{"id": "d2", "text": "second document"}\n',
    "docs.txt": "first document\nsecond document\n",
    "tools/weather.yaml": WEATHER_TOOL,
    "tools/weather.py": "import json, sys\nprint(json.load(sys.stdin)['city'] + ': sunny, 21 C')\n",
    "screenshot.png": png(),
    "error.png": png(),
    "diagram.jpg": jpeg(),
}


@dataclass(frozen=True)
class World:
    """A fresh install: a HOME with nothing in it, a working directory with the example files, the fake server."""

    srv: object
    cwd: Path
    env: dict[str, str]

    def glm(self, *args: str, stdin: str = "") -> str:
        out = subprocess.run(
            [*glm_executable(), *args], cwd=self.cwd, env=self.env, input=stdin, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return out.stdout


@dataclass(frozen=True)
class Spec:
    """How an example runs: its answers, its stdin, a setup step, the exit code the README documents."""

    replies: tuple[dict, ...] = ()  # queued on the fake server (else it echoes the prompt)
    stdin: str | None = None  # None: /dev/null
    then: str = ""  # for an alias: the line that uses it
    terminal: tuple[tuple[str, str], ...] = ()  # on a pty: (wait for this, then type that), then the end
    setup: Callable[[World], dict[str, str]] | None = None  # returns placeholder -> value
    exit: int = 0


def _submitted(world: World) -> dict[str, str]:
    out = world.glm("batch", "submit", "prompts.jsonl")
    return {"BATCH_ID": re.findall(r"batch_\S+", out)[-1]}


def _done_batch(world: World) -> dict[str, str]:
    world.srv.batch_steps_per_status = 0  # type: ignore[attr-defined]  # the first status check finds it done
    return _submitted(world)


def _conversation(world: World) -> dict[str, str]:
    world.glm("ask", "a first question")
    return {"42": "1"}  # the README's id stands for the one of a conversation of yours: here the first


def _named_conversation(world: World) -> dict[str, str]:
    from glm_cli.store import Store, default_path

    world.glm("ask", "the plan for the project")
    with Store.open(default_path(world.env)) as store:  # what /save project-notes does in glm chat
        store.rename(1, "project-notes")
    return {}


FENCED = {"content": "```bash\nls -la\n```\nLists the files."}
CHAT = (("glm>", "\x04"),)  # the prompt, then Ctrl-D
SPECS: dict[str, Spec] = {
    'glm ask -x --no-think "one bash command': Spec(replies=(FENCED,), then='howto "lists the files"'),
    "alias gc=": Spec(then="gc"),
    "alias zh=": Spec(then="zh < notes.md"),
    "alias q=": Spec(then='q "what is an inode?"'),
    "glm ask -x -p shell": Spec(replies=(FENCED,)),
    "glm ask --json-object": Spec(replies=({"content": '{"primes": [2, 3, 5]}'},)),
    "glm ask --schema person.schema.json": Spec(replies=({"content": '{"name": "Ada Lovelace", "born": 1815}'},)),
    "glm batch rows.jsonl -o out.jsonl --schema": Spec(replies=({"content": '{"item": "pen"}'},) * 2),
    "glm ask --tool tools/weather.yaml": Spec(
        replies=({"content": "", "tool_calls": [{"name": "weather", "arguments": {"city": "Florence"}}]}, {}),
        terminal=((r"\[y\]es", "y\r"),),
    ),
    "glm ask --resume project-notes": Spec(setup=_named_conversation),
    "glm chat --resume 42": Spec(setup=_conversation, terminal=CHAT),
    "glm chat -c": Spec(setup=_conversation, terminal=CHAT),
    "glm chat": Spec(terminal=CHAT),  # every other `glm chat …` line
    "glm batch status BATCH_ID": Spec(setup=_submitted),
    "glm batch cancel BATCH_ID": Spec(setup=_submitted),
    "glm batch fetch BATCH_ID": Spec(setup=_done_batch),
    "glm auth login": Spec(stdin="fake-key-id.fake-secret-0000\n"),
}
OFFLINE = {
    '--mcp "npx -y @modelcontextprotocol/server-filesystem': "downloads an MCP server from the npm registry",
    "glm chat --mcp-server files": "needs the `files` server of the config shown below, and npm",
    "glm models | fzf": "fzf is an interactive picker",
    'glm completion zsh > "${fpath[1]}/_glm"': "zsh syntax (its $fpath), and it writes into the shell's own folders",
}


def spec_of(example: str) -> Spec:
    keys = [key for key in SPECS if key in example]
    return SPECS[max(keys, key=len)] if keys else Spec()  # the most specific entry


@pytest.fixture
def world(srv, tmp_path: Path) -> World:
    cwd, home = tmp_path / "work", tmp_path / "home"
    for name, body in FILES.items():
        path = cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
    (home / ".config" / "fish" / "completions").mkdir(parents=True)  # fish makes it when it first runs
    env = {
        "PATH": f"{Path(glm_executable()[0]).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "GLM_API_KEY": srv.api_key,
        "GLM_BASE_URL": srv.base_url,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return World(srv, cwd, env)


def make_git_repo(world: World) -> None:
    """The working directory as a git repository on `main` with a staged change and one not staged."""
    cwd, env = world.cwd, world.env
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=cwd, env=env, check=True)
    subprocess.run([*git, "add", "main.py"], cwd=cwd, env=env, check=True)
    subprocess.run([*git, "commit", "-qm", "first"], cwd=cwd, env=env, check=True)
    (cwd / "main.py").write_text("def add(a, b):\n    return a + b\n")
    subprocess.run([*git, "add", "main.py"], cwd=cwd, env=env, check=True)
    (cwd / "main.py").write_text("def add(a: int, b: int) -> int:\n    return a + b\n")


def test_the_readme_examples_are_found():
    assert len(EXAMPLES) > 60
    for key in [*SPECS, *OFFLINE]:  # an entry whose example left the README is noticed
        assert any(key in example for example in EXAMPLES), key
    assert len(OFFLINE) <= 4  # the exceptions stay few


def test_the_readme_shows_the_builtin_presets_as_they_are():
    block = re.search(r"\*\*Built-in presets\.\*\*.*?```yaml\n(.*?)```", README, re.S)
    assert block is not None
    assert yaml.safe_load(block.group(1)) == {"presets": BUILTIN_PRESETS}


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES)
def test_readme_example_runs_on_a_fresh_install(example, world):
    reason = next((why for key, why in OFFLINE.items() if key in example), None)
    if reason:
        pytest.skip(reason)
    for tool in re.findall(r"\|\s*(jq|fzf)\b", example):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    spec = spec_of(example)
    line = example
    if re.search(r"\bgit\b", line):
        make_git_repo(world)
    if spec.setup is not None:
        for placeholder, value in spec.setup(world).items():
            line = re.sub(rf"\b{re.escape(placeholder)}\b", value, line)
    for reply in spec.replies:
        world.srv.reply(**{"reasoning": "", **reply})  # type: ignore[attr-defined]
    script = f"set -o pipefail\nshopt -s expand_aliases\n{line}\n{spec.then}\n"
    if spec.terminal:
        code, output = on_terminal(script, world, spec.terminal)
    else:
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=world.cwd,
            env=world.env,
            input=spec.stdin,
            stdin=None if spec.stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SLOW,
        )
        code, output = done.returncode, done.stdout + done.stderr
    assert code == spec.exit, f"{line!r} exited {code}:\n{output}"
    assert "Traceback" not in output


def on_terminal(script: str, world: World, steps: tuple[tuple[str, str], ...]) -> tuple[int, str]:
    pexpect = pytest.importorskip("pexpect")
    env = {**world.env, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        "bash", ["-c", script], cwd=str(world.cwd), env=env, encoding="utf-8", timeout=SLOW, dimensions=(40, 100)
    )
    child.delaybeforesend = None
    for wait, answer in steps:
        child.expect(wait)
        child.send(answer)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0), child.before or ""


def test_a_fresh_install_has_no_config_and_no_history(world):
    home = Path(world.env["HOME"])
    assert [p for p in home.rglob("*") if p.is_file()] == []
    assert not {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "GLM_CONFIG"} & set(world.env)
