"""Input has a bound: stdin, --file and the config file stop at one with a clear error, a YAML alias bomb or
deep nesting in the config is a config error, and undecodable bytes in any argument become U+FFFD."""

from __future__ import annotations

import json
import resource
import subprocess

import pytest

from glm_cli.errors import CONFIG, NETWORK, USAGE
from tests.conftest import glm_executable, write_config

MEMORY_CAP = 512 * 1024 * 1024  # a bound that an unbounded read of /dev/zero hits within a second or two


def capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run(args: list, environ: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:
    if "input" not in kwargs:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [*glm_executable(), *args], env=environ, capture_output=True, text=True, timeout=60, preexec_fn=capped, **kwargs
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr and "Error:" not in done.stderr, done.stderr
    return done.stderr.splitlines()[0]


# ---- 7. input read without a limit


def test_stdin_from_dev_zero_stops_at_the_context_bound(env):
    with open("/dev/zero", "rb") as zero:
        done = run(["ask", "--no-log", "hi"], env, stdin=zero)
    assert done.returncode == USAGE and done.stdout == ""
    assert one_line_error(done) == (
        "glm: stdin is more than 1,228,806 characters: more than glm-4.7's context window of 204,800 tokens"
    )


def test_the_bound_is_the_models_own(env):
    with open("/dev/zero", "rb") as zero:
        done = run(["ask", "--no-log", "-m", "air", "hi"], env, stdin=zero)
    assert done.returncode == USAGE and "context window of 131,072 tokens" in done.stderr


def test_file_from_dev_zero_stops(env):
    done = run(["ask", "--no-log", "-f", "/dev/zero", "hi"], env)
    assert done.returncode == USAGE
    assert one_line_error(done) == "glm: --file /dev/zero looks binary; only text files can be attached"


def test_an_endless_text_file_stops_at_the_bound(env):
    yes = subprocess.Popen(["yes", "a long line of text"], stdout=subprocess.PIPE)
    try:
        done = run(["ask", "--no-log", "--no-stdin", "-f", "/dev/stdin", "hi"], env, stdin=yes.stdout)
    finally:
        yes.kill()
        yes.wait()
    assert done.returncode == USAGE
    assert one_line_error(done).startswith("glm: --file /dev/stdin is more than 1,228,806 characters")


def test_an_input_just_under_the_bound_is_read_whole(env):
    done = run(["ask", "--dry-run", "hi"], env, input="é" * 1_228_000)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["messages"][-1]["content"] == "hi\n\n" + "é" * 1_228_000


def test_a_config_file_linked_to_dev_zero_is_refused(env):
    path = write_config(env, "")
    path.unlink()
    path.symlink_to("/dev/zero")
    done = run(["config", "show"], env)
    assert done.returncode == CONFIG
    assert one_line_error(done) == f"glm: config file {path} is larger than 1 MiB; is it the right file?"


# ---- 8. YAML alias bombs and deep nesting

BOMB = (
    "aliases:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"  {n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    + "temperature: *i\n"
)


@pytest.mark.parametrize("args", [["config", "show"], ["ask", "--no-log", "--dry-run", "hi"]])
def test_an_alias_bomb_is_a_config_error(env, args):
    path = write_config(env, BOMB)
    done = run(args, env)
    assert done.returncode == CONFIG
    assert one_line_error(done) == (f"glm: {path}: too many values once YAML aliases are expanded (more than 100,000)")


def test_deep_nesting_is_a_config_error(env):
    path = write_config(env, "x: " + "[" * 100_000 + "]" * 100_000 + "\n")
    done = run(["config", "show"], env)
    assert done.returncode == CONFIG
    assert one_line_error(done) == f"glm: {path}: line 1, column 103: nested deeper than 100 levels"


def test_deep_nesting_through_aliases_is_a_config_error(env):
    deep = "[" * 60 + "]" * 60
    path = write_config(env, f"a: &a {deep}\nb: &b [{'[' * 59}*a{']' * 59}]\nmodel: *b\n")
    done = run(["config", "show"], env)
    assert done.returncode == CONFIG
    assert one_line_error(done) == f"glm: {path}: nested deeper than 100 levels once YAML aliases are expanded"


def test_a_recursive_alias_is_a_config_error(env):
    path = write_config(env, "model: &m [*m]\n")
    done = run(["config", "show"], env)
    assert done.returncode == CONFIG
    assert one_line_error(done) == f"glm: {path}: a YAML alias refers to itself"


def test_ordinary_anchors_and_merge_keys_still_work(env):
    write_config(
        env,
        "base: &base {model: glm-4.6, temperature: 0.2}\n".replace("base: ", "profiles:\n  base: ")
        + "  work:\n    <<: *base\n    max_tokens: 100\ndefault_profile: work\n",
    )
    done = run(["config", "show", "--json"], env)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["model"]["value"] == "glm-4.6" and shown["max_tokens"]["value"] == 100


# ---- 13. undecodable bytes in arguments


def dry_run_body(env: dict[str, str], *args: bytes | str) -> dict:
    done = run(["ask", "--no-log", "--dry-run", *args], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_undecodable_prompt_becomes_u_fffd(env):
    body = dry_run_body(env, b"caf\xe9 \xff")
    assert body["messages"][-1]["content"] == "caf\ufffd \ufffd"


def test_an_undecodable_system_prompt_becomes_u_fffd(env):
    body = dry_run_body(env, "-s", b"be \xff", "hi")
    assert body["messages"][0] == {"role": "system", "content": "be \ufffd"}


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        (["ask", "--no-log", b"\xff"], NETWORK, None),  # it got as far as sending (to a closed local port)
        (["ask", "--no-log", "-m", b"\xff", "hi"], NETWORK, None),
        (["ask", "--no-log", "--stop", b"\xff", "--dry-run", "hi"], 0, '"stop": [\n    "\ufffd"'),
        (["config", "show", "--profile", b"\xff"], CONFIG, "unknown profile '\ufffd'"),
        (["history", "search", b"\xff"], 0, None),
        (["history", "show", b"\xff"], None, "\ufffd"),
        (["models", "show", b"\xff"], None, "\ufffd"),
        (["batch", b"/nonexistent/\xff.jsonl"], None, "\ufffd.jsonl"),
        (["chat", "--no-such-flag", b"\xff"], USAGE, None),
        ([b"\xff"], NETWORK, None),  # `glm WORDS` is `glm ask WORDS`: it got as far as sending, like ask above
    ],
)
def test_every_command_takes_undecodable_arguments(env, tmp_path, args, code, shown):
    config = tmp_path / "retries.yaml"
    config.write_text("max_retries: 0\n")
    environ = {**env, "GLM_BASE_URL": "http://127.0.0.1:9/v4", "GLM_CONFIG": str(config)}
    done = run(args, environ)
    text = done.stdout + done.stderr
    assert "Traceback" not in text and "UnicodeEncodeError" not in text and "\\udcff" not in text
    assert done.returncode != 1 or "glm: " in done.stderr
    if code is not None:
        assert done.returncode == code, text
    if shown is not None:
        assert shown in text


def test_a_tool_file_alias_bomb_is_a_usage_error(env, tmp_path):
    tool = tmp_path / "tool.yaml"
    tool.write_text(
        "name: t\ndescription: d\ncommand: [echo]\nparameters:\n  type: object\n  x-"
        + BOMB.replace("\n  ", "\n    ").replace("temperature: *i", "  z: *i")
    )
    done = run(["ask", "--dry-run", "--tool", str(tool), "hi"], env)
    assert done.returncode == USAGE
    assert one_line_error(done) == (
        f"glm: tool file {tool}: too many values once YAML aliases are expanded (more than 100,000)"
    )


@pytest.mark.parametrize(
    ("name", "flag", "message"),
    [
        ("deep.json", "--tool", "JSON nested too deep"),
        ("deep.yaml", "--tool", "line 1, column 101: nested deeper than 100 levels"),
        ("deep.json", "--schema", "JSON nested too deep"),
    ],
)
def test_a_deeply_nested_tool_or_schema_file_is_a_usage_error(env, tmp_path, name, flag, message):
    path = tmp_path / name
    path.write_text("[" * 100_000 + "]" * 100_000)
    done = run(["ask", "--dry-run", flag, str(path), "hi"], env)
    assert done.returncode == USAGE
    assert one_line_error(done).endswith(f"{path}: {message}")
