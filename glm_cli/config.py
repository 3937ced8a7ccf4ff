"""Settings (frozen, each value remembers its source) and loading them from flags, env and YAML."""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from glm_cli.errors import ConfigError
from glm_cli.shape import is_text

ENDPOINTS = {
    "zai": "https://api.z.ai/api/paas/v4",
    "bigmodel": "https://open.bigmodel.cn/api/paas/v4",
    "zai-coding": "https://api.z.ai/api/coding/paas/v4",
    "bigmodel-coding": "https://open.bigmodel.cn/api/coding/paas/v4",
}
KEY_ENV_VARS = ("GLM_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY")
# Zhipu's two API hosts, by endpoint family (Z.ai bills in USD, BigModel in CNY).
FAMILY_HOSTS = {"zai": "api.z.ai", "bigmodel": "open.bigmodel.cn"}

_NUM = (int, float)


def _setting(accepts: tuple[type, ...], default: Any, doc: str) -> Any:
    """A Settings value: the YAML types it accepts, its default and what it is (PROFILE_FIELDS is made of these)."""
    return field(metadata={"accepts": accepts, "default": default, "doc": doc})


def _preset_field(accepts: tuple[type, ...], doc: str) -> Any:
    return field(default=None, metadata={"accepts": accepts, "doc": doc})


@dataclass(frozen=True)
class Preset:
    """A named preset (`glm ask -p NAME`): settings and how to ask; None is "not set by the preset"."""

    name: str
    description: str | None = _preset_field((str,), "one line shown in listings")
    system: str | None = _preset_field((str,), "system prompt")
    model: str | None = _preset_field((str,), "model id or alias")
    thinking: bool | None = _preset_field((bool,), "thinking on/off")
    show_thinking: bool | None = _preset_field((bool,), "show reasoning")
    temperature: float | None = _preset_field(_NUM, "temperature")
    top_p: float | None = _preset_field(_NUM, "top_p")
    max_tokens: int | None = _preset_field((int,), "max output tokens")
    json: bool | None = _preset_field((bool,), "ask for a JSON object answer")
    output: str | None = _preset_field((str,), "text or json")
    template: str | None = _preset_field((str,), "prompt template; {input} is the prompt and stdin")
    tools: tuple[str, ...] | None = _preset_field((list,), "tool files offered to the model")
    params: dict[str, Any] | None = _preset_field((dict,), "extra request fields (as `params:` in a profile)")
    origin: str = field(default="", compare=False)  # "built-in", or "config FILE" (glm config presets)

    def settings(self) -> dict[str, Any]:
        """The settings this preset sets, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in PROFILE_FIELDS and getattr(self, f.name) is not None
        }


NO_PRESET = Preset("")


@dataclass(frozen=True)
class Settings:
    """Effective settings, typed and frozen; ``source(name)`` says where each value came from.

    Built by load_settings (each value is checked there); changed only by with_values.
    """

    endpoint: str = _setting((str,), "zai", "one of " + ", ".join(ENDPOINTS))
    base_url: str = _setting((str,), None, "API base URL; overrides endpoint")  # here: resolved, never None
    api_key: str | None = _setting((str,), None, "the API key itself (prefer api_key_env or api_key_cmd)")
    api_key_env: str | None = _setting((str,), None, "name of an environment variable holding the key")
    api_key_cmd: str | tuple[str, ...] | None = _setting((str, list), None, "command whose stdout is the key")
    model: str = _setting((str,), "glm-4.7", "model id or alias")
    temperature: float | None = _setting(_NUM, None, "sampling temperature 0..1")
    top_p: float | None = _setting(_NUM, None, "nucleus sampling 0.01..1")
    max_tokens: int | None = _setting((int,), None, "maximum output tokens")
    thinking: bool | None = _setting((bool,), None, "send thinking.type enabled/disabled (unset: server default)")
    clear_thinking: bool | None = _setting((bool,), None, "send thinking.clear_thinking")
    show_thinking: bool | None = _setting((bool,), None, "show reasoning on stderr (unset: when stderr is a TTY)")
    system: str | None = _setting((str,), None, "system prompt")
    timeout: float = _setting(_NUM, 300.0, "read timeout in seconds")
    connect_timeout: float = _setting(_NUM, 10.0, "connect timeout in seconds")
    deadline: float = _setting(
        _NUM, 600.0, "seconds one request may take in all: every try, wait and byte of the answer"
    )
    max_response_mb: float = _setting(_NUM, 64, "MiB one answer may take, as read and as unpacked")
    max_retries: int = _setting((int,), 3, "retries on rate limits, 5xx and network errors")
    proxy: str | None = _setting((str,), None, "proxy URL (HTTP(S)_PROXY are honoured too)")
    log: bool = _setting((bool,), True, "log conversations to the history store")
    tools: tuple[str, ...] | None = _setting(
        (list,), None, "tool files (YAML/JSON) offered to the model on every request"
    )
    mcp_servers: dict[str, Any] | None = _setting(
        (dict,), None, "named MCP servers for --mcp-server NAME (command, args, env, tools)"
    )
    # issue 13: what tools and MCP servers get (glm_cli/tools/files.py withheld_vars, tools/mcp.py McpHub)
    env_withhold: tuple[str, ...] | None = _setting(
        (list,), None, "environment variables never passed to tools or MCP servers"
    )
    mcp_start_timeout: float | None = _setting(_NUM, None, "seconds an MCP server may take to start (default 30)")
    # issue 13: request fields glm has no flag for (glm_cli/request.py apply_params); merged key by key across layers
    params: dict[str, Any] | None = _setting(
        (dict,), None, "extra request fields sent as given (a.b: nested; KEY!: replace a field glm sets)"
    )
    # Where the values came from, and what else the config file holds.
    sources: dict[str, str] = field(default_factory=dict)
    profile: str | None = None
    profile_source: str = "none"  # how the profile was chosen: flag --profile, env GLM_PROFILE, default_profile
    config_path: Path | None = None
    preset: Preset = NO_PRESET  # the one chosen with -p
    presets: dict[str, Preset] = field(default_factory=dict)
    catalogue_overrides: dict[str, Any] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict, repr=False)
    warnings: tuple[str, ...] = ()  # for stderr, once (App.settings): e.g. a key file others can read

    @property
    def coding_endpoint(self) -> bool:
        return "/coding/" in self.base_url + "/"

    @property
    def family(self) -> str:
        """The endpoint family ("zai" or "bigmodel") whose prices and currency apply (see family_of)."""
        return family_of(self.base_url, self.endpoint)

    def source(self, name: str) -> str:
        if name == "base_url" and name not in self.sources:
            return self.source("endpoint")  # the URL is the endpoint's
        return self.sources.get(name, "default")

    def items(self) -> list[tuple[str, Any]]:
        """Every value with its name, in the order of PROFILE_FIELDS (for `glm config show`)."""
        return [(name, getattr(self, name)) for name in VALUE_NAMES]

    def with_values(self, source: str, **changes: Any) -> Settings:
        """Return these settings with some values changed (by chat's /model, a batch line...), from SOURCE.

        Not endpoint or base_url: the URL was resolved from them when loading.
        """
        fixed = (set(changes) - set(VALUE_NAMES)) | (set(changes) & {"endpoint", "base_url"})
        if fixed:
            raise TypeError(f"cannot change {', '.join(sorted(fixed))} of loaded settings")
        return replace(self, **changes, sources={**self.sources, **dict.fromkeys(changes, source)})


# The keys of a profile (and of the top level): name -> (accepted types, default, what it is).
PROFILE_FIELDS: dict[str, tuple[tuple[type, ...], Any, str]] = {
    f.name: (f.metadata["accepts"], f.metadata["default"], f.metadata["doc"])
    for f in fields(Settings)
    if "accepts" in f.metadata
}
VALUE_NAMES = tuple(PROFILE_FIELDS)
PROFILE_FIELDS["presets"] = ((dict,), None, "named presets for `glm ask -p NAME`")
PRESET_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    f.name: (f.metadata["accepts"], f.metadata["doc"]) for f in fields(Preset) if "accepts" in f.metadata
}
TOP_LEVEL_ONLY = {
    "default_profile": ((str,), "profile used when none is chosen"),
    "profiles": ((dict,), "named profiles"),
    "models": ((dict,), "catalogue overrides and new models"),
    "aliases": ((dict,), "model aliases, e.g. fast: glm-4.7-flashx"),
}
# Environment variables that set a field (key variables are handled separately).
# Later entries win: the official SDKs' base URL variables (zhipuai's, then zai-sdk's) are honoured as the SDKs
# honour them, below glm's own GLM_BASE_URL.
ENV_FIELDS = {
    "ZHIPUAI_BASE_URL": "base_url",
    "ZAI_BASE_URL": "base_url",
    "GLM_BASE_URL": "base_url",
    "GLM_MODEL": "model",
    "GLM_ENDPOINT": "endpoint",
}
BASE_URL_VARS = tuple(var for var, key in ENV_FIELDS.items() if key == "base_url")


def family_of(base_url: str | None, endpoint: str | None = None) -> str:
    """The endpoint family, "zai" or "bigmodel": BASE_URL's when it is one of Zhipu's hosts, else the ENDPOINT
    setting's (a proxy in front of BigModel: `endpoint: bigmodel` beside its base_url), else zai."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(base_url or "").hostname
    except ValueError:
        host = None
    for name, zhipu_host in FAMILY_HOSTS.items():
        if host == zhipu_host:
            return name
    return "bigmodel" if str(endpoint or "").startswith("bigmodel") else "zai"


def config_path(environ: dict[str, str]) -> tuple[Path, bool]:
    """Return the config file path and whether it was named explicitly ($GLM_CONFIG)."""
    if environ.get("GLM_CONFIG"):
        return Path(environ["GLM_CONFIG"]).expanduser(), True
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")) / ".config")
    return Path(base).expanduser() / "glm" / "config.yaml", False


def key_folder(environ: dict[str, str]) -> Path:
    """Where `glm auth login` keeps its keys: the config file's folder."""
    return config_path(environ)[0].parent


# Lists and mappings whose scalars stay the strings written (`args: [--flag, yes]` is not `True`): argv, environment
ARGV_KEYS = ("command", "args", "env", "headers", "api_key_cmd", "env_withhold")
MAX_CONFIG_BYTES = 1 << 20  # a config is a few KB; a bigger file (or /dev/zero) is the wrong file


def _read_yaml(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ConfigError(
                f"config file {path} does not exist", "unset GLM_CONFIG or create it with `glm config init`"
            )
        return {}
    from glm_cli.safe_yaml import YamlError, load_yaml

    try:
        with open(path, "rb") as fh:  # read with a bound: the path may be a device or a pipe
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"config file {path} is larger than 1 MiB; is it the right file?")
        data = load_yaml(raw.decode("utf-8"), ARGV_KEYS)
    except YamlError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _type_name(types: tuple[type, ...]) -> str:
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        dict: "a mapping",
        list: "a list",
    }
    if types == _NUM:
        return "a number"
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check(path: Path | str, key: str, value: Any, types: tuple[type, ...]) -> Any:
    # bool is an int subclass: `temperature: true` must not pass as a number.
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        raise ConfigError(
            f"{path}: `{key}` must be {_type_name(types)}, got {value!r}",
        )
    return value


def _unknown(path: Path | str, key: str, where: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
    hint = f"did you mean `{close[0]}`?" if close else "known keys: " + ", ".join(sorted(known))
    return ConfigError(f"{path}: unknown key `{key}` in {where}", hint)


def _profile_layer(
    path: Path, data: dict[str, Any], prefix: str, where: str, allowed_extra: set[str]
) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key in allowed_extra:
            continue
        if key not in PROFILE_FIELDS:
            raise _unknown(path, prefix + key, where, list(PROFILE_FIELDS) + sorted(allowed_extra))
        if value is None:
            continue
        layer[key] = _check(path, prefix + key, value, PROFILE_FIELDS[key][0])
        _check_tool_keys(path, prefix + key, value)
    if "endpoint" in layer and layer["endpoint"] not in ENDPOINTS:
        raise ConfigError(
            f"{path}: `{prefix}endpoint` is {layer['endpoint']!r}, expected one of " + ", ".join(ENDPOINTS),
            "or set base_url to any URL",
        )
    return layer


def _check_tool_keys(path: Path | str, key: str, value: Any) -> None:
    """Check `tools:` (a list of file names) and `mcp_servers:` (each server's own keys) when loading."""
    name = key.rsplit(".", 1)[-1]
    if name == "tools" and not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: `{key}` must be a list of tool file paths")
    if name == "env_withhold" and not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{path}: `{key}` must be a list of environment variable names")
    if name == "params":
        for param, field_value in value.items():
            if (problem := param_key_problem(param)) is not None:
                raise ConfigError(f"{path}: `{key}`: {problem}")
            if (problem := param_value_problem(field_value)) is not None:
                raise ConfigError(f"{path}: `{key}.{param}`: {problem}")
    if name == "mcp_servers":
        from glm_cli.mcp_config import parse_servers

        parse_servers(value, str(path), key)


def _presets(path: Path | str, raw: Any, prefix: str, origin: str | None = None) -> dict[str, Preset]:
    out: dict[str, Preset] = {}
    for name, body in (raw or {}).items():
        where = f"{prefix}presets.{name}"
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: `{where}` must be a mapping of preset fields")
        values: dict[str, Any] = {}
        for key, value in body.items():
            if key not in PRESET_FIELDS:
                raise _unknown(path, f"{where}.{key}", f"preset {name!r}", list(PRESET_FIELDS))
            values[key] = _frozen(_check(path, f"{where}.{key}", value, PRESET_FIELDS[key][0]))
            _check_tool_keys(path, f"{where}.{key}", value)
        if values.get("output") not in (None, "text", "json"):
            raise ConfigError(f"{path}: `{where}.output` must be text or json")
        out[str(name)] = Preset(str(name), **values, origin=origin or f"config {path}")
    return out


def builtin_presets() -> dict[str, Preset]:
    """The presets glm ships (glm_cli/presets.py), checked as a config's are."""
    from glm_cli.presets import BUILTIN_PRESETS

    return _presets("built-in presets", BUILTIN_PRESETS, "", "built-in")


def _frozen(value: Any) -> Any:
    """A list value (tools, api_key_cmd) as a tuple: settings do not change once loaded."""
    return tuple(value) if isinstance(value, list) else value


def load_settings(
    environ: dict[str, str],
    flags: dict[str, Any] | None = None,
    *,
    profile: str | None = None,
    preset: str | None = None,
) -> Settings:
    """Resolve settings: flag > preset > environment > profile > config top level > default."""
    path, explicit = config_path(environ)
    data = _read_yaml(path, explicit)
    extra = set(TOP_LEVEL_ONLY)
    for key in ("default_profile", "profiles", "models", "aliases"):
        if key in data and data[key] is not None:
            _check(path, key, data[key], TOP_LEVEL_ONLY[key][0])
    top = _profile_layer(path, data, "", "the top level", extra)
    chosen, chosen_src, prof = _chosen_profile(path, data, environ, profile)

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    # Precedence, lowest first so later layers win:
    # 5. built-in defaults
    for key, (_, default, _) in PROFILE_FIELDS.items():
        values[key] = default
    # 4. the config file's top level
    for key, value in top.items():
        _put(values, sources, key, value, f"config {path}")
    # 3. the selected profile
    for key, value in prof.items():
        _put(values, sources, key, value, f"profile {chosen} ({path})")
    # 2. environment variables
    for var, key in ENV_FIELDS.items():
        if environ.get(var):
            if not is_text(environ[var]):  # undecodable bytes arrive as lone surrogates
                raise ConfigError(f"env {var} is not valid UTF-8 text: set it again in UTF-8")
            values[key], sources[key] = environ[var], f"env {var}"
    if not any(environ.get(var) for var in BASE_URL_VARS) and "endpoint" in sources and "base_url" in sources:
        # An endpoint chosen in a more specific layer than base_url wins over it.
        if _rank(sources["endpoint"]) > _rank(sources["base_url"]):
            values["base_url"] = None
            del sources["base_url"]
    if values["endpoint"] not in ENDPOINTS:
        raise ConfigError(
            f"endpoint {values['endpoint']!r} ({sources.get('endpoint')}) is not one of " + ", ".join(ENDPOINTS)
        )

    presets = builtin_presets()  # a config preset of the same name replaces a built-in one
    presets.update(_presets(path, top.get("presets"), ""))
    presets.update(_presets(path, prof.get("presets"), f"profiles.{chosen}."))
    values.pop("presets", None)
    # 1.5 a preset chosen with -p
    if preset:
        if preset not in presets:
            raise ConfigError(
                f"unknown preset {preset!r}",
                f"presets: {', '.join(sorted(presets))} (`glm config presets`); add your own under presets: in {path}",
            )
        for key, value in presets[preset].settings().items():
            _put(values, sources, key, value, f"preset {preset}")
    # 1. command-line flags
    _apply_flags(values, sources, flags or {})
    _check_values(values, sources)
    # The URL: base_url when set (in the layer that wins), else the endpoint's.
    values["base_url"] = str(values["base_url"]).rstrip("/") if values["base_url"] else ENDPOINTS[values["endpoint"]]

    return Settings(
        **{name: _frozen(values[name]) for name in VALUE_NAMES},
        sources=sources,
        preset=presets[preset] if preset else NO_PRESET,
        profile=chosen,
        profile_source=chosen_src if chosen else "none",
        config_path=path,
        presets=presets,
        catalogue_overrides={k: data[k] for k in ("models", "aliases") if data.get(k)},
        environ=dict(environ),
        warnings=_key_file_warnings(path, data),
    )


def _key_file_warnings(path: Path, data: dict[str, Any]) -> tuple[str, ...]:
    """Warn, as ssh does, when a config file that holds an API key is open to other users."""
    profiles = data.get("profiles") or {}
    if os.name != "posix" or not (
        data.get("api_key") or any(isinstance(body, dict) and body.get("api_key") for body in profiles.values())
    ):
        return ()
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return ()
    if not mode & 0o077:
        return ()
    return (f"{path} holds an API key and other users can access it (mode {mode:04o}); run: chmod 600 {path}",)


def _chosen_profile(
    path: Path, data: dict[str, Any], environ: dict[str, str], profile: str | None
) -> tuple[str | None, str, dict[str, Any]]:
    """Return the profile chosen (--profile > GLM_PROFILE > default_profile), how, and its checked layer."""
    profiles = data.get("profiles") or {}
    chosen, chosen_src = profile, "flag --profile"
    if not chosen and environ.get("GLM_PROFILE"):
        chosen, chosen_src = environ["GLM_PROFILE"], "env GLM_PROFILE"
    if not chosen and data.get("default_profile"):
        chosen, chosen_src = data["default_profile"], f"default_profile in {path}"
    # Every profile is checked, not only the chosen one: a typo should not wait to bite.
    layers: dict[str, dict[str, Any]] = {}
    for name, body in profiles.items():
        if not isinstance(body or {}, dict):
            raise ConfigError(f"{path}: `profiles.{name}` must be a mapping")
        layers[str(name)] = _profile_layer(path, body or {}, f"profiles.{name}.", f"profile {name!r}", set())
        _presets(path, layers[str(name)].get("presets"), f"profiles.{name}.")
    if chosen and chosen not in layers:
        known = ", ".join(sorted(layers)) or "none defined"
        raise ConfigError(f"unknown profile {chosen!r} (from {chosen_src}) in {path}", f"profiles: {known}")
    return chosen, chosen_src, (layers.get(chosen, {}) if chosen else {})


def _put(values: dict[str, Any], sources: dict[str, str], key: str, value: Any, source: str) -> None:
    """Set VALUES[KEY] from SOURCE; `params` are merged field by field (a later layer replaces a field, not all).

    Each field's source is kept as `params.NAME` (NAME without its `!`), for the messages that name it.
    """
    if key != "params":
        values[key], sources[key] = value, source
        return
    merged = dict(values.get("params") or {})
    for name, field_value in value.items():
        bare = str(name).rstrip("!")
        merged.pop(bare, None)
        merged.pop(bare + "!", None)
        merged[name] = field_value
        sources[f"params.{bare}"] = source
    values["params"], sources["params"] = merged, source


PARAM_KEY = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*!?")


def param_key_problem(key: Any) -> str | None:
    """Why KEY cannot name a request field (None: it can): NAME, a.b.c for a nested one, a `!` at the end."""
    if isinstance(key, str) and PARAM_KEY.fullmatch(key):
        return None
    return f"{key!r} is not a field name (letters, digits, _ and -; a.b for a nested field; a final ! to override)"


PARAM_DEPTH = 100  # nesting levels a `params` value may have (as answers and tool arguments)


def param_value_problem(value: Any, depth: int = 0) -> str | None:
    """Why VALUE cannot be sent as JSON (None: it can): a YAML date or binary, NaN or an infinite number (JSON
    has no such values), a key that is not text, arrays and objects nested more than PARAM_DEPTH deep."""
    if isinstance(value, (list, tuple, dict)) and depth >= PARAM_DEPTH:
        return f"it is nested deeper than {PARAM_DEPTH} levels"
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a JSON number"
    if isinstance(value, (list, tuple)):
        return next((p for v in value if (p := param_value_problem(v, depth + 1)) is not None), None)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return "an object key is not text"
        return next((p for v in value.values() if (p := param_value_problem(v, depth + 1)) is not None), None)
    return f"a {type(value).__name__} is not a JSON value (quote it to send text)"


def parse_params(texts: tuple[str, ...]) -> dict[str, Any]:
    """Return the `--param KEY=VALUE` flags as fields: VALUE is JSON when it parses as JSON, else the string."""
    import json

    from glm_cli.errors import UsageError

    def no_constant(name: str) -> Any:
        raise ValueError(name)  # NaN and Infinity are not JSON: the text as written

    out: dict[str, Any] = {}
    for text in texts:
        key, eq, raw = text.partition("=")
        if not eq:
            raise UsageError(f"--param needs KEY=VALUE, got {text!r}", "e.g. --param do_sample=false")
        if (problem := param_key_problem(key)) is not None:
            raise UsageError(f"--param {text!r}: {problem}")
        try:
            value = json.loads(raw, parse_constant=no_constant)
        except RecursionError:
            raise UsageError(f"--param {key}: it is nested deeper than {PARAM_DEPTH} levels") from None
        except ValueError:
            value = raw
        if (problem := param_value_problem(value)) is not None:
            raise UsageError(f"--param {key}: {problem}", "a number past 1.8e308 cannot be sent; quote it for text")
        bare = key.rstrip("!")
        out.pop(bare, None)
        out.pop(bare + "!", None)
        out[key] = value
    return out


def _apply_flags(values: dict[str, Any], sources: dict[str, str], flags: dict[str, Any]) -> None:
    """Put the command-line flags over VALUES; --endpoint drops a base_url from any other layer."""
    for key, value in flags.items():
        if value is not None:
            if key == "endpoint" and value not in ENDPOINTS:
                from glm_cli.errors import UsageError

                raise UsageError(f"unknown endpoint {value!r}; expected one of " + ", ".join(ENDPOINTS))
            _put(values, sources, key, value, "flag --param" if key == "params" else f"flag --{key.replace('_', '-')}")
            if key == "endpoint":
                values["base_url"] = None
                sources.pop("base_url", None)


# Values whose type alone does not make them usable: (check, what is expected). Checked once, on the result.
_VALUE_CHECKS: dict[str, tuple[Any, str]] = {
    "timeout": (lambda v: v > 0, "more than 0 seconds"),
    "connect_timeout": (lambda v: v > 0, "more than 0 seconds"),
    "mcp_start_timeout": (lambda v: v > 0, "more than 0 seconds"),
    "deadline": (lambda v: v > 0, "more than 0 seconds"),
    "max_response_mb": (lambda v: v > 0, "more than 0 (MiB)"),
    "max_retries": (lambda v: v >= 0, "0 or more"),
    "base_url": (lambda v: str(v).startswith(("http://", "https://")), "an http:// or https:// URL"),
    "proxy": (
        lambda v: str(v).startswith(("http://", "https://", "socks5://", "socks5h://")),
        "an http://, https://, socks5:// or socks5h:// URL",
    ),
}


def _check_values(values: dict[str, Any], sources: dict[str, str]) -> None:
    """Refuse, before any network, a value that would only fail later (a negative timeout, a URL without scheme)."""
    for key, (ok, expected) in _VALUE_CHECKS.items():
        value = values.get(key)
        if value is not None and not ok(value):
            raise ConfigError(f"`{key}` must be {expected}, got {value!r} (from {sources.get(key, 'default')})")


def _rank(source: str) -> int:
    for rank, prefix in enumerate(("config", "profile", "env", "preset", "flag")):
        if source.startswith(prefix):
            return rank
    return -1


def resolve_api_key(settings: Settings) -> tuple[str, str]:
    """Return (key, where it came from), checked once before anything is sent; raise AuthError."""
    key, where = _find_api_key(settings)
    return _usable_key(key, where), where


def key_source(settings: Settings) -> tuple[str, str] | None:
    """Where the key will come from, without running or reading anything secret: (kind, detail) or None.

    Kinds: "env" (detail: the variable), "login" (the profile), "api_key_cmd", "api_key_env" (the variable),
    "api_key". The one order of the key's sources (the environment first, so CI can override any stored key):
    1. GLM_API_KEY / ZAI_API_KEY / ZHIPUAI_API_KEY; 2. the key `glm auth login [--profile P]` stored for the chosen
    profile (the newest, most explicit act); 3. the config file: api_key_cmd, api_key_env, api_key (profile over top
    level); 4. a profile with no key of its own: the default login's.
    """
    from glm_cli.keystore import DEFAULT, stored_key

    env = settings.environ
    for var in KEY_ENV_VARS:
        if env.get(var, "").strip():
            return "env", var
    profile = settings.profile or DEFAULT
    if stored_key(key_folder(env), profile):
        return "login", profile
    if settings.api_key_cmd:
        return "api_key_cmd", ""
    if settings.api_key_env:
        return "api_key_env", settings.api_key_env
    if settings.api_key:
        return "api_key", ""
    if settings.profile and stored_key(key_folder(env), None):
        return "login", DEFAULT
    return None


def key_reference(settings: Settings) -> tuple[str, str | None]:
    """The shell text that yields the key where it comes from (for a printed curl line; never the key itself),
    and a note when there is none: a key written in the config file has no shell form."""
    import shlex

    from glm_cli.keystore import store_path

    source = key_source(settings)
    kind, detail = source or ("", "")
    if kind in ("env", "api_key_env"):
        return f"${detail}", None
    if kind == "api_key_cmd":
        return f"$({shlex.join(_key_argv(settings.api_key_cmd or ()))})", None
    if kind == "login":
        path = shlex.quote(str(store_path(key_folder(settings.environ))))
        return f"$(jq -r --arg profile {shlex.quote(detail)} '.keys[$profile]' {path})", None
    why = (
        f"the key is written in the config ({settings.source('api_key')})"
        if kind == "api_key"
        else "no API key is set up"
    )
    return "$GLM_API_KEY", f"{why}: the curl line reads $GLM_API_KEY; export it before running it"


def _find_api_key(settings: Settings) -> tuple[str, str]:
    """Return (key, where it came from), in key_source's order; raise AuthError naming every way to set one."""
    from glm_cli.errors import AuthError
    from glm_cli.keystore import store_path, stored_key

    env = settings.environ
    kind, detail = key_source(settings) or ("", "")
    if kind == "env":
        return env[detail].strip(), f"env {detail}"
    if kind == "login":
        key = stored_key(key_folder(env), detail) or ""
        return key, f"glm auth login ({store_path(key_folder(env))}, {detail})"
    if kind == "api_key_cmd":
        where = f"api_key_cmd ({settings.source('api_key_cmd')})"
        return _run_key_cmd(settings.api_key_cmd or (), env, where), where
    if kind == "api_key_env":
        if env.get(detail, "").strip():
            return env[detail].strip(), f"env {detail} (api_key_env)"
        raise AuthError(
            f"api_key_env names ${detail}, but it is not set",
            f"export {detail}=... or change api_key_env in {settings.config_path}",
        )
    if kind == "api_key":
        return (settings.api_key or "").strip(), f"api_key ({settings.source('api_key')})"
    raise AuthError(
        "no API key found",
        "run `glm auth login`, or set one of: export GLM_API_KEY=... (or ZAI_API_KEY / ZHIPUAI_API_KEY); "
        f"or in {settings.config_path}: api_key_env: VAR, api_key_cmd: 'pass show glm', or api_key: ...",
    )


def _usable_key(key: str, where: str) -> str:
    """Return KEY if it can go in an HTTP header as is; else an AuthError naming WHERE and never the key."""
    from glm_cli.errors import AuthError
    from glm_cli.redact import hide

    # httpx would refuse it only when sending (after every retry, quoting the header with the key in it)
    bad = next((ch for ch in key if not "!" <= ch <= "~"), None)
    if bad is not None:
        what = (
            "a line break"
            if bad in "\r\n"
            else "a space"
            if bad == " "
            else "a non-ASCII character"
            if ord(bad) > 0x7E
            else "a control character"
        )
        raise AuthError(
            f"the API key from {where} is not usable: it contains {what}",
            "a key is one line of printable ASCII without spaces: check how it is set",
        )
    hide(key)  # defence in depth: should a server or a library quote it, it is masked (glm_cli/redact.py)
    return key


def _key_argv(cmd: str | tuple[str, ...]) -> list[str]:
    import shlex

    return shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]


def _run_key_cmd(cmd: str | tuple[str, ...], environ: dict[str, str], where: str) -> str:
    """Run api_key_cmd (WHERE: it and where it is set) and return the first line it prints; raise AuthError."""
    import subprocess

    from glm_cli.errors import AuthError

    argv = _key_argv(cmd)
    if not argv:
        raise AuthError(f"{where} is empty", "set it to the command that prints the key, e.g. pass show glm")
    program = argv[0]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, env={**os.environ, **environ})
    except FileNotFoundError:
        raise AuthError(
            f"{where}: program {program!r} not found",
            "install it, or give its full path in api_key_cmd",
        ) from None
    except PermissionError:
        raise AuthError(
            f"{where}: program {program!r} cannot be run (permission denied)", "check its mode: chmod +x"
        ) from None
    except subprocess.TimeoutExpired:
        raise AuthError(f"{where}: {program!r} did not finish within 30 s", "does it wait for input?") from None
    except OSError as exc:
        raise AuthError(f"{where}: cannot run {program!r}: {exc.strerror or exc}") from None
    key = proc.stdout.strip().splitlines()[0].strip() if proc.stdout.strip() else ""
    if proc.returncode != 0 or not key:
        raise AuthError(f"api_key_cmd {program!r} exited {proc.returncode} without printing a key")
    return key
