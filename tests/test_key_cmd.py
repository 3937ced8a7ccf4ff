"""api_key_cmd that cannot run: a clear message naming the program and where it is set (exit 4), never a
bare Python exception name."""

from __future__ import annotations

import pytest
import typer

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.commands.common import run_command
from tests.conftest import write_config


def ask(make_app, env) -> tuple[int, str]:
    app = make_app(environ={k: v for k, v in env.items() if k != "GLM_API_KEY"})
    with pytest.raises(typer.Exit) as exc:
        run_command(run_ask, AskOptions(prompt=("hi",), no_log=True), app)
    return exc.value.exit_code, app.ios.stderr.getvalue()


def test_a_missing_program_is_named_with_a_hint(make_app, env):
    path = write_config(env, "api_key_cmd: no-such-key-program-zz --field key\n")
    code, err = ask(make_app, env)
    assert (code, err) == (
        4,
        f"glm: api_key_cmd (config {path}): program 'no-such-key-program-zz' not found\n"
        "hint: install it, or give its full path in api_key_cmd\n",
    )


def test_a_program_that_cannot_be_run_says_so(make_app, env, tmp_path):
    script = tmp_path / "key.sh"
    script.write_text("#!/bin/sh\necho fake-canary-key-0000\n")
    script.chmod(0o600)  # not executable
    path = write_config(env, f"profiles:\n  p:\n    api_key_cmd: [{script}]\ndefault_profile: p\n")
    code, err = ask(make_app, env)
    assert (code, err) == (
        4,
        f"glm: api_key_cmd (profile p ({path})): program '{script}' cannot be run (permission denied)\n"
        "hint: check its mode: chmod +x\n",
    )


def test_an_empty_command_is_named(make_app, env):
    path = write_config(env, "api_key_cmd: '  '\n")  # was: an IndexError
    code, err = ask(make_app, env)
    assert (code, err) == (
        4,
        f"glm: api_key_cmd (config {path}) is empty\n"
        "hint: set it to the command that prints the key, e.g. pass show glm\n",
    )
