"""The model catalogue: shipped data (glm_cli/data/models.json) merged with the user's YAML overrides."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from glm_cli.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from glm_cli.config import Settings
    from glm_cli.events import Usage

THINKING_KINDS = ("always", "hybrid", "none")
STATUSES = ("current", "retired", "preview")
CURRENCY_SIGNS = {"USD": "$", "CNY": "¥"}
DEFAULT_FAMILY_CURRENCY = {"zai": "USD", "bigmodel": "CNY"}


@dataclass(frozen=True)
class ModelInfo:
    """Everything glm knows about one model; `source` and `as_of` say where and when from.

    None means "not known" (a model added in the config, or one only GET /models listed).
    `fact_sources` names the source of each fact that did not come from `source` (config overrides).
    """

    id: str
    context: int | None = None
    max_output: int | None = None
    default_max_tokens: int | None = None
    thinking: str | None = None
    tools: bool | None = None
    vision: bool | None = None
    status: str = "current"
    replacement: str | None = None
    retired: str | None = None
    region: str | None = None
    released: str | None = None
    prices: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    as_of: str | None = None
    origin: str = "catalogue"  # "catalogue", "config" (added or changed in config.yaml), "remote"
    listed: bool | None = None  # with --remote: did GET /models list it?
    fact_sources: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the model as a JSON-able dict (unknown fields left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, {})}

    def source_of(self, fact: str, family: str | None = None) -> str:
        """Return where FACT (a field name; for prices, one endpoint FAMILY's) comes from, with its date."""
        if fact == "prices" and family:
            price = self.prices.get(family) or {}
            if price.get("source"):
                return _dated(price["source"], price.get("as_of") or self.as_of)
            fact = f"prices.{family}"
        where = self.fact_sources.get(fact) or self.fact_sources.get(fact.split(".")[0])
        return where or _dated(self.source or self.origin, self.as_of)


def _dated(source: str, as_of: str | None) -> str:
    return f"{source}, as of {as_of}" if as_of else source


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "context": (int,),
    "max_output": (int,),
    "default_max_tokens": (int,),
    "thinking": (str,),
    "tools": (bool,),
    "vision": (bool,),
    "status": (str,),
    "replacement": (str,),
    "retired": (str,),
    "region": (str,),
    "released": (str,),
    "prices": (dict,),
    "source": (str,),
    "as_of": (str,),
}
_NUMBER = (int, float)
_PRICE_NUMBERS = ("input", "cached", "output")
_PRICE_KEYS: dict[str, tuple[type, ...]] = {
    "currency": (str,),
    **{k: _NUMBER for k in _PRICE_NUMBERS},
    "tiers": (list,),
    "source": (str,),
    "as_of": (str,),
}
_TIER_KEYS: dict[str, tuple[type, ...]] = {
    "max_input": (int,),
    "max_output": (int,),
    **{k: _NUMBER for k in _PRICE_NUMBERS},
}


def _check_keys(data: Any, known: dict[str, tuple[type, ...]], where: str, key: str) -> None:
    """Check a mapping's keys and value types; errors name the full key, e.g. models.x.prices.zai.input."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: `{key}` must be a mapping", "known keys: " + ", ".join(known))
    for name, value in data.items():
        types = known.get(name)
        if types is None:
            raise ConfigError(f"{where}: unknown key `{key}.{name}`", "known keys: " + ", ".join(known))
        if value is None:
            continue
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            names = "a number" if types == _NUMBER else " or ".join(t.__name__ for t in types)
            raise ConfigError(f"{where}: `{key}.{name}` must be {names}, got {value!r}")
        if types in (_NUMBER, (int,)) and isinstance(value, (int, float)) and value < 0:
            raise ConfigError(f"{where}: `{key}.{name}` must not be negative, got {value!r}")


def _check_prices(prices: dict[str, Any], where: str, key: str) -> None:
    for family, price in prices.items():
        if family not in DEFAULT_FAMILY_CURRENCY:
            raise ConfigError(
                f"{where}: unknown endpoint family `{key}.{family}`",
                "prices are per family: " + ", ".join(DEFAULT_FAMILY_CURRENCY),
            )
        _check_keys(price, _PRICE_KEYS, where, f"{key}.{family}")
        for n, tier in enumerate(price.get("tiers") or []):
            _check_keys(tier, _TIER_KEYS, where, f"{key}.{family}.tiers[{n}]")


def _merge_prices(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Merge price overrides family by family: flat prices replace tiers; a shipped price source is dropped."""
    out = dict(base)
    for family, price in new.items():
        merged = {**base.get(family, {}), **price}
        if "tiers" not in price and any(k in price for k in _PRICE_NUMBERS):
            merged.pop("tiers", None)
        if "source" not in price:
            merged.pop("source", None)
            merged.pop("as_of", None)
        out[family] = merged
    return out


def _model_from(mid: str, data: Any, where: str, base: ModelInfo | None = None, origin: str = "catalogue") -> ModelInfo:
    """Build (or, with BASE, change) one model from a mapping of facts; bad facts are ConfigErrors."""
    _check_keys(data, _FIELD_TYPES, where, f"models.{mid}")
    values = {k: v for k, v in data.items() if v is not None}
    for key, allowed in (("thinking", THINKING_KINDS), ("status", STATUSES)):
        if key in values and values[key] not in allowed:
            raise ConfigError(f"{where}: `models.{mid}.{key}` must be one of {', '.join(allowed)}, got {values[key]!r}")
    _check_prices(values.get("prices") or {}, where, f"models.{mid}.prices")
    if origin == "catalogue":
        return ModelInfo(id=mid, origin=origin, **values)
    facts = {k: where for k in values if k not in ("source", "as_of", "prices")}
    facts.update({f"prices.{family}": where for family in values.get("prices") or {}})
    if base is None:
        values.setdefault("source", where)
        return ModelInfo(id=mid, origin=origin, fact_sources=facts, **values)
    if "prices" in values:
        values["prices"] = _merge_prices(base.prices, values["prices"])
    return replace(base, **values, origin=origin, fact_sources={**base.fact_sources, **facts})


class Catalogue:
    """Model facts by id, plus aliases; `resolve` turns an alias into an id."""

    def __init__(self, models: dict[str, ModelInfo], aliases: dict[str, str], as_of: str | None = None) -> None:
        self.models, self.aliases, self.as_of = models, aliases, as_of

    def resolve(self, name: str) -> str:
        """Return the model id for NAME (an alias or an id; unknown ids pass through)."""
        seen = set()
        while name in self.aliases and name not in seen:
            seen.add(name)
            name = self.aliases[name]
        return name

    def get(self, name: str) -> ModelInfo | None:
        """Return the facts for a model id or alias, or None when the catalogue does not know it."""
        return self.models.get(self.resolve(name))

    def close_match(self, name: str) -> str | None:
        """The model id or alias NAME probably misspells, or None."""
        import difflib

        close = difflib.get_close_matches(name, [*self.models, *self.aliases], n=1)
        return close[0] if close else None

    def unknown_warning(self, name: str) -> str | None:
        """The warning for a model the catalogue does not know (sent as given: new models come before the
        catalogue knows them), naming the id it probably misspells; None when it is known."""
        model = self.resolve(name)
        if model in self.models:
            return None
        close = self.close_match(name)
        return f"{model} is not in the model catalogue; " + (
            f"did you mean {close}? (sending it as given)" if close else "sending it as given"
        )

    def ids(self, *, include_retired: bool = False) -> list[str]:
        """Return model ids in catalogue order."""
        return [m.id for m in self.models.values() if include_retired or m.status != "retired"]

    def aliases_of(self, model_id: str) -> list[str]:
        """Return the aliases that resolve to MODEL_ID."""
        return [name for name in self.aliases if name != model_id and self.resolve(name) == model_id]

    def to_json(self) -> dict[str, Any]:
        """Return the whole catalogue as a JSON-able dict."""
        return {
            "as_of": self.as_of,
            "aliases": dict(self.aliases),
            "models": [m.to_json() for m in self.models.values()],
        }


def _shipped() -> dict[str, Any]:
    # A plain file beside the package: importlib.resources costs ~10 ms of imports on every TAB and `glm ask`.
    import os

    with open(os.path.join(os.path.dirname(__file__), "data", "models.json"), encoding="utf-8") as fh:
        return json.load(fh)


def load_catalogue(overrides: dict[str, Any] | None = None, where: str = "config") -> Catalogue:
    """Load the shipped catalogue and apply `models:` / `aliases:` from the config file (WHERE names it)."""
    data = _shipped()
    models = {mid: _model_from(mid, facts, "models.json") for mid, facts in data["models"].items()}
    aliases = dict(data.get("aliases") or {})
    overrides = overrides or {}
    for key in ("models", "aliases"):
        if not isinstance(overrides.get(key) or {}, dict):
            raise ConfigError(f"{where}: `{key}` must be a mapping")
    for mid, facts in (overrides.get("models") or {}).items():
        models[str(mid)] = _model_from(str(mid), facts, where, models.get(str(mid)), origin="config")
    for name, target in (overrides.get("aliases") or {}).items():
        if not isinstance(target, str) or not target.strip():
            raise ConfigError(
                f"{where}: `aliases.{name}` must be a model id (a string), got {target!r}",
                "e.g. aliases: {fast: glm-4.7-flashx}",
            )
        aliases[str(name)] = target.strip()
    for name in overrides.get("aliases") or {}:  # a: b, b: a would send the bare alias as a model id
        chain = [str(name)]
        while chain[-1] in aliases and aliases[chain[-1]] not in chain:
            chain.append(aliases[chain[-1]])
        if chain[-1] in aliases:
            raise ConfigError(
                f"{where}: `aliases` loop: {' -> '.join([*chain, aliases[chain[-1]]])}",
                "an alias must lead to a model id",
            )
    return Catalogue(models, aliases, data.get("as_of"))


def merge_remote(catalogue: Catalogue, listed_ids: list[str], source: str, as_of: str | None) -> Catalogue:
    """Return the catalogue marked with what GET /models listed; unknown listed ids are added as remote models."""
    listed = dict.fromkeys(listed_ids)
    where = _dated(source, as_of)
    models = {
        mid: replace(m, listed=mid in listed, fact_sources={**m.fact_sources, "listed": where})
        for mid, m in catalogue.models.items()
    }
    for mid in listed:
        if mid not in models:
            models[mid] = ModelInfo(id=mid, origin="remote", listed=True, source=source, as_of=as_of)
    return Catalogue(models, dict(catalogue.aliases), catalogue.as_of)


def _price_row(price: dict[str, Any], prompt: int, completion: int) -> dict[str, Any]:
    for tier in price.get("tiers") or [price]:
        if prompt < tier.get("max_input", float("inf")) and completion < tier.get("max_output", float("inf")):
            return tier
    return (price.get("tiers") or [price])[-1]


def estimate_cost(
    info: ModelInfo | None, family: str, prompt: int, cached: int, completion: int, requests: int = 1
) -> tuple[float, str] | None:
    """Return (amount, currency) for the tokens of REQUESTS requests, or None when no price is known.

    Cached input tokens are billed at the cached price when there is one, else at the input price.
    Tiered prices (BigModel's GLM-4.7) pick the tier of the average request.
    """
    price = (info.prices or {}).get(family) if info is not None else None
    if not price:
        return None
    n = max(requests, 1)
    row = _price_row(price, prompt // n, completion // n)
    if row.get("input") is None or row.get("output") is None:
        return None
    cached = min(cached, prompt)
    cached_price = row.get("cached")
    if cached_price is None:
        cached_price = row["input"]
    amount = ((prompt - cached) * row["input"] + cached * cached_price + completion * row["output"]) / 1_000_000
    return amount, price.get("currency") or DEFAULT_FAMILY_CURRENCY.get(family, "USD")


def format_cost(amount: float, currency: str) -> str:
    """Return a short price text: $0.0012, ¥0.35, 0.10 EUR."""
    sign = CURRENCY_SIGNS.get(currency)
    digits = 4 if amount < 1 else 2
    tiny = 0 < amount < 0.00005  # would print as 0.0000: say it costs something, but little
    text = f"{0.0001:.4f}" if tiny else f"{amount:.{digits}f}"
    return ("<" if tiny else "") + (f"{sign}{text}" if sign else f"{text} {currency}")


def price_text(info: ModelInfo | None, family: str) -> str | None:
    """Return a model's price per 1M tokens as `input/cached/output` ($0.6/0.11/2.2, ¥2–4/0.4–0.8/8–16, free)."""
    price = (info.prices or {}).get(family) if info is not None else None
    if not price:
        return None
    rows = price.get("tiers") or [price]
    if not rows or any(r.get("input") is None or r.get("output") is None for r in rows):
        return None
    if all(not r.get(k) for r in rows for k in _PRICE_NUMBERS):
        return "free"

    def span(key: str) -> str:
        values = sorted({r[key] for r in rows if r.get(key) is not None})
        if not values:
            return "-"
        return f"{values[0]:g}" if len(values) == 1 else f"{values[0]:g}–{values[-1]:g}"

    currency = price.get("currency") or DEFAULT_FAMILY_CURRENCY.get(family, "USD")
    sign = CURRENCY_SIGNS.get(currency, "")
    text = "/".join(span(k) for k in _PRICE_NUMBERS)
    return f"{sign}{text}" if sign else f"{text} {currency}"


def format_tokens(n: int | None) -> str:
    """Return a token count the way the docs write it: 200K, 96K, 1M, 4,000."""
    if n is None:
        return "?"
    if n and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n and n % 1024 == 0:
        return f"{n // 1024}K"
    return f"{n:,}"


def cost_text(
    catalogue: Catalogue,
    where: Settings | str | None,
    usage_by_model: dict[str, Usage],
    requests_by_model: dict[str, int] | None = None,
    factor: float = 1.0,
) -> str | None:
    """Return the estimated cost of usage per model as text, or None when any model's price is unknown.

    WHERE: the settings, whose endpoint family (Settings.family) has the prices and currency, or a base URL.
    """
    from glm_cli.config import family_of

    base_url = where if isinstance(where, str) or where is None else where.base_url
    if base_url and "/coding/" in base_url + "/":
        return "Coding Plan"  # a subscription: per-token prices do not apply
    family = family_of(base_url) if isinstance(where, str) or where is None else where.family
    totals: dict[str, float] = {}
    for model, u in usage_by_model.items():
        found = estimate_cost(
            catalogue.get(model),
            family,
            u.prompt_tokens,
            u.cached_tokens,
            u.completion_tokens,
            (requests_by_model or {}).get(model, 1),
        )
        if found is None:
            return None
        totals[found[1]] = totals.get(found[1], 0.0) + found[0] * factor
    if totals and not any(totals.values()):
        return "free"
    return " + ".join(format_cost(amount, cur) for cur, amount in totals.items()) or None


def setting_label(name: str, source: str) -> str:
    """Name a setting as the user gave it: `--max-tokens` for a flag, `max_tokens (FILE)` for a config or a line."""
    return f"--{name.replace('_', '-')}" if source.startswith(("flag", "default")) else f"{name} ({source})"


def check_usable(info: ModelInfo | None, model: str, switch: str = "-m") -> None:
    """Refuse a retired model, naming its replacement (and how to choose it: SWITCH, `/model` in chat)."""
    if info is not None and info.status == "retired":
        raise UsageError(
            f"model {model} was retired" + (f" on {info.retired}" if info.retired else ""),
            f"use {switch} {info.replacement}" if info.replacement else None,
        )


def check_max_tokens(info: ModelInfo | None, model: str, max_tokens: int | None, source: str = "flag") -> None:
    """Refuse, before sending, a max_tokens the model cannot produce (naming SOURCE when it is not a flag)."""
    if max_tokens is None:
        return
    what = setting_label("max_tokens", source)
    if max_tokens < 1:
        raise UsageError(f"{what} must be at least 1, got {max_tokens}")
    if info is not None and info.max_output and max_tokens > info.max_output:
        raise UsageError(
            f"{what} {max_tokens} is more than {model} can produce ({info.max_output})",
            f"use {'--max-tokens' if what.startswith('--') else 'max_tokens:'} {info.max_output} or less",
        )


# A token is at most ~6 characters of English text (fewer for code, ~1 for Chinese), so characters / 6 is a
# lower bound of the input's tokens: a request over the context window by that count can only fail.
CHARS_PER_TOKEN_MAX = 6
UNKNOWN_CONTEXT = 1_048_576  # tokens assumed, for bounding input only, for a model with no known context window


def input_limit(info: ModelInfo | None) -> int:
    """Return the most characters of one input (stdin, one file) worth reading: check_context refuses more."""
    return CHARS_PER_TOKEN_MAX * ((info.context if info is not None and info.context else UNKNOWN_CONTEXT) + 1)


def text_chars(content: Any) -> int:
    """The characters of a content's text (a string, or the text parts of a list): what counts toward tokens."""
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return 0


def check_context(info: ModelInfo | None, model: str, messages: list[dict[str, Any]]) -> None:
    """Refuse, before sending, a new message that alone certainly does not fit the model's context window."""
    if info is None or not info.context:
        return
    # Only the newest message: it is what a user just piped in, and a long chat stays O(1) per turn here.
    chars = text_chars(messages[-1].get("content")) if messages else 0
    if chars // CHARS_PER_TOKEN_MAX <= info.context:
        return
    raise UsageError(
        f"the input is {chars:,} characters, at least {chars // CHARS_PER_TOKEN_MAX:,} tokens: more than "
        f"{model}'s context window of {info.context:,} tokens",
        "send less (split the input, or use glm batch for many pieces)",
    )
