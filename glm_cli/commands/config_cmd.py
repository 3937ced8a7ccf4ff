"""`glm config show|path|init`: see and start the YAML configuration."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.flags import Argument, Help, Option
from glm_cli.errors import ConfigError

if TYPE_CHECKING:
    from glm_cli.app import App

STARTER = """\
# glm configuration. Precedence: flag > preset (-p) > environment > profile > top level > default.
# Keys: export GLM_API_KEY=... (or ZAI_API_KEY / ZHIPUAI_API_KEY) beats anything here.

# Top-level values apply to every profile.
model: glm-4.7              # or an alias: fast, free, air, vision
# endpoint: zai             # zai | bigmodel | zai-coding | bigmodel-coding (or base_url: https://...)
# api_key_cmd: pass show zhipu/api-key   # a command that prints the key (password managers)
# api_key_env: MY_GLM_KEY   # or read the key from another environment variable
# thinking: true            # send thinking.type enabled/disabled; unset = server default
# show_thinking: false      # show reasoning on stderr; unset = when stderr is a terminal
# temperature: 1.0
# max_tokens: 8192
# timeout: 300              # read timeout, seconds
# deadline: 600             # seconds one request may take in all, retries included
# max_response_mb: 64       # the largest answer read (and unpacked), MiB
# max_retries: 3

# default_profile: work
profiles:
  work:
    endpoint: zai
  china:
    endpoint: bigmodel
    api_key_env: ZHIPUAI_API_KEY
  coding:
    endpoint: zai-coding

# Built-in presets: commit, translate, review, explain, shell (`glm config presets NAME` prints one);
# a preset of the same name here replaces the built-in one.
presets:
  extract:
    description: the entities of a text as a JSON object
    json: true
    template: "Extract the entities as a JSON object:\\n\\n{input}"

# aliases:
#   fast: glm-4.7-flashx
"""


@dataclass(frozen=True)
class ShowOptions:
    profile: o.Profile = None
    as_json: Annotated[o.AsJson, Help("Print JSON: each setting's value and source.")] = False


@dataclass(frozen=True)
class PathOptions:
    pass


@dataclass(frozen=True)
class PresetsOptions:
    name: Annotated[
        str | None, Argument(metavar="NAME", help="Print this preset's definition, as YAML for the config.")
    ] = None
    profile: o.Profile = None
    as_json: Annotated[o.AsJson, Help("Print JSON: each preset's fields and where it is defined.")] = False


@dataclass(frozen=True)
class InitOptions:
    force: Annotated[bool, Option("--force", help="Overwrite an existing file.")] = False


def run_path(opts: PathOptions, app: App) -> int:
    """Print the config file's path."""
    from glm_cli.config import config_path

    path, _ = config_path(app.environ)
    app.ios.stdout.write(f"{path}\n")
    return 0


def run_init(opts: InitOptions, app: App) -> int:
    """Write the commented starter config (mode 0600); refuse to overwrite one unless --force."""
    from glm_cli.config import config_path

    path, _ = config_path(app.environ)
    if path.exists() and not opts.force:
        raise ConfigError(
            f"{path} already exists; not overwriting it", "edit it, or move it away and run `glm config init` again"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(STARTER)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror or exc}", "set GLM_CONFIG or XDG_CONFIG_HOME to a writable place"
        ) from None
    app.ios.stdout.write(f"wrote {path}\n")
    return 0


def run_show(opts: ShowOptions, app: App) -> int:
    """Print the effective settings and where each comes from."""
    out = app.ios.stdout
    settings = app.settings(profile=opts.profile)
    rows = effective_rows(settings)
    if opts.as_json:
        out.write(json.dumps({k: {"value": v, "source": s} for k, v, s in rows}, indent=2) + "\n")
        return 0
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        shown = "-" if value is None else (json.dumps(value) if not isinstance(value, str) else value)
        out.write(f"{key.ljust(width)}  {shown}  ({source})\n")
    return 0


def effective_rows(settings: Any) -> list[tuple[str, Any, str]]:
    """Return (name, value, source) for every setting; the key itself is never included."""
    from glm_cli.config import KEY_ENV_VARS
    from glm_cli.redact import redact_url

    rows: list[tuple[str, Any, str]] = [
        ("config", str(settings.config_path), "GLM_CONFIG" if "GLM_CONFIG" in settings.environ else "default"),
        ("profile", settings.profile, settings.profile_source),
        ("base_url", redact_url(settings.base_url), settings.source("base_url")),
    ]
    secret = {"api_key", "api_key_env", "api_key_cmd"}
    for key, value in settings.items():
        if key in secret or key == "base_url":
            continue
        rows.append((key, redact_url(value) if key == "proxy" and value else value, settings.source(key)))
    rows.append(("api_key", _key_state(settings, KEY_ENV_VARS), "never shown"))
    origins = dict.fromkeys(p.origin for p in settings.presets.values())  # built-in first, then the config
    rows.append(("presets", sorted(settings.presets), ", ".join(origins) or "none"))
    return rows


def run_presets(opts: PresetsOptions, app: App) -> int:
    """List the presets (built-in and the config's), or print one's definition."""
    settings = app.settings(profile=opts.profile)
    presets = settings.presets
    if opts.name is not None and opts.name not in presets:
        raise ConfigError(f"unknown preset {opts.name!r}", "presets: " + ", ".join(sorted(presets)))
    chosen = [presets[opts.name]] if opts.name is not None else [presets[n] for n in sorted(presets)]
    out = app.ios.stdout
    if opts.as_json:
        body = {p.name: {"origin": p.origin, **_preset_fields(p)} for p in chosen}
        out.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    elif opts.name is not None:
        preset = chosen[0]
        if preset.origin == "built-in":
            where = settings.config_path
            out.write(f"# built-in; a preset named {preset.name} under presets: in {where} replaces it\n")
        else:
            out.write(f"# from {preset.origin.removeprefix('config ')}\n")
        out.write(_yaml({preset.name: _preset_fields(preset)}))
    else:
        width = max(len(p.name) for p in chosen)
        for p in chosen:
            origin = "built-in" if p.origin == "built-in" else "config"
            about = p.description or (p.system or "").split("\n")[0][:60]
            out.write(f"{p.name.ljust(width)}  {origin.ljust(8)}  {about}\n")
    return 0


def _yaml(data: Any) -> str:
    """DATA as YAML for a config file: text of several lines as a literal block, as one would write it."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100)


def _preset_fields(preset: Any) -> dict[str, Any]:
    from dataclasses import fields

    from glm_cli.config import PRESET_FIELDS

    values = {f.name: getattr(preset, f.name) for f in fields(preset) if f.name in PRESET_FIELDS}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items() if v is not None}


def _key_state(settings: Any, env_vars: tuple[str, ...]) -> str:
    from glm_cli.config import key_folder
    from glm_cli.keystore import DEFAULT, stored_key

    for var in env_vars:
        if settings.environ.get(var, "").strip():
            return f"set (env {var})"
    if stored_key(key_folder(settings.environ), settings.profile):
        return f"stored by glm auth login ({settings.profile or DEFAULT})"
    if settings.api_key_cmd:
        return f"from command ({settings.source('api_key_cmd')})"
    if settings.api_key_env:
        state = "set" if settings.environ.get(settings.api_key_env) else "NOT set"
        return f"env {settings.api_key_env} ({state})"
    if settings.api_key:
        return f"set ({settings.source('api_key')})"
    if settings.profile and stored_key(key_folder(settings.environ), None):
        return f"stored by glm auth login ({DEFAULT})"
    return "missing"


def command() -> Any:
    """The `glm config` group."""
    return binding.group(
        "config",
        "Show, locate or create the YAML config.",
        [
            binding.command(
                ShowOptions,
                run_show,
                name="show",
                help="Print the effective settings and where each comes from (the key is never shown).",
            ),
            binding.command(PathOptions, run_path, name="path", help="Print the config file's path."),
            binding.command(
                PresetsOptions,
                run_presets,
                name="presets",
                help="List the presets (built-in and your config's), or print one's definition.",
            ),
            binding.command(
                InitOptions,
                run_init,
                name="init",
                help="Write a commented starter config (mode 0600); refuses to overwrite.",
            ),
        ],
    )
