"""What TAB offers for each option's value, the same in bash, zsh and fish: conversation ids and names from the
history store, fixed values, embedding models, and never file names for free text.

Every shell runs the same CASES (one shell process each, in a directory holding a file named notes.txt, so a
file offered where it must not be shows up); a shell that is not installed skips its tests with the reason.
bash's own fallback (`complete -o default`: file names when the function offers nothing) is replayed by the
harness, so a free-text option that offers nothing must really offer nothing.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from glm_cli.cli import build_command
from glm_cli.completion.gen import FLAG, KINDS, command_specs, param_kind
from glm_cli.completion.values import typed, values
from glm_cli.embed import MODELS as EMBEDDING_MODELS
from glm_cli.store import Store, default_path
from glm_cli.tools.web_search import RECENCY
from tests.completion.test_completion_shells import COMPLETIONS, SEP, need, parse, shell_environ
from tests.conftest import ROOT

NOTE = "notes.txt"  # a file in the shells' working directory: offered only where a path is wanted
# (id, name, title) of the stored conversations, oldest first
CONVERSATIONS = [(1, "alpha", "first question"), (2, None, "unnamed"), (3, "beta", "third"), (4, "two words", "x")]
IDS_AND_NAMES = {"1", "2", "3", "4", "alpha", "beta"}

CASES = [
    # conversation ids and names, not files
    ("glm history show ", IDS_AND_NAMES, {NOTE, "two"}),
    ("glm history show al", {"alpha"}, {"beta", NOTE}),
    ("glm history export ", IDS_AND_NAMES, {NOTE}),
    ("glm history rm alpha ", {"beta", "3"}, {NOTE}),
    ("glm chat --resume ", IDS_AND_NAMES, {NOTE}),
    ("glm chat -r b", {"beta"}, {"alpha", NOTE}),
    ("glm ask --resume ", IDS_AND_NAMES, {NOTE}),
    ("glm ask -r ", IDS_AND_NAMES, {NOTE}),
    # fixed values
    ("glm ask --search-recency ", set(RECENCY), {NOTE}),
    ("glm chat --search-recency one", {"oneDay", "oneWeek", "oneMonth", "oneYear"}, {"noLimit", NOTE}),
    ("glm batch --format ", {"record", "batch-api"}, {NOTE}),
    ("glm batch run --format b", {"batch-api"}, {"record", NOTE}),
    ("glm batch submit --format ", {"record", "batch-api"}, {NOTE}),
    ("glm embed -m ", set(EMBEDDING_MODELS), {"glm-4.7", "quick", NOTE}),
    ("glm embed --model emb", set(EMBEDDING_MODELS), {NOTE}),
    ("glm embed --dimensions ", {"256", "512", "1024", "2048"}, {NOTE}),
    ("glm ask --endpoint zai", {"zai", "zai-coding"}, {"bigmodel", NOTE}),
    # free text: nothing, and above all no file names
    ("glm ask -s ", set(), {NOTE}),
    ("glm ask --system no", set(), {NOTE}),
    ("glm chat -s no", set(), {NOTE}),
    ("glm ask --stop no", set(), {NOTE}),
    ("glm batch --stop ", set(), {NOTE}),
    ("glm ask --request-id no", set(), {NOTE}),
    ("glm batch --template no", set(), {NOTE}),
    ("glm ask --max-tokens ", set(), {NOTE}),
    ("glm ask --search-domain no", set(), {NOTE}),
    ("glm ask -c no", set(), {NOTE}),  # -c takes no value: this is the prompt
    ("glm ask --dry-run no", set(), {NOTE}),  # a bare --dry-run takes no value either
    ("glm ask no", set(), {NOTE}),
    # paths still complete files
    ("glm ask --file no", {NOTE}, set()),
    ("glm ask -a no", {NOTE}, set()),
    ("glm ask --schema no", {NOTE}, set()),
    ("glm batch no", {NOTE}, set()),
]


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory) -> dict[str, str]:
    env = shell_environ(tmp_path_factory.mktemp("home"))
    store_conversations(env, CONVERSATIONS)
    return env


def store_conversations(env: dict[str, str], rows: list[tuple[int, str | None, str]]) -> None:
    """Write ROWS (oldest first) into the history store through glm's own schema."""
    now = time.time()
    with Store.open(default_path(env)) as store:
        store.db.executemany(
            "INSERT INTO conversations (id, name, title, source, created, updated) VALUES (?, ?, ?, 'chat', ?, ?)",
            [(cid, name, title, now - 1000 + cid, now - 1000 + cid) for cid, name, title in rows],
        )
        store.db.commit()


@pytest.fixture(scope="module")
def cwd(tmp_path_factory):
    path = tmp_path_factory.mktemp("cwd")
    (path / NOTE).write_text("")
    return path


# bash: the function, then what bash itself does when it offers nothing (`-o default`: file names)
BASH = r"""
source "$1"; shift
spec=$(complete -p glm)
for line in "$@"; do
    printf '=== %s\n' "$line"
    IFS=' ' read -r -a COMP_WORDS <<< "$line"
    [[ $line == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE=$line; COMP_POINT=${#line}; COMPREPLY=()
    _glm 2>/dev/null
    if (( ${#COMPREPLY[@]} == 0 )) && [[ $spec == *'-o default'* || $spec == *'-o bashdefault'* ]]; then
        COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
    fi
    (( ${#COMPREPLY[@]} )) && printf '%s\n' "${COMPREPLY[@]}"
done
exit 0
"""


def run_bash(env: dict[str, str], cwd, lines: list[str]) -> dict[str, set[str]]:
    bash = need("bash")
    args = [bash, "--norc", "--noprofile", "-c", BASH, "bash", str(COMPLETIONS / "glm.bash"), *lines]
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    assert out.stderr == "", out.stderr
    return parse(out.stdout)


def run_zsh(env: dict[str, str], cwd, lines: list[str]) -> dict[str, set[str]]:
    zsh = need("zsh")
    args = [zsh, "-f", str(ROOT / "tests" / "zsh_capture.zsh"), str(COMPLETIONS / "glm.zsh"), *lines]
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    if "zpty" in out.stderr:
        pytest.skip(f"zsh cannot drive a pseudo-terminal here: {out.stderr.strip()}")
    return parse(out.stdout)


def run_fish(env: dict[str, str], cwd, lines: list[str]) -> dict[str, set[str]]:
    fish = need("fish")
    script = f"source {COMPLETIONS / 'glm.fish'}\nfor l in $argv\n  echo '{SEP}'$l\n  complete -C $l\nend"
    out = subprocess.run(
        [fish, "--no-config", "-c", script, *lines], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )
    assert out.stderr == "", out.stderr
    return parse(out.stdout)


RUN = {"bash": run_bash, "zsh": run_zsh, "fish": run_fish}
# `--opt=value` is split differently by each shell: bash splits at "=", fish offers the whole word
EQUALS = {
    "bash": {
        "glm ask --search-recency = one": {"oneDay", "oneWeek", "oneMonth", "oneYear"},
        "glm ask --dry-run = ": {"json", "curl"},
        "glm chat --resume = al": {"alpha"},
    },
    "zsh": {
        "glm ask --search-recency=one": {"oneDay", "oneWeek", "oneMonth", "oneYear"},
        "glm ask --dry-run=": {"json", "curl"},
        "glm chat --resume=al": {"alpha"},
    },
    "fish": {
        "glm ask --search-recency=one": {f"--search-recency={v}" for v in ("oneDay", "oneWeek", "oneMonth", "oneYear")},
        "glm ask --dry-run=": {"--dry-run=json", "--dry-run=curl"},
        "glm chat --resume=al": {"--resume=alpha"},
    },
}


@pytest.fixture(scope="module", params=list(RUN))
def results(request, shell_env, cwd) -> tuple[str, dict[str, set[str]]]:
    shell = request.param
    return shell, RUN[shell](shell_env, cwd, [c[0] for c in CASES] + list(EQUALS[shell]))


@pytest.mark.slow
@pytest.mark.parametrize("line, wanted, unwanted", CASES, ids=[c[0] for c in CASES])
def test_every_shell_offers_the_same(results, line, wanted, unwanted):
    shell, found = results
    got = found[line]
    assert wanted <= got, f"{shell}: {line!r}: missing {sorted(wanted - got)}; offered {sorted(got)}"
    assert not unwanted & got, f"{shell}: {line!r}: should not offer {sorted(unwanted & got)}"
    if not wanted:
        assert got == set(), f"{shell}: {line!r} is free text: offered {sorted(got)}"


@pytest.mark.slow
def test_option_equals_value(results):
    shell, found = results
    for line, wanted in EQUALS[shell].items():
        assert found[line] == wanted, f"{shell}: {line!r}"


# ---- the declarations: every option says what its value is, and only paths complete files

PATH_WORDS = {"FILE", "PATH", "DIR", "SCHEMA"}  # metavars of values that are (or may be) a path


def test_every_option_has_a_kind_and_only_paths_complete_files():
    import re

    root = build_command()
    for spec in command_specs(root):
        for opt in spec.opts:
            assert opt.kind == FLAG or opt.kind.lstrip("=") in KINDS or opt.kind.lstrip("=").startswith("choice:"), (
                spec.path,
                opt.names,
                opt.kind,
            )
    # every parameter of every command, with the metavar it declares
    for spec, params in _params(root):
        for param in params:
            if getattr(param, "is_flag", False) or getattr(param, "count", False):
                continue
            kind = param_kind(param)
            words = set(re.findall(r"[A-Z]+", param.metavar or ""))
            assert param.metavar, f"glm {spec}: {param.name} declares no metavar: say what its value is"
            if kind == "files":
                assert words & PATH_WORDS, f"glm {spec} {param.opts}: completes files but {param.metavar} is no path"
            if words & PATH_WORDS:
                assert kind == "files", f"glm {spec} {param.opts}: {param.metavar} is a path but completes {kind}"


def _params(root):
    ctx = root.context_class(root, info_name="glm")
    stack = [("", root, ctx)]
    while stack:
        path, cmd, parent = stack.pop()
        yield path, [p for p in cmd.params if not getattr(p, "hidden", False) and p.name not in ("help",)]
        for name in getattr(cmd, "list_commands", lambda _: [])(parent):
            sub = cmd.get_command(parent, name)
            if sub is not None and not sub.hidden:
                stack.append(((f"{path} {name}").strip(), sub, sub.context_class(sub, parent=parent, info_name=name)))


def test_the_kinds_the_issue_names():
    specs = {c.path: c for c in command_specs(build_command())}

    def kind(path: str, name: str) -> str:
        return next(o.kind for o in specs[path].opts if name in o.names)

    for path in ("ask", "chat"):
        assert kind(path, "--resume") == "conversations" and kind(path, "-s") == "none"
        assert kind(path, "--search-recency") == "choice:" + ",".join(RECENCY)
    for path in ("ask", "batch", "batch run"):
        assert kind(path, "--stop") == "none"
    assert kind("ask", "--request-id") == "none" and kind("ask", "--dry-run") == "=choice:json,curl"
    assert kind("batch", "--format") == kind("batch submit", "--format") == "choice:record,batch-api"
    assert kind("embed", "-m") == "choice:" + ",".join(EMBEDDING_MODELS)
    assert kind("embed", "--dimensions") == "choice:256,512,1024,2048"
    for path in ("history show", "history export", "history rm"):
        assert specs[path].args[0].rstrip("*") == "conversations"
    assert specs["ask"].args == ("none*",) and specs["batch run"].args == ("files",)


# ---- the conversation values behind TAB: by prefix, from any depth of the store


def test_conversations_by_prefix_reach_old_ones(env):
    rows = [(i, f"topic-{i}" if i % 10 == 0 else None, f"question {i}") for i in range(1, 301)]
    store_conversations(env, rows)

    def offered(*words: str) -> list[str]:
        return [v for v, _ in values("conversations", ["glm", "history", "show", *words], env)]

    recent = offered("")
    assert recent[:3] == ["topic-300", "topic-290", "topic-280"] and "300" in recent and "1" not in recent
    assert "topic-10" in offered("topic-1") and "topic-10" in offered("--resume=topic-1")
    assert {"15", "150", "159"} <= set(offered("15")) and all(v.startswith("15") for v in offered("15"))
    assert offered("nothing-like-it") == []


def test_any_prefix_gives_values_that_start_with_it(env):
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st

    store_conversations(env, [(i, f"n{i}-é" if i % 3 else None, "t") for i in range(1, 120)])

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=8))
    @example("²")  # a digit to str.isdigit() that int() refuses: was a traceback on TAB
    def check(prefix: str) -> None:
        for value, _ in values("conversations", ["glm", "history", "show", prefix], env):
            assert value.startswith(typed([prefix])), (prefix, value)

    check()
