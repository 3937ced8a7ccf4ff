"""The house rules, read from the code: every import (top-level and in-function) points one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "glm_cli"
PIPELINE = {
    "app",
    "catalogue",
    "cli",
    "client",
    "config",
    "conversation",
    "errors",
    "events",
    "iostreams",
    "mcp_config",
    "render",
    "request",
    "sse",
    "store",
    "turn",
    "transport",
    "__init__",
    "__main__",
    "attachments",
    "extract",
    "keystore",
    "prompt_input",
}
FEATURES = {"batch", "tools", "chat", "completion", "auth", "embed", "tokens"}
# A feature may use another feature only along these arrows (design: chat -> tools; batch -> tools.schema;
# completion -> tools.hosted: TAB offers the built-in MCP server names).
FEATURE_ARROWS = {("chat", "tools"), ("batch", "tools.schema"), ("embed", "batch"), ("completion", "tools.hosted")}
# Third-party imports that belong to exactly one place.
OWNERS = {"typer": ("cli", "commands"), "rich": ("render",), "httpx": ("client", "transport")}
# Named exceptions: (importer, imported) -> why it is allowed.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts) or "__init__"


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, anywhere in it: glm_cli modules without the prefix, others by top name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + (1 if path.name == "__init__.py" else 0)] + [base])
                base = "glm_cli." + base.strip(".")
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("glm_cli."):
                target = name[len("glm_cli.") :]
                if (PACKAGE / target.replace(".", "/")).with_suffix(".py").exists() or (
                    PACKAGE / target.replace(".", "/") / "__init__.py"
                ).exists():
                    found.add(target)
            elif name != "glm_cli":
                found.add(name.split(".")[0])
    return found


GRAPH = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def top(module: str) -> str:
    return module.split(".")[0]


def violations() -> list[str]:
    out = []
    for mod, deps in GRAPH.items():
        for dep in sorted(deps):
            if (mod, dep) in EXCEPTIONS:
                continue
            if dep in OWNERS and not any(mod == o or mod.startswith(o + ".") for o in OWNERS[dep]):
                out.append(f"{mod} imports {dep} (only {', '.join(OWNERS[dep])} may)")
            if dep not in GRAPH:
                continue
            if top(dep) == "commands" and top(mod) not in ("cli", "commands"):
                out.append(f"{mod} imports {dep}: only cli and commands/ may use the Typer layer")
            if dep == "cli" and not (mod == "__main__" or mod.endswith(".__main__")):
                out.append(f"{mod} imports cli: only entry points (__main__) import the top")
            if top(mod) in PIPELINE and mod != "cli" and top(dep) in FEATURES:
                out.append(f"{mod} (pipeline) imports {dep} (a feature)")
            if top(mod) in FEATURES and top(dep) in FEATURES and top(mod) != top(dep):
                if not any(top(mod) == a and (dep == b or dep.startswith(b + ".")) for a, b in FEATURE_ARROWS):
                    out.append(f"{mod} imports {dep}: features use each other only along {sorted(FEATURE_ARROWS)}")
    return out


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH or (v, w) in EXCEPTIONS:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return found


def test_the_graph_was_read():
    assert {"cli", "client", "batch.runner", "tools.loop", "commands.ask"} <= set(GRAPH)
    assert "client" in GRAPH["turn"] or "events" in GRAPH["turn"]


def test_no_import_cycles():
    assert cycles() == []


def test_dependencies_point_one_way():
    assert violations() == []


@pytest.mark.parametrize("pair", sorted(EXCEPTIONS))
def test_each_exception_is_still_needed(pair):
    mod, dep = pair
    assert dep in GRAPH[mod], f"{mod} no longer imports {dep}: drop the exception"
