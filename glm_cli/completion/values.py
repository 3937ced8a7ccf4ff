"""`glm __complete KIND [WORDS…]`: TAB-completion values from local data only, fast.

The shell scripts in completions/ call this for --model, --preset, --profile, --resume, conversation ids and
names, and MCP server names. It runs before Typer
is imported (see cli.main) and reads only the shipped catalogue (json), the config file (yaml, and only
when the file exists) and the history store (read-only): never the network, never typer/rich/httpx. It prints
`value<TAB>description` lines and never fails: on any error it prints what it has (possibly nothing).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glm_cli.catalogue import Catalogue

KINDS = ("models", "presets", "profiles", "conversations", "mcp-servers")
RECENT = 50  # conversations offered by TAB, most recent first


def _config(environ: dict[str, str]) -> dict[str, Any]:
    from glm_cli.config import _read_yaml, config_path

    try:
        return _read_yaml(*config_path(environ))
    except Exception:  # noqa: BLE001 - a broken config must not break TAB
        return {}


def model_values(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Current catalogue ids, config models and every alias, each with a short description."""
    from glm_cli.catalogue import load_catalogue

    overrides = {k: data[k] for k in ("models", "aliases") if isinstance(data.get(k), dict)}
    try:
        catalogue = load_catalogue(overrides)
    except Exception:  # noqa: BLE001 - a bad override: fall back to the shipped catalogue
        catalogue = load_catalogue()
    return catalogue_values(catalogue)


def catalogue_values(catalogue: Catalogue) -> list[tuple[str, str]]:
    """The ids of CATALOGUE's current models, then its aliases, each with a short description (TAB, /model)."""
    from glm_cli.catalogue import format_tokens

    out = []
    for m in catalogue.models.values():
        if m.status == "retired":
            continue
        facts = [
            f"{format_tokens(m.context)} context" if m.context else "",
            f"thinking {m.thinking}" if m.thinking else "",
            "from config" if m.origin == "config" else "",
        ]
        out.append((m.id, ", ".join(f for f in facts if f)))
    out += [(name, f"alias of {catalogue.resolve(name)}") for name in catalogue.aliases]
    return out


def _chosen_profile(words: list[str], environ: dict[str, str], data: dict[str, Any]) -> str | None:
    for i, word in enumerate(words):
        if word in ("--profile", "-P") and i + 1 < len(words):
            return words[i + 2] if words[i + 1] == "=" and i + 2 < len(words) else words[i + 1]
        if word.startswith("--profile="):
            return word.split("=", 1)[1]
        if word.startswith("-P") and len(word) > 2:
            return word[2:]
    return environ.get("GLM_PROFILE") or data.get("default_profile")


def _mapping(value: Any) -> dict[Any, Any]:  # YAML keys may be of any type
    return value if isinstance(value, dict) else {}


def preset_values(data: dict[str, Any], profile: str | None) -> list[tuple[str, str]]:
    """Top-level presets plus those of the chosen profile, then the built-in ones they do not replace, with their
    description (or system prompt)."""
    from glm_cli.presets import BUILTIN_PRESETS

    presets = dict(_mapping(data.get("presets")))
    presets.update(_mapping(_mapping(_mapping(data.get("profiles")).get(profile)).get("presets")))
    presets.update({name: body for name, body in BUILTIN_PRESETS.items() if name not in presets})
    out = []
    for name, body in presets.items():
        body = _mapping(body)
        text = str(body.get("description") or body.get("system") or "").splitlines()
        out.append((str(name), text[0][:60] if text else ""))
    return out


def mcp_server_values(data: dict[str, Any], profile: str | None) -> list[tuple[str, str]]:
    """The built-in MCP servers, then those under `mcp_servers:` (top level and the chosen profile's)."""
    from glm_cli.tools.hosted import builtin_names

    servers = builtin_names()
    for source in (data.get("mcp_servers"), _mapping(_mapping(data.get("profiles")).get(profile)).get("mcp_servers")):
        for name, body in _mapping(source).items():
            body = _mapping(body)
            servers[str(name)] = str(body.get("description") or body.get("url") or "")
    return list(servers.items())


def profile_values(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Profile names with their endpoint or base_url."""
    out = []
    for name, body in _mapping(data.get("profiles")).items():
        body = _mapping(body)
        where = body.get("base_url") or body.get("endpoint") or ""
        default = "default" if name == data.get("default_profile") else ""
        out.append((str(name), ", ".join(str(x) for x in (where, default) if x)))
    return out


def typed(words: list[str]) -> str:
    """The part of a value typed so far: the last word the shell passed (`--opt=PART` and bash's lone `=` too)."""
    word = words[-1] if words else ""
    if word == "=":
        return ""
    return word.split("=", 1)[1] if word.startswith("-") and "=" in word else word


def conversation_values(environ: dict[str, str], prefix: str = "") -> list[tuple[str, str]]:
    """Names, then ids, of the conversations that start with PREFIX (the most recent ones when it is empty), each
    with its first message; nothing when there is no store.

    Every query walks an index (updated, the unique name, the id), so TAB stays fast with any number of
    conversations. Opened read-only (never created, never migrated): TAB must not write anything.
    """
    import sqlite3

    from glm_cli.store import default_path

    path = default_path(environ)
    if not path.exists():
        return []
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1.0)
    columns = "SELECT id, name, title FROM conversations"
    try:
        if not prefix:
            rows = db.execute(f"{columns} ORDER BY updated DESC, id DESC LIMIT ?", (RECENT,)).fetchall()
        else:
            rows = db.execute(
                f"{columns} WHERE name >= ? AND name < ? ORDER BY name LIMIT ?", (prefix, prefix + "\U0010ffff", RECENT)
            ).fetchall()
            rows += _ids_starting(db, columns, prefix)
    finally:
        db.close()
    named = [
        (str(name), str(title or "")[:60])
        for _, name, title in rows
        if name and len(str(name).split()) == 1 and str(name).startswith(prefix)
    ]
    ids = [(str(cid), (f"{name}: " if name else "") + str(title or "")[:60]) for cid, name, title in rows]
    return list(dict.fromkeys(named + [i for i in ids if i[0].startswith(prefix)]))


def _ids_starting(db: Any, columns: str, digits: str) -> list[Any]:
    """The rows whose id starts with DIGITS, shortest ids first: one range of the primary key per length."""
    if not (digits.isascii() and digits.isdigit()) or digits.startswith("0"):  # "²" is a digit int() refuses
        return []
    top = db.execute("SELECT max(id) FROM conversations").fetchone()[0] or 0
    rows: list[Any] = []
    low, high = int(digits), int(digits) + 1
    while low <= top and len(rows) < RECENT:
        rows += db.execute(
            f"{columns} WHERE id >= ? AND id < ? ORDER BY id LIMIT ?", (low, high, RECENT - len(rows))
        ).fetchall()
        low, high = low * 10, high * 10
    return rows


def values(kind: str, words: list[str], environ: dict[str, str]) -> list[tuple[str, str]]:
    """Return (value, description) pairs for one kind of completion."""
    if kind not in KINDS:
        return []
    if kind == "conversations":
        return conversation_values(environ, typed(words))
    data = _config(environ)
    if kind == "models":
        return model_values(data)
    if kind == "presets":
        return preset_values(data, _chosen_profile(words, environ, data))
    if kind == "mcp-servers":
        return mcp_server_values(data, _chosen_profile(words, environ, data))
    return profile_values(data)


def main(argv: list[str]) -> None:
    """Print `value<TAB>description` lines for `glm __complete KIND [WORDS…]`."""
    try:
        pairs = values(argv[0] if argv else "", argv[1:], dict(os.environ))
        lines = [f"{v}\t{' '.join(d.split())}".rstrip("\t") for v, d in pairs if v and len(v.split()) == 1]
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
    except Exception:  # noqa: BLE001 - TAB must never print a traceback into the command line
        pass
