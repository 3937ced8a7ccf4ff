"""Shell completions: the checked-in scripts match the app, the generator follows new commands, and
`glm __complete` answers from local data without Typer."""

from __future__ import annotations

import subprocess
import sys
from typing import Annotated

import pytest
import typer

from glm_cli.cli import build_command
from glm_cli.completion.gen import FLAG, REGENERATE, SHELLS, command_specs, generate
from glm_cli.completion.values import values
from tests.conftest import ROOT, glm_executable, write_config

ROOT_CMD = build_command()

BUILTIN = ["commit", "translate", "review", "explain", "shell"]  # glm_cli/presets.py
CONFIG = """\
default_profile: work
aliases:
  quick: glm-4.7-flashx
models:
  my-model:
    context: 8192
presets:
  commit:
    description: conventional commit message from a diff
  translate:
    system: Translate the user's text into Simplified Chinese.
profiles:
  work:
    endpoint: zai
    presets:
      pr-review: {description: code review}
  china:
    endpoint: bigmodel
    presets:
      tr-cn: {system: 翻译}
"""


@pytest.mark.parametrize("shell", SHELLS)
def test_checked_in_completions_match_the_app(shell):
    path = ROOT / "completions" / f"glm.{shell}"
    assert path.exists(), f"{path} is missing; generate it with: .venv/bin/{REGENERATE}"
    assert path.read_text(encoding="utf-8") == generate(shell, ROOT_CMD), (
        f"completions/glm.{shell} is out of date with the commands registered in glm_cli/cli.py.\n"
        f"Regenerate all three from the repo root with:  .venv/bin/{REGENERATE}"
    )


def test_every_command_and_option_of_the_app_is_covered():
    from glm_cli.cli import COMMANDS

    specs = {c.path: c for c in command_specs(ROOT_CMD)}
    assert {"ask", "models", "models show", "completion", "config show", "batch run"} <= set(specs)
    assert [n for n, _ in specs[""].subs] == list(COMMANDS)
    ask = {n: o for o in specs["ask"].opts for n in o.names}
    for param in ROOT_CMD.get_command(None, "ask").params:
        if param.param_type_name == "option" and not param.hidden:
            assert set(param.opts) <= set(ask), param.name
    assert ask["--model"].kind == "models" and ask["-p"].kind == "presets" and ask["-P"].kind == "profiles"
    assert ask["--endpoint"].kind == "choice:zai,bigmodel,zai-coding,bigmodel-coding"
    assert ask["--think"].kind == ask["--no-think"].kind == FLAG and ask["--max-tokens"].kind == "none"
    assert specs["models show"].args == ("models",) and specs["completion"].args == ("choice:bash,zsh,fish",)
    # `glm batch FILE` means `glm batch run FILE`: the group takes run's options and its file argument
    assert specs["batch"].default == "run" and "--concurrency" in {n for o in specs["batch"].opts for n in o.names}


def test_generator_picks_up_new_commands():
    """Another engineer adds `glm chat`: re-running the generator covers it without touching the generator."""
    app = typer.Typer()

    @app.command()
    def chat(
        model: Annotated[str | None, typer.Option("--model", "-m")] = None,
        resume: Annotated[str | None, typer.Option("--resume", help="Resume a conversation.")] = None,
    ) -> None:
        """Chat interactively."""

    @app.command("history")
    def history(limit: Annotated[int, typer.Option("--limit", "-n")] = 10) -> None:
        """List conversations."""

    root = typer.main.get_command(app)
    bash, fish = generate("bash", root), generate("fish", root)
    assert "'') _glm_r='chat history' ;;" in bash
    assert "'chat|--model'|'chat|-m') _glm_r='models' ;;" in bash and "'history|-n') _glm_r='none' ;;" in bash
    assert "printf '%s\\t%s\\n' '--resume' 'Resume a conversation.'" in fish
    assert "'chat:Chat interactively.'" in generate("zsh", root)


def test_generator_check_mode(tmp_path):
    run = [sys.executable, "-m", "glm_cli.completion", "--out", str(tmp_path)]
    out = subprocess.run([*run, "--check"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1 and REGENERATE in out.stderr and not list(tmp_path.iterdir())
    subprocess.run(run, check=True, capture_output=True, cwd=ROOT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["glm.bash", "glm.fish", "glm.zsh"]
    assert subprocess.run([*run, "--check"], capture_output=True, cwd=ROOT).returncode == 0


def test_glm_completion_prints_the_script(make_app):
    from glm_cli.commands.completion import CompletionOptions, run_completion

    app = make_app()
    assert run_completion(CompletionOptions("zsh", ROOT_CMD), app) == 0
    assert app.ios.stdout.getvalue() == generate("zsh", ROOT_CMD) and app.ios.stderr.getvalue() == ""
    app = make_app(stdout_tty=True)
    run_completion(CompletionOptions("fish", ROOT_CMD), app)
    assert "~/.config/fish/completions/glm.fish" in app.ios.stderr.getvalue()


@pytest.mark.slow
def test_glm_completion_executable(env):
    out = subprocess.run([*glm_executable(), "completion", "bash"], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout == (ROOT / "completions" / "glm.bash").read_text()
    out = subprocess.run([*glm_executable(), "completion", "tcsh"], capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "tcsh" in out.stderr


# ---- glm __complete: the values behind TAB


def names(kind, env, words=()):
    return [v for v, _ in values(kind, list(words), env)]


def test_model_values_include_config_models_and_aliases(env):
    write_config(env, CONFIG)
    found = dict(values("models", [], env))
    assert found["glm-4.7"] == "200K context, thinking always"
    assert found["quick"] == "alias of glm-4.7-flashx" and found["fast"] == "alias of glm-4.7-flashx"
    assert found["my-model"] == "8K context, from config"
    assert "glm-z1-air" not in found  # retired models are not offered


def test_preset_values_follow_the_profile(env):
    write_config(env, CONFIG)
    builtin = ["review", "explain", "shell"]  # the built-in presets the config does not replace come last
    assert names("presets", env) == ["commit", "translate", "pr-review", *builtin]  # default_profile: work
    assert names("presets", env, ["glm", "ask", "-P", "china", "-p", ""]) == ["commit", "translate", "tr-cn", *builtin]
    assert names("presets", env, ["glm", "ask", "--profile=china"]) == ["commit", "translate", "tr-cn", *builtin]
    assert names("presets", env, ["glm", "ask", "--profile", "=", "china"])[2] == "tr-cn"  # bash splits at =
    assert names("presets", {**env, "GLM_PROFILE": "china"}) == ["commit", "translate", "tr-cn", *builtin]
    assert dict(values("presets", [], env))["commit"] == "conventional commit message from a diff"


def test_profile_values(env):
    write_config(env, CONFIG)
    assert values("profiles", [], env) == [("work", "zai, default"), ("china", "bigmodel")]


@pytest.mark.parametrize("text", ["models: [oops\n", "- a list\n", "models:\n  glm-4.7: 5\n", "presets: 3\n"])
def test_broken_config_still_completes_models(env, text):
    write_config(env, text)
    assert "glm-4.7" in names("models", env)
    assert names("presets", env) == BUILTIN and names("profiles", env) == []
    assert names("nonsense", env) == []


def test_no_config_file(env):
    assert "glm-4.7" in names("models", env) and names("presets", env) == BUILTIN


LIGHT = """
import sys
from glm_cli.cli import main
main(["__complete", sys.argv[1]])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"typer", "click", "rich", "httpx", "yaml", "prompt_toolkit"})
print("HEAVY", *heavy)
"""


def test_complete_fast_path_imports_nothing_heavy(env):
    out = subprocess.run([sys.executable, "-c", LIGHT, "models"], capture_output=True, text=True, env=env, cwd=ROOT)
    lines = out.stdout.splitlines()
    assert lines[0] == "glm-4.7\t200K context, thinking always" and lines[-1] == "HEAVY" and out.stderr == ""
    write_config(env, CONFIG)
    out = subprocess.run([sys.executable, "-c", LIGHT, "presets"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.stdout.splitlines() == [
        "commit\tconventional commit message from a diff",
        "translate\tTranslate the user's text into Simplified Chinese.",
        "pr-review\tcode review",
        "review\ta code review of a diff or a file",
        "explain\twhat code, a command or an error message means",
        "shell\tone shell command for a task (with -x: only the command)",
        "HEAVY yaml",
    ]


@pytest.mark.slow
def test_complete_via_executable(env):
    write_config(env, "models: {broken\n")
    out = subprocess.run(
        [*glm_executable(), "__complete", "models", "glm", "ask", "-m", ""], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0 and out.stderr == "" and "glm-4.7-flash\t" in out.stdout
