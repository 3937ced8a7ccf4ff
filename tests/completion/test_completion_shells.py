"""The completion scripts in real bash, zsh and fish: a TAB request per case, and the candidates offered.

Each shell runs once for all cases (a module fixture); a missing shell skips its tests with the reason.
The `glm` they call is the installed one (the venv's bin directory is put first on PATH).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.completion.test_completion import CONFIG
from tests.conftest import ROOT, write_config

pytestmark = pytest.mark.slow

COMPLETIONS = ROOT / "completions"
BIN = Path(sys.executable).parent
SEP = "=== "

# (text before the cursor, candidates that must be offered, candidates that must not be)
CASES = [
    ("glm ", {"ask", "models", "completion", "config", "batch"}, {"show", "--model"}),
    ("glm mo", {"models"}, {"ask"}),
    ("glm ask --mo", {"--model"}, {"--max-tokens", "ask"}),
    ("glm ask -", {"--model", "-m", "--preset", "--think", "--no-think", "--help"}, {"models"}),
    ("glm ask --model gl", {"glm-4.7", "glm-4.7-flash", "glm-4.5-air"}, {"glm-z1-air", "fast", "my-model"}),
    ("glm ask -m qu", {"quick"}, {"glm-4.7"}),
    ("glm ask -m ", {"glm-4.7", "my-model", "quick", "fast", "free"}, {"glm-z1-flash"}),
    ("glm ask --preset ", {"commit", "translate", "pr-review", "explain"}, {"tr-cn"}),
    ("glm ask -P china -p ", {"commit", "translate", "tr-cn", "explain"}, {"pr-review"}),
    ("glm ask --profile ", {"work", "china"}, set()),
    ("glm config show --profile ch", {"china"}, {"work"}),
    ("glm ask --endpoint ", {"zai", "bigmodel", "zai-coding", "bigmodel-coding"}, set()),
    ("glm models ", {"show"}, {"ask"}),
    ("glm models --", {"--json", "--remote", "--all", "--timeout"}, {"--model"}),
    ("glm models show glm-4.7-f", {"glm-4.7-flash", "glm-4.7-flashx"}, {"glm-4.7"}),
    ("glm completion ", {"bash", "zsh", "fish"}, set()),
    ("glm batch -j 4 --mo", {"--model"}, set()),
    ("glm batch st", {"status"}, {"submit"}),
    ("glm ask --temperature 0.5 --mo", {"--model"}, set()),
]
# `--opt=value` is split differently by each shell; bash gets its own words below.
EQUALS = ("glm ask --model=qu", {"--model=quick", "quick"})


def shell_environ(home: Path) -> dict[str, str]:
    """An environment for the shells under test: HOME and XDG dirs in HOME, glm on PATH, CONFIG written."""
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "TERM": "dumb",
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    write_config(env, CONFIG)
    return env


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory) -> dict[str, str]:
    return shell_environ(tmp_path_factory.mktemp("home"))


def need(shell: str) -> str:
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed (apt-get install -y {shell}; .ci/run installs it)")
    return path


def parse(output: str) -> dict[str, set[str]]:
    """Split `=== LINE` sections of `word<TAB>description` candidates into {line: {word}}."""
    found: dict[str, set[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith(SEP):
            current = line[len(SEP) :]
            found[current] = set()
        elif current is not None and line:
            found[current].add(line.split("\t")[0])
    return found


BASH = r"""
source "$1"; shift
for line in "$@"; do
    printf '=== %s\n' "$line"
    IFS=' ' read -r -a COMP_WORDS <<< "$line"
    [[ $line == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE=$line; COMP_POINT=${#line}; COMPREPLY=()
    _glm
    (( ${#COMPREPLY[@]} )) && printf '%s\n' "${COMPREPLY[@]}"
done
exit 0
"""


@pytest.fixture(scope="module")
def bash_results(shell_env) -> dict[str, set[str]]:
    bash = need("bash")
    lines = [c[0] for c in CASES] + ["glm ask --model = qu"]  # bash's own words for --model=qu
    out = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", BASH, "bash", str(COMPLETIONS / "glm.bash"), *lines],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=60,
    )
    assert out.stderr == "", out.stderr
    return parse(out.stdout)


@pytest.fixture(scope="module")
def zsh_results(shell_env) -> dict[str, set[str]]:
    zsh = need("zsh")
    lines = [c[0] for c in CASES] + [EQUALS[0]]
    out = subprocess.run(
        [zsh, "-f", str(ROOT / "tests" / "zsh_capture.zsh"), str(COMPLETIONS / "glm.zsh"), *lines],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=120,
    )
    if "zpty" in out.stderr:
        pytest.skip(f"zsh cannot drive a pseudo-terminal here: {out.stderr.strip()}")
    return parse(out.stdout)


@pytest.fixture(scope="module")
def fish_results(shell_env) -> dict[str, set[str]]:
    fish = need("fish")
    lines = [c[0] for c in CASES] + [EQUALS[0]]
    script = f"source {COMPLETIONS / 'glm.fish'}\nfor l in $argv\n  echo '{SEP}'$l\n  complete -C $l\nend"
    out = subprocess.run(
        [fish, "--no-config", "-c", script, *lines], capture_output=True, text=True, env=shell_env, timeout=60
    )
    assert out.stderr == "", out.stderr
    return parse(out.stdout)


def check(results: dict[str, set[str]], line: str, wanted: set[str], unwanted: set[str]) -> None:
    got = results[line]
    assert wanted <= got, f"{line!r}: missing {sorted(wanted - got)}; offered {sorted(got)}"
    assert not unwanted & got, f"{line!r}: should not offer {sorted(unwanted & got)}"


@pytest.mark.parametrize("line, wanted, unwanted", CASES, ids=[c[0] for c in CASES])
def test_bash(bash_results, line, wanted, unwanted):
    check(bash_results, line, wanted, unwanted)


@pytest.mark.parametrize("line, wanted, unwanted", CASES, ids=[c[0] for c in CASES])
def test_zsh(zsh_results, line, wanted, unwanted):
    check(zsh_results, line, wanted, unwanted)


@pytest.mark.parametrize("line, wanted, unwanted", CASES, ids=[c[0] for c in CASES])
def test_fish(fish_results, line, wanted, unwanted):
    check(fish_results, line, wanted, unwanted)


def test_option_equals_value(bash_results, zsh_results, fish_results):
    assert bash_results["glm ask --model = qu"] == {"quick"}
    assert zsh_results[EQUALS[0]] == {"quick"}  # zsh completes the part after "="
    assert fish_results[EQUALS[0]] == {"--model=quick"}


def test_file_arguments_complete_files(shell_env, tmp_path):
    (tmp_path / "prompts.jsonl").write_text("{}\n")
    (tmp_path / "other.txt").write_text("")
    bash = need("bash")
    out = subprocess.run(
        [
            bash,
            "--norc",
            "--noprofile",
            "-c",
            BASH,
            "bash",
            str(COMPLETIONS / "glm.bash"),
            f"glm batch {tmp_path}/pro",
            f"glm ask --file {tmp_path}/ot",
        ],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=60,
    )
    found = parse(out.stdout)
    assert found[f"glm batch {tmp_path}/pro"] == {f"{tmp_path}/prompts.jsonl"}  # glm batch FILE = batch run FILE
    assert found[f"glm ask --file {tmp_path}/ot"] == {f"{tmp_path}/other.txt"}


def test_zsh_autoloads_the_script_from_fpath(shell_env, tmp_path):
    """The README's zsh install: the script saved as _glm in a directory on $fpath, found by compinit."""
    zsh = need("zsh")
    (tmp_path / "_glm").write_text((COMPLETIONS / "glm.zsh").read_text())
    fpath = subprocess.run([zsh, "-f", "-c", "print -r -- $FPATH"], capture_output=True, text=True).stdout.strip()
    out = subprocess.run(
        [zsh, "-f", str(ROOT / "tests" / "zsh_capture.zsh"), os.devnull, "glm ask -m fa"],
        capture_output=True,
        text=True,
        env={**shell_env, "FPATH": f"{tmp_path}:{fpath}"},
        timeout=60,
    )
    assert parse(out.stdout)["glm ask -m fa"] == {"fast"}
