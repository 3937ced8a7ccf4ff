"""`glm models` and `glm models show ID`: the model catalogue, optionally merged with the endpoint's GET /models."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.flags import Argument, Help, Option
from glm_cli.errors import GlmError, ProtocolError, UsageError
from glm_cli.redact import redact_url
from glm_cli.shape import shape_error, want_list, want_object

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.catalogue import Catalogue, ModelInfo
    from glm_cli.config import Settings

REMOTE_TIMEOUT = 5.0
FAMILY_NAMES = {"zai": "Z.ai", "bigmodel": "BigModel"}
MODEL_ID = re.compile(r"[^\s\x00-\x1f\x7f-\x9f]{1,200}")  # what GET /models may list: no spaces or control codes


Remote = Annotated[
    bool,
    Option(
        "--remote", help="Also ask the endpoint's GET /models (a warning if it fails).", rich_help_panel=o.CONNECTION
    ),
]
Timeout = Annotated[
    float,
    Option("--timeout", metavar="SECONDS", help="Seconds to wait for --remote.", rich_help_panel=o.CONNECTION),
]


@dataclass(frozen=True)
class ModelsOptions:
    as_json: Annotated[o.AsJson, Help("Print the whole catalogue as JSON (retired models and aliases too).")] = False
    remote: Remote = False
    include_retired: Annotated[
        bool, Option("--all", "-a", help="Include retired models.", rich_help_panel=o.OUTPUT)
    ] = False
    timeout: Timeout = REMOTE_TIMEOUT
    endpoint: o.Endpoint = None
    profile: o.Profile = None


@dataclass(frozen=True)
class ShowOptions:
    model: Annotated[str, Argument(metavar="MODEL", help="Model id or alias."), o.MODELS]
    as_json: Annotated[o.AsJson, Help("Print this model as JSON, with the source of each fact.")] = False
    remote: Remote = False
    timeout: Timeout = REMOTE_TIMEOUT
    endpoint: o.Endpoint = None
    profile: o.Profile = None


def _catalogue(opts: ModelsOptions | ShowOptions, app: App) -> tuple[Settings, Catalogue]:
    """The settings and the catalogue (merged with GET /models with --remote: only then is the network used)."""
    from glm_cli.commands.options import setting_flags

    if opts.timeout <= 0:
        raise UsageError(f"--timeout must be more than 0 seconds, got {opts.timeout:g}")
    settings = app.settings(setting_flags(endpoint=opts.endpoint), profile=opts.profile)
    catalogue = app.catalogue(settings)
    if opts.remote:
        catalogue = with_remote(app, settings, catalogue, opts.timeout)
    return settings, catalogue


def run_models(opts: ModelsOptions, app: App) -> int:
    """List the catalogue: a table on a terminal, ids when piped, or JSON."""
    settings, catalogue = _catalogue(opts, app)
    out = app.ios.stdout
    models = [catalogue.models[mid] for mid in catalogue.ids(include_retired=opts.include_retired)]
    if opts.as_json:
        out.write(json.dumps(catalogue.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif app.ios.stdout_tty:
        _table(app, settings, catalogue, models)
    else:
        out.write("".join(f"{m.id}\n" for m in models))
    out.flush()
    return 0


def run_show(opts: ShowOptions, app: App) -> int:
    """Print everything known about one model."""
    settings, catalogue = _catalogue(opts, app)
    return show_model(app, catalogue, opts)


def with_remote(app: App, settings: Settings, catalogue: Catalogue, timeout: float) -> Catalogue:
    """Merge GET {base}/models into the catalogue; any failure is a warning and the catalogue stays as it was."""
    from datetime import date

    from glm_cli.catalogue import merge_remote

    url = redact_url(f"{settings.base_url}/models")
    quick = replace(
        settings,
        timeout=timeout,
        max_retries=0,
        deadline=timeout,
        connect_timeout=min(timeout, settings.connect_timeout),
    )
    try:
        client = app.make_client(quick)
        try:
            data = client.request_json("GET", "/models")
        finally:
            client.close()
        ids = model_ids(data)
    except GlmError as err:
        app.warn(f"could not list models from {url}: {err.message}; showing the shipped catalogue only")
        return catalogue
    except Exception as exc:  # noqa: BLE001 - --remote must never turn a listing into a failure
        app.warn(
            f"could not list models from {url}: {exc.__class__.__name__}: {exc}; showing the shipped catalogue only"
        )
        return catalogue
    merged = merge_remote(catalogue, ids, f"GET {url}", date.today().isoformat())
    unknown = sum(1 for m in merged.models.values() if m.origin == "remote")
    unlisted = sum(1 for m in merged.models.values() if m.listed is False and m.status != "retired")
    app.ios.stderr.write(
        f"glm: {url} lists {len(set(ids))} models: {unknown} not in the catalogue, "
        f"{unlisted} current catalogue models not listed\n"
    )
    return merged


def model_ids(data: Any) -> list[str]:
    """Return the ids of a GET /models answer (`{"data": [{"id": …}, …]}`); ProtocolError if it is not one."""
    items = want_list(want_object(data, "the answer").get("data"), "data")
    if not items:
        raise ProtocolError("the server answered without a model list (`data` is missing or empty)")
    for n, item in enumerate(items):
        model_id = want_object(item, f"data[{n}]").get("id")
        if not isinstance(model_id, str) or not MODEL_ID.fullmatch(model_id):
            raise shape_error(f"data[{n}].id", model_id, "a model id")
    return [item["id"] for item in items]


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def _notes(m: ModelInfo, aliases: list[str]) -> str:
    notes = [("alias " if len(aliases) == 1 else "aliases ") + ", ".join(aliases)] if aliases else []
    if m.status == "retired":
        notes.append(
            "retired" + (f" {m.retired}" if m.retired else "") + (f", use {m.replacement}" if m.replacement else "")
        )
    elif m.status != "current":
        notes.append(m.status)
    if m.region == "bigmodel":
        notes.append("BigModel only")
    if m.origin == "config":
        notes.append("from config")
    if m.origin == "remote":
        notes.append("listed by the endpoint; not in the catalogue")
    elif m.listed is False:
        notes.append("not listed by the endpoint")
    return "; ".join(notes)


def _table(app: App, settings: Settings, catalogue: Catalogue, models: list[ModelInfo]) -> None:
    from glm_cli.catalogue import format_tokens, price_text
    from glm_cli.render import render_table

    family = settings.family
    rows = [
        [
            m.id,
            format_tokens(m.context),
            format_tokens(m.max_output),
            m.thinking or "?",
            _yes_no(m.tools),
            _yes_no(m.vision),
            price_text(m, family) or "-",
            _notes(m, catalogue.aliases_of(m.id)),
        ]
        for m in models
    ]
    caption = (
        f"ctx: context window, out: max output tokens; price per 1M tokens (input/cached/output) on "
        f"{FAMILY_NAMES[family]}; catalogue as of {catalogue.as_of}; whole notes and sources: glm models show ID"
    )
    render_table(
        app.ios, ["model", "ctx", "out", "think", "tools", "vision", "price", "notes"], rows, caption=caption, cut=7
    )


def show_model(app: App, catalogue: Catalogue, opts: ShowOptions) -> int:
    """Print everything known about one model, each fact with its source and date."""
    name = opts.model or ""
    info = catalogue.get(name)
    if info is None:
        target = catalogue.resolve(name)
        if target != name:  # an alias of a model the catalogue does not know: name both, suggest neither
            raise UsageError(
                f"{name!r} is an alias of {target!r}, which is not in the catalogue",
                "fix `aliases:` in the config, or describe the model under `models:`",
            )
        close = catalogue.close_match(name)
        raise UsageError(
            f"unknown model {name!r}: not in the catalogue" + (" or GET /models" if opts.remote else ""),
            f"did you mean {close}?"
            if close
            else "`glm models` lists them; add your own under `models:` in the config",
        )
    rows = fact_rows(info, catalogue)
    out = app.ios.stdout
    if opts.as_json:
        record = {
            **info.to_json(),
            "aliases": catalogue.aliases_of(info.id),
            "sources": {key: source for key, _, source in rows},
        }
        record.pop("fact_sources", None)
        out.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return 0
    # Each fact points at its source: [1], [2]… listed below, so a shared source is written once.
    notes = list(dict.fromkeys(source for _, _, source in rows))
    width = max(len(key) for key, _, _ in rows)
    out.write("".join(f"{key.ljust(width)}  {value}  [{notes.index(source) + 1}]\n" for key, value, source in rows))
    out.write("\n" + "".join(f"[{n}] {source}\n" for n, source in enumerate(notes, 1)))
    return 0


def fact_rows(m: ModelInfo, catalogue: Catalogue) -> list[tuple[str, str, str]]:
    """Return (fact, value, source) for every fact known about a model."""
    from glm_cli.catalogue import format_tokens, price_text

    rows: list[tuple[str, str, str]] = [("id", m.id, m.source_of("id"))]
    aliases = catalogue.aliases_of(m.id)
    if aliases:
        rows.append(("aliases", ", ".join(aliases), "catalogue and config aliases"))
    for key in ("status", "retired", "replacement", "released", "region"):
        if getattr(m, key) is not None:
            rows.append((key, str(getattr(m, key)), m.source_of(key)))
    for key in ("context", "max_output", "default_max_tokens"):
        n = getattr(m, key)
        if n is not None:
            rows.append((key, f"{format_tokens(n)} ({n:,} tokens)", m.source_of(key)))
    if m.thinking is not None:
        rows.append(("thinking", m.thinking, m.source_of("thinking")))
    for key in ("tools", "vision"):
        if getattr(m, key) is not None:
            rows.append((key, _yes_no(getattr(m, key)), m.source_of(key)))
    for family, price in m.prices.items():
        text = f"{price_text(m, family) or 'unknown'} per 1M tokens (input/cached/output)"
        if price.get("tiers"):
            text += "; tiers: " + "; ".join(_tier_text(t) for t in price["tiers"])
        rows.append((f"price {family}", text, m.source_of("prices", family)))
    if m.listed is not None:
        rows.append(("listed", _yes_no(m.listed), m.source_of("listed")))
    return rows


def _tier_text(tier: dict[str, Any]) -> str:
    from glm_cli.catalogue import format_tokens

    cond = [
        f"{what} < {format_tokens(tier[key])}"
        for key, what in (("max_input", "input"), ("max_output", "output"))
        if tier.get(key) is not None
    ]
    cached = "-" if tier.get("cached") is None else f"{tier['cached']:g}"
    return f"{', '.join(cond) or 'otherwise'}: {tier['input']:g}/{cached}/{tier['output']:g}"


def command() -> Any:
    """The `glm models` group: the listing is its own callback, `show` its one subcommand."""
    show = binding.command(
        ShowOptions,
        run_show,
        name="show",
        help="Everything known about one model, with the source and date of each fact.",
    )
    listing = binding.command(ModelsOptions, run_models, name="models", group_callback=True, help="")
    return binding.group(
        "models",
        "List the models glm knows: a table on a terminal, one id per line when piped.",
        [show],
        options=listing,
    )
