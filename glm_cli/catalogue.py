"""The model catalogue: shipped data (glm_cli/data/models.json) merged with the user's YAML overrides."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from glm_cli.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from glm_cli.events import Usage

THINKING_KINDS = ("always", "hybrid", "none")
STATUSES = ("current", "retired", "preview")
CURRENCY_SIGNS = {"USD": "$", "CNY": "¥"}
DEFAULT_FAMILY_CURRENCY = {"zai": "USD", "bigmodel": "CNY"}


@dataclass(frozen=True)
class ModelInfo:
    """Everything glm knows about one model; `source` and `as_of` say where and when from."""

    id: str
    context: int | None = None
    max_output: int | None = None
    default_max_tokens: int | None = None
    thinking: str = "none"
    tools: bool = False
    vision: bool = False
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

    def to_json(self) -> dict[str, Any]:
        """Return the model as a JSON-able dict (None fields left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, {})}


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "context": (int,), "max_output": (int,), "default_max_tokens": (int,), "thinking": (str,),
    "tools": (bool,), "vision": (bool,), "status": (str,), "replacement": (str,), "retired": (str,),
    "region": (str,), "released": (str,), "prices": (dict,), "source": (str,), "as_of": (str,),
}


def _model_from(mid: str, data: Any, where: str, base: ModelInfo | None = None, origin: str = "catalogue") -> ModelInfo:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: models.{mid} must be a mapping of model facts")
    values: dict[str, Any] = {}
    for key, value in data.items():
        types = _FIELD_TYPES.get(key)
        if types is None:
            raise ConfigError(f"{where}: models.{mid}: unknown key {key!r}",
                              "known keys: " + ", ".join(_FIELD_TYPES))
        if value is not None and (not isinstance(value, types) or (bool not in types and isinstance(value, bool))):
            raise ConfigError(f"{where}: models.{mid}.{key} must be {'/'.join(t.__name__ for t in types)}")
        values[key] = value
    if values.get("thinking", "none") not in THINKING_KINDS:
        raise ConfigError(f"{where}: models.{mid}.thinking must be one of {', '.join(THINKING_KINDS)}")
    if values.get("status", "current") not in STATUSES:
        raise ConfigError(f"{where}: models.{mid}.status must be one of {', '.join(STATUSES)}")
    if "prices" in values and base is not None:
        values["prices"] = {**base.prices, **values["prices"]}
    if base is None:
        return ModelInfo(id=mid, origin=origin, **values)
    return ModelInfo(**{**base.__dict__, **values, "origin": origin})


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

    def ids(self, *, include_retired: bool = False) -> list[str]:
        """Return model ids in catalogue order."""
        return [m.id for m in self.models.values() if include_retired or m.status != "retired"]

    def to_json(self) -> dict[str, Any]:
        """Return the whole catalogue as a JSON-able dict."""
        return {"as_of": self.as_of, "aliases": dict(self.aliases),
                "models": [m.to_json() for m in self.models.values()]}


def _shipped() -> dict[str, Any]:
    from importlib.resources import files

    return json.loads(files("glm_cli").joinpath("data/models.json").read_text(encoding="utf-8"))


def load_catalogue(overrides: dict[str, Any] | None = None, where: str = "config") -> Catalogue:
    """Load the shipped catalogue and apply `models:` / `aliases:` from the config file."""
    data = _shipped()
    models = {mid: _model_from(mid, facts, "models.json") for mid, facts in data["models"].items()}
    aliases = dict(data.get("aliases") or {})
    overrides = overrides or {}
    for mid, facts in (overrides.get("models") or {}).items():
        models[mid] = _model_from(str(mid), facts, where, models.get(mid), origin="config")
    for name, target in (overrides.get("aliases") or {}).items():
        if not isinstance(target, str):
            raise ConfigError(f"{where}: aliases.{name} must be a model id (a string)")
        aliases[str(name)] = target
    return Catalogue(models, aliases, data.get("as_of"))


def endpoint_family(base_url: str | None) -> str:
    """Return the price family of an endpoint: 'bigmodel' (CNY) or 'zai' (USD)."""
    return "bigmodel" if base_url and "bigmodel.cn" in base_url else "zai"


def _price_row(price: dict[str, Any], prompt: int, completion: int) -> dict[str, Any]:
    for tier in price.get("tiers") or [price]:
        if prompt < tier.get("max_input", float("inf")) and completion < tier.get("max_output", float("inf")):
            return tier
    return (price.get("tiers") or [price])[-1]


def estimate_cost(info: ModelInfo | None, family: str, prompt: int, cached: int, completion: int,
                  requests: int = 1) -> tuple[float, str] | None:
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
    return f"{sign}{amount:.{digits}f}" if sign else f"{amount:.{digits}f} {currency}"


def cost_text(catalogue: Catalogue, base_url: str | None, usage_by_model: dict[str, Usage],
              requests_by_model: dict[str, int] | None = None, factor: float = 1.0) -> str | None:
    """Return the estimated cost of usage per model as text, or None when any model's price is unknown."""
    family = endpoint_family(base_url)
    totals: dict[str, float] = {}
    for model, u in usage_by_model.items():
        found = estimate_cost(catalogue.get(model), family, u.prompt_tokens, u.cached_tokens, u.completion_tokens,
                              (requests_by_model or {}).get(model, 1))
        if found is None:
            return None
        totals[found[1]] = totals.get(found[1], 0.0) + found[0] * factor
    return " + ".join(format_cost(amount, cur) for cur, amount in totals.items()) or None


def check_max_tokens(info: ModelInfo | None, model: str, max_tokens: int | None) -> None:
    """Refuse, before sending, a max_tokens the model cannot produce."""
    if max_tokens is None:
        return
    if max_tokens < 1:
        raise UsageError(f"--max-tokens must be at least 1, got {max_tokens}")
    if info is not None and info.max_output and max_tokens > info.max_output:
        raise UsageError(f"--max-tokens {max_tokens} is more than {model} can produce ({info.max_output})",
                         f"use --max-tokens {info.max_output} or less")
