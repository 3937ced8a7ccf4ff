"""Defects found by driving the installed `glm` as a shell user would (ask, chat, history, models, config)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import SLOW, glm_executable


def glm(
    environ: dict[str, str], *args: str, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, input: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*glm_executable(), *args],
        env=environ,
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=None if input is not None else stdin,
        input=input,
        text=True,
        timeout=SLOW,
    )


@pytest.fixture
def offline(tmp_path) -> dict[str, str]:
    """An isolated environment with a fake key and no server (for commands that send nothing)."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "GLM_API_KEY": "fake-key-id.fake-secret-0000",
    }


# --- output that cannot be written: a message and exit 1, never a traceback -------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [["--version"], ["--help"], ["config", "show"], ["models"], ["completion", "bash"], ["ask", "--dry-run", "hi"]],
)
def test_a_full_disk_on_stdout_is_an_io_error_not_a_traceback(offline, args):
    with open("/dev/full", "w") as full:
        p = glm(offline, *args, stdout=full)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "glm: I/O error: No space left on device" in p.stderr


def test_the_answer_to_a_full_disk_is_an_io_error(srv, environ):
    with open("/dev/full", "w") as full:
        p = glm(environ, "ask", "--no-log", "hi", stdout=full)
    assert (p.returncode, p.stderr) == (1, "glm: I/O error: No space left on device\n")


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_or_help_into_a_closed_pipe_is_quiet_success(offline, flag):
    read, write = os.pipe()
    os.close(read)  # the reader (`glm --version | true`) has already gone
    try:
        p = subprocess.run(
            [*glm_executable(), flag], env=offline, stdout=write, stderr=subprocess.PIPE, text=True, timeout=SLOW
        )
    finally:
        os.close(write)
    assert (p.returncode, p.stderr) == (0, "")


# --- config values that only failed later (a traceback, or four retries of a hopeless request) -----------


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("timeout: -1\n", "`timeout` must be more than 0 seconds, got -1"),  # was: ValueError traceback from httpcore
        ("connect_timeout: 0\n", "`connect_timeout` must be more than 0 seconds, got 0"),  # was: 4 ConnectErrors
        ("max_retries: -1\n", "`max_retries` must be 0 or more, got -1"),  # was: silently accepted
        ("proxy: notaurl\n", "`proxy` must be an http://, https://, socks5:// or socks5h:// URL"),  # was: traceback
        ("profiles:\n  p: {base_url: api.z.ai/api/paas/v4}\ndefault_profile: p\n", "`base_url` must be an http://"),
    ],
)
def test_unusable_config_values_are_config_errors_naming_key_and_file(env, yaml_text, message):
    from glm_cli.config import load_settings
    from glm_cli.errors import ConfigError
    from tests.conftest import write_config

    path = write_config(env, yaml_text)
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert message in info.value.message and str(path) in info.value.message
    assert info.value.exit_code == 3


def test_a_base_url_without_scheme_from_the_environment_names_the_variable(env):
    from glm_cli.config import load_settings
    from glm_cli.errors import ConfigError

    with pytest.raises(ConfigError, match=r"got 'ftp://x' \(from env GLM_BASE_URL\)"):
        load_settings({**env, "GLM_BASE_URL": "ftp://x"})


def test_a_negative_timeout_in_the_config_is_exit_3_not_a_traceback(offline):
    cfg = os.path.join(offline["HOME"], "c.yaml")
    with open(cfg, "w") as fh:
        fh.write("timeout: -1\n")
    p = glm({**offline, "GLM_CONFIG": cfg, "GLM_BASE_URL": "http://127.0.0.1:9/api/paas/v4"}, "ask", "--no-log", "hi")
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert p.stderr == f"glm: `timeout` must be more than 0 seconds, got -1 (from config {cfg})\n"


# --- --json-object: what the error's hint promises, and the real reason when the answer was cut ------------------


def test_json_mode_with_output_json_shows_the_raw_answer_it_rejects(srv, environ):
    import json

    srv.reply(content="Sure! Here it is: {oops")
    p = glm(environ, "ask", "--no-log", "--json-object", "--json", "x")
    assert p.returncode == 9
    assert "use --json to see the raw answer" in p.stderr
    record = json.loads(p.stdout)  # the hint says so: the answer that failed, in the record
    assert record["content"] == "Sure! Here it is: {oops" and record["finish_reason"] == "stop"


def test_json_mode_alone_still_prints_nothing_but_valid_json(srv, environ):
    srv.reply(content="not json")
    p = glm(environ, "ask", "--no-log", "--json-object", "x")
    assert (p.returncode, p.stdout) == (9, "")


def test_json_cut_at_max_tokens_says_so_exit_8_not_invalid_json(srv, environ):
    from tests.fake_server import Fault

    srv.reply(content='{"primes": [2, 3,')
    srv.fault(Fault(kind="finish", finish_reason="length"))
    p = glm(environ, "ask", "--no-log", "--json-object", "--max-tokens", "10", "x")
    assert p.returncode == 8
    assert "cut at max_tokens (finish_reason: length)" in p.stderr and "not valid JSON" not in p.stderr
    assert p.stdout == ""


def test_history_search_for_nothing_is_a_usage_error(offline):
    p = glm(offline, "history", "search", "  ")
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.startswith("glm: nothing to search for\n")


def test_config_init_where_it_cannot_write_names_the_file(offline, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    target = blocker / "glm" / "config.yaml"
    p = glm({**offline, "GLM_CONFIG": str(target)}, "config", "init")
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert p.stderr.startswith(f"glm: cannot write {target}: ")


def test_a_max_tokens_from_the_config_names_the_config_not_a_flag(env):
    from glm_cli.catalogue import load_catalogue
    from glm_cli.config import load_settings
    from glm_cli.errors import UsageError
    from glm_cli.request import build_chat_request
    from tests.conftest import write_config

    path = write_config(env, "max_tokens: 99999999\n")
    settings = load_settings(env)
    with pytest.raises(UsageError) as info:
        build_chat_request(settings, [{"role": "user", "content": "hi"}], catalogue=load_catalogue())
    assert info.value.message == f"max_tokens (config {path}) 99999999 is more than glm-4.7 can produce (131072)"
    assert "--max-tokens" not in info.value.message + (info.value.hint or "")
    with pytest.raises(UsageError, match=r"^--max-tokens 99999999 is more"):  # from a flag: the flag's name
        build_chat_request(
            load_settings(env, {"max_tokens": 99999999}),
            [{"role": "user", "content": "hi"}],
            catalogue=load_catalogue(),
        )


# --- closed standard streams (`<&-`, `>&-`): no AttributeError traceback ----------------------------------


def closed(environ: dict[str, str], redirect: str, *args: str) -> subprocess.CompletedProcess:
    """Run glm under bash with a standard stream closed by REDIRECT (e.g. `<&-`)."""
    return subprocess.run(
        ["bash", "-c", f'exec "$@" {redirect}', "_", *glm_executable(), *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=SLOW,
    )


def test_a_closed_stdin_reads_as_empty(srv, environ):
    p = closed(environ, "<&-", "ask", "--no-log", "hi")
    assert (p.returncode, p.stdout, p.stderr) == (0, "Echo: hi\n", "")
    p = closed(environ, "<&-", "ask", "--no-log")
    assert p.returncode == 2 and p.stderr.startswith("glm: no prompt")


def test_a_closed_stdout_is_an_io_error(srv, environ):
    p = closed(environ, ">&-", "ask", "--no-log", "hi")
    assert (p.returncode, p.stderr) == (1, "glm: I/O error: stdout is closed\n")
    p = closed(environ, ">&-", "--version")
    assert (p.returncode, p.stderr) == (1, "glm: I/O error: stdout is closed\n")


def test_history_rm_of_one_conversation_named_twice_deletes_it_once(srv, environ):
    assert glm(environ, "ask", "hi").returncode == 0
    p = glm(environ, "history", "rm", "1", "1")
    assert (p.returncode, p.stderr) == (0, "deleted conversation 1\n")


def test_an_empty_stop_sequence_is_refused_before_sending(offline):
    p = glm(offline, "ask", "--dry-run", "--stop", "", "hi")
    assert (p.returncode, p.stdout, p.stderr) == (2, "", "glm: a --stop sequence must not be empty\n")


# --- completion: --format offers its words, -o offers files --------------------


@pytest.mark.slow
def test_bash_completes_format_words_and_output_files(tmp_path):
    import shutil

    from tests.completion.test_completion_shells import BASH, BIN, COMPLETIONS, parse

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    (tmp_path / "some-file.txt").write_text("")
    env = {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "TERM": "dumb",
        "LANG": "C.UTF-8",
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
    }
    lines = [
        "glm ask --format ",
        "glm ask --format j",
        "glm ask -o so",
        "glm history export 3 --format ",
        "glm batch in.jsonl --format ",
    ]
    out = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", BASH, "bash", str(COMPLETIONS / "glm.bash"), *lines],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    got = parse(out.stdout)
    assert got["glm ask --format "] == {"text", "json"}
    assert got["glm ask --format j"] == {"json"}
    assert got["glm ask -o so"] == {"some-file.txt"}  # -o is a file in every command
    assert got["glm history export 3 --format "] == {"json", "markdown", "md"}
    assert got["glm batch in.jsonl --format "] == {"record", "batch-api"}


def test_config_show_says_how_the_profile_was_chosen(offline, tmp_path):
    import json

    cfg = tmp_path / "c.yaml"
    cfg.write_text("default_profile: a\nprofiles: {a: {}, b: {}}\n", encoding="utf-8")
    env = {**offline, "GLM_CONFIG": str(cfg)}

    def profile(*args: str, **extra: str) -> dict:
        p = glm({**env, **extra}, "config", "show", "--json", *args)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)["profile"]

    assert profile() == {"value": "a", "source": f"default_profile in {cfg}"}
    assert profile(GLM_PROFILE="b") == {"value": "b", "source": "env GLM_PROFILE"}
    assert profile("-P", "a", GLM_PROFILE="b") == {"value": "a", "source": "flag --profile"}
    p = glm(offline, "config", "show", "--json")
    presets = json.loads(p.stdout)["presets"]  # not "config" without a config: only the built-in ones
    assert presets == {"value": ["commit", "explain", "review", "shell", "translate"], "source": "built-in"}


def test_chat_save_with_a_space_prints_a_resume_command_that_works(make_app):
    from glm_cli.commands.chat import ChatOptions, run_chat
    from tests.chat.test_chat import script

    app = make_app()
    run_chat(ChatOptions(no_log=True), app, script("/save design review"))  # no message: nothing is sent
    assert "resume with: glm chat --resume 'design review'" in app.ios.stderr.getvalue()


# --- aliases: a loop, and an alias of an unknown model ---------------------------------------------------


@pytest.mark.parametrize(("aliases", "loop"), [({"a": "b", "b": "a"}, "a -> b -> a"), ({"a": "a"}, "a -> a")])
def test_an_alias_loop_is_a_config_error(aliases, loop):
    from glm_cli.catalogue import load_catalogue
    from glm_cli.errors import ConfigError

    with pytest.raises(ConfigError, match=f"c.yaml: `aliases` loop: {loop}"):  # was: the bare alias sent as a model
        load_catalogue({"aliases": aliases}, where="c.yaml")
    assert load_catalogue({"aliases": {"a": "fast"}}).resolve("a") == "glm-4.7-flashx"  # a chain is fine


def test_models_show_of_an_alias_to_an_unknown_model_names_both(offline, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("aliases: {q: nope}\n", encoding="utf-8")
    p = glm({**offline, "GLM_CONFIG": str(cfg)}, "models", "show", "q")
    assert p.returncode == 2
    assert p.stderr.startswith("glm: 'q' is an alias of 'nope', which is not in the catalogue\n")
    assert "did you mean q" not in p.stderr


def test_chat_with_a_retired_model_is_refused_at_start_like_ask(make_app):
    from glm_cli.commands.chat import ChatOptions, run_chat
    from glm_cli.errors import UsageError
    from tests.chat.test_chat import script

    with pytest.raises(UsageError) as info:  # was: a banner, then the error only after the first message
        run_chat(ChatOptions(model="glm-z1-air"), make_app(), script("hello"))
    assert info.value.message == "model glm-z1-air was retired on 2025-11-15"
    assert info.value.hint == "use -m glm-4.5-air"


def test_chat_resume_with_an_empty_name_is_a_usage_error(make_app):
    from glm_cli.commands.chat import ChatOptions, run_chat
    from glm_cli.errors import UsageError
    from tests.chat.test_chat import script

    app = make_app()
    with pytest.raises(UsageError, match="--resume needs a conversation id or name"):
        run_chat(ChatOptions(resume=""), app, script())
    assert "resumed conversation None" not in app.ios.stderr.getvalue()
