"""The model catalogue: shipped data, YAML overrides, and what it feeds in `ask` (aliases, guards, costs)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from glm_cli.catalogue import (
    ModelInfo,
    cost_text,
    estimate_cost,
    format_cost,
    format_tokens,
    load_catalogue,
    merge_remote,
    price_text,
)
from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.config import ENDPOINTS, load_settings
from glm_cli.errors import ConfigError, GlmError
from glm_cli.events import Usage
from tests.conftest import USAGE, chunk, sse_body, write_config

URL = "https://api.z.ai/api/paas/v4/chat/completions"
STREAM = sse_body(chunk(content="ok"), chunk(content="", finish="stop", usage=USAGE))


@pytest.fixture
def glm():
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(URL).mock(return_value=httpx.Response(200, content=STREAM))


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


def catalogue_for(make_app, env, yaml_text: str):
    write_config(env, yaml_text)
    app = make_app()
    return app.catalogue(app.settings())


# ---- the shipped data


def test_every_shipped_model_has_its_facts_dated_and_sourced():
    cat = load_catalogue()
    assert cat.as_of and len(cat.models) >= 20
    for m in cat.models.values():
        assert m.source and m.as_of, m.id
        assert m.thinking in ("always", "hybrid", "none"), m.id
        if m.status == "current" and m.region != "bigmodel" and m.id not in ("glm-4v-plus-0111", "glm-4v-flash"):
            assert m.context and m.max_output, m.id
    for alias, target in cat.aliases.items():
        assert target in cat.models, alias


def test_glm_47_facts_match_the_docs():
    m = load_catalogue().get("glm-4.7")
    assert (m.context, m.max_output, m.thinking, m.tools, m.vision) == (204800, 131072, "always", True, False)
    assert m.prices["zai"] == {"currency": "USD", "input": 0.6, "cached": 0.11, "output": 2.2}
    assert m.source_of("prices", "bigmodel").startswith("third-party copy")  # the unconfirmed price says so
    assert "as of 2026-01-31" in m.source_of("context")


def test_retired_z1_models_name_their_replacement():
    cat = load_catalogue()
    z1 = [m for m in cat.models.values() if m.id.startswith("glm-z1")]
    assert z1 and all(m.status == "retired" and m.replacement in cat.models for m in z1)
    assert "glm-z1-air" not in cat.ids() and "glm-z1-air" in cat.ids(include_retired=True)


def test_shipped_aliases_resolve():
    cat = load_catalogue()
    assert cat.resolve("fast") == "glm-4.7-flashx" and cat.resolve("free") == "glm-4.7-flash"
    assert cat.resolve("glm-9") == "glm-9"  # unknown ids pass through
    assert cat.get("air").id == "glm-4.5-air" and cat.get("nope") is None
    assert set(cat.aliases_of("glm-4.7-flash")) == {"flash", "free"}


# ---- overrides from the YAML config


def test_overrides_change_add_and_alias(make_app, env):
    cat = catalogue_for(
        make_app,
        env,
        """\
models:
  glm-4.7:
    max_output: 8192
    prices: {zai: {input: 1.0}}
  my-model:
    context: 32768
    max_output: 4096
    thinking: none
aliases:
  q: my-model
  fast: glm-4.5-air
""",
    )
    m = cat.get("glm-4.7")
    assert m.max_output == 8192 and m.origin == "config"
    assert m.prices["zai"] == {"currency": "USD", "input": 1.0, "cached": 0.11, "output": 2.2}
    path = str(env["XDG_CONFIG_HOME"]) + "/glm/config.yaml"
    assert m.source_of("max_output") == path and m.source_of("prices", "zai") == path
    assert m.source_of("context").startswith("zai-docs")  # facts not overridden keep the shipped source
    mine = cat.get("q")
    assert (mine.id, mine.context, mine.origin, mine.source) == ("my-model", 32768, "config", path)
    assert mine.tools is None  # unknown, not "no"
    assert cat.resolve("fast") == "glm-4.5-air"  # config aliases beat shipped ones


def test_flat_price_override_replaces_tiers():
    cat = load_catalogue({"models": {"glm-4.7": {"prices": {"bigmodel": {"input": 5, "output": 20}}}}}, "cfg")
    price = cat.get("glm-4.7").prices["bigmodel"]
    assert "tiers" not in price and "source" not in price and price["currency"] == "CNY"
    assert estimate_cost(cat.get("glm-4.7"), "bigmodel", 1_000_000, 0, 0) == (5.0, "CNY")


@pytest.mark.parametrize(
    "text, key",
    [
        ("models:\n  glm-4.7:\n    max_ouput: 5\n", "models.glm-4.7.max_ouput"),
        ("models:\n  glm-4.7:\n    max_output: lots\n", "models.glm-4.7.max_output"),
        ("models:\n  glm-4.7:\n    max_output: -1\n", "models.glm-4.7.max_output"),
        ("models:\n  glm-4.7:\n    tools: 1\n", "models.glm-4.7.tools"),
        ("models:\n  glm-4.7:\n    thinking: sometimes\n", "models.glm-4.7.thinking"),
        ("models:\n  glm-4.7:\n    status: gone\n", "models.glm-4.7.status"),
        ("models:\n  glm-4.7: 5\n", "models.glm-4.7"),
        ("models:\n  glm-4.7:\n    prices: {zai: {input: cheap}}\n", "models.glm-4.7.prices.zai.input"),
        ("models:\n  glm-4.7:\n    prices: {zai: {inptu: 1}}\n", "models.glm-4.7.prices.zai.inptu"),
        ("models:\n  glm-4.7:\n    prices: {openai: {input: 1}}\n", "models.glm-4.7.prices.openai"),
        (
            "models:\n  glm-4.7:\n    prices: {bigmodel: {tiers: [{max_inptu: 1}]}}\n",
            "models.glm-4.7.prices.bigmodel.tiers[0].max_inptu",
        ),
        ("aliases:\n  q: 5\n", "aliases.q"),
        ("aliases:\n  q:\n", "aliases.q"),
    ],
)
def test_bad_override_is_a_config_error_naming_the_key(make_app, env, text, key, glm):
    path = write_config(env, text)
    with pytest.raises(ConfigError) as exc:
        run_ask(AskOptions(prompt=("q",)), make_app())
    assert key in exc.value.message and str(path) in exc.value.message
    assert exc.value.exit_code == 3 and not glm.called


# ---- what `ask` does with it


def test_config_alias_resolves_in_the_request_body(make_app, env, glm):
    write_config(env, "aliases:\n  q: glm-4.5-air\n")
    run_ask(AskOptions(prompt=("hi",), model="q"), make_app())
    assert sent(glm)["model"] == "glm-4.5-air"


@pytest.mark.parametrize(
    "setting, expected",
    [
        ({"model": "fast"}, "glm-4.7-flashx"),
        ({"preset": "p"}, "glm-4.6v"),
        ({"model": "a2"}, "glm-4.5-flash"),  # an alias of an alias
        ({"model": "not-in-catalogue"}, "not-in-catalogue"),
    ],
)
def test_aliases_from_flags_presets_and_chains(make_app, env, glm, setting, expected):
    write_config(env, "aliases:\n  a1: glm-4.5-flash\n  a2: a1\npresets:\n  p:\n    model: vision\n")
    run_ask(AskOptions(prompt=("hi",), **setting), make_app())
    assert sent(glm)["model"] == expected


@pytest.mark.parametrize(
    "model, max_tokens, limit",
    [
        ("glm-4.7", 200_000, "131072"),
        ("air", 100_000, "98304"),  # the alias's model's limit
        ("glm-4-32b-0414-128k", 16385, "16384"),
    ],
)
def test_max_tokens_guard_before_any_network(make_app, glm, model, max_tokens, limit):
    with pytest.raises(GlmError) as exc:
        run_ask(AskOptions(prompt=("q",), model=model, max_tokens=max_tokens), make_app())
    assert exc.value.exit_code == 2 and limit in exc.value.message and limit in exc.value.hint
    assert not glm.called


def test_max_tokens_guard_follows_config_override_and_allows_the_limit(make_app, env, glm):
    write_config(env, "models:\n  glm-4.7:\n    max_output: 1000\n")
    with pytest.raises(GlmError):
        run_ask(AskOptions(prompt=("q",), max_tokens=1001), make_app())
    assert not glm.called
    run_ask(AskOptions(prompt=("q",), max_tokens=1000), make_app())
    assert sent(glm)["max_tokens"] == 1000


def test_max_tokens_zero_and_unknown_models(make_app, glm):
    with pytest.raises(GlmError) as exc:
        run_ask(AskOptions(prompt=("q",), max_tokens=0), make_app())
    assert exc.value.exit_code == 2
    run_ask(AskOptions(prompt=("q",), model="glm-9", max_tokens=10**6), make_app())  # no facts: no guard
    assert sent(glm)["max_tokens"] == 10**6


def test_retired_model_names_the_replacement(make_app, glm):
    with pytest.raises(GlmError) as exc:
        run_ask(AskOptions(prompt=("q",), model="glm-z1-air"), make_app())
    assert exc.value.exit_code == 2 and "retired" in exc.value.message and "2025-11-15" in exc.value.message
    assert "glm-4.5-air" in exc.value.hint and not glm.called


def test_thinking_flag_on_a_model_without_thinking_warns_but_sends(make_app, glm):
    app = make_app()
    run_ask(AskOptions(prompt=("q",), model="glm-4-32b-0414-128k", think=True), app)
    assert "glm: warning: glm-4-32b-0414-128k has no thinking mode" in app.ios.stderr.getvalue()
    assert glm.called and app.ios.stdout.getvalue() == "ok\n"


@pytest.mark.parametrize("model, think", [("glm-4.7", True), ("glm-4.6", False), ("glm-4-32b-0414-128k", None)])
def test_no_thinking_warning_otherwise(make_app, glm, model, think):
    app = make_app()
    run_ask(AskOptions(prompt=("q",), model=model, think=think), app)
    assert "warning" not in app.ios.stderr.getvalue()


def test_usage_line_prices_cached_tokens(make_app, glm):
    app = make_app()
    run_ask(AskOptions(prompt=("q",), usage=True), app)
    # USAGE: 100 prompt (40 cached), 50 completion on glm-4.7 at $0.6 / 0.11 / 2.2 per 1M
    expected = format_cost((60 * 0.6 + 40 * 0.11 + 50 * 2.2) / 1e6, "USD")
    assert app.ios.stderr.getvalue().strip().endswith(expected)


# ---- cost estimates


def test_cached_tokens_use_the_cached_price_or_the_input_price():
    cat = load_catalogue()
    amount, cur = estimate_cost(cat.get("glm-4.7"), "zai", 1_000_000, 400_000, 0)
    assert cur == "USD" and amount == pytest.approx(0.6 * 0.6 + 0.4 * 0.11)
    amount, _ = estimate_cost(cat.get("glm-4-32b-0414-128k"), "zai", 1_000_000, 400_000, 1_000_000)
    assert amount == pytest.approx(0.1 + 0.1)  # no cached price: cached tokens at the input price
    assert estimate_cost(cat.get("glm-4.7"), "zai", 100, 500, 0)[0] == pytest.approx(100 * 0.11 / 1e6)


@pytest.mark.parametrize(
    "prompt, completion, requests, rates",
    [
        (1000, 100, 1, (2, 0.4, 8)),  # input < 32K, output < 0.2K
        (1000, 500, 1, (3, 0.6, 14)),  # input < 32K, output >= 0.2K
        (40_000, 100, 1, (4, 0.8, 16)),  # input >= 32K
        (40_000, 200, 2, (2, 0.4, 8)),  # two requests of 20K in / 100 out: the average picks the tier
    ],
)
def test_bigmodel_tiers(prompt, completion, requests, rates):
    info = load_catalogue().get("glm-4.7")
    cached = prompt // 4
    amount, cur = estimate_cost(info, "bigmodel", prompt, cached, completion, requests)
    rate_in, rate_cached, rate_out = rates
    assert cur == "CNY"
    assert amount == pytest.approx(((prompt - cached) * rate_in + cached * rate_cached + completion * rate_out) / 1e6)


def at(url: str):
    """The settings of a run against URL (no config file, the default endpoint)."""
    return load_settings({"HOME": "/nonexistent-home", "GLM_BASE_URL": url})


def test_cost_text_sums_models_and_currencies_and_needs_every_price():
    cat = load_catalogue()
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert cost_text(cat, "https://api.z.ai/api/paas/v4", {"glm-4.7": usage, "air": usage}) == "$4.10"
    assert cost_text(cat, "https://open.bigmodel.cn/api/paas/v4", {"glm-4.7": usage}) == "¥20.00"
    assert cost_text(cat, None, {"glm-4.7": usage, "glm-9": usage}) is None  # one unknown price: no guess
    assert cost_text(cat, None, {"glm-4.7": usage}, factor=0.5) == "$1.40"
    assert cost_text(cat, None, {"flash": usage}) == "free"
    assert cost_text(cat, at(ENDPOINTS["bigmodel"]), {"glm-4.7": usage}) == "¥20.00"  # or the settings


def test_price_and_token_texts():
    cat = load_catalogue()
    assert price_text(cat.get("glm-4.7"), "zai") == "$0.6/0.11/2.2"
    assert price_text(cat.get("glm-4.7"), "bigmodel") == "¥2–4/0.4–0.8/8–16"
    assert price_text(cat.get("flash"), "zai") == "free"
    assert price_text(cat.get("glm-4-32b-0414-128k"), "zai") == "$0.1/-/0.1"
    assert price_text(cat.get("glm-4-plus"), "zai") is None and price_text(None, "zai") is None
    assert [format_tokens(n) for n in (204800, 98304, 1_000_000, 4000, None)] == ["200K", "96K", "1M", "4,000", "?"]
    assert format_cost(0.00123, "USD") == "$0.0012" and format_cost(12.5, "EUR") == "12.50 EUR"
    assert at(ENDPOINTS["bigmodel-coding"]).family == "bigmodel"
    assert at("http://127.0.0.1:9/api/paas/v4").family == "zai"


def test_merge_remote_marks_listed_unlisted_and_unknown():
    cat = merge_remote(load_catalogue(), ["glm-4.7", "glm-5"], "GET http://x/models", "2026-02-01")
    assert cat.get("glm-4.7").listed is True and cat.get("glm-4.6").listed is False
    new = cat.get("glm-5")
    assert new == ModelInfo(id="glm-5", origin="remote", listed=True, source="GET http://x/models", as_of="2026-02-01")
    assert new.to_json() == {
        "id": "glm-5",
        "status": "current",
        "source": "GET http://x/models",
        "as_of": "2026-02-01",
        "origin": "remote",
        "listed": True,
    }
