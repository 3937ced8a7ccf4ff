"""An input that cannot fit the context window is refused before any network, with a clear message."""

from __future__ import annotations

import subprocess

import pytest

from glm_cli.catalogue import load_catalogue
from glm_cli.config import load_settings
from glm_cli.errors import UsageError
from glm_cli.request import build_chat_request, build_messages
from tests.conftest import SLOW, glm_executable


def body_for(prompt: str, model: str = "glm-4.7") -> dict:
    settings = load_settings({"XDG_CONFIG_HOME": "/nonexistent"}, {"model": model})
    return build_chat_request(settings, build_messages(prompt), catalogue=load_catalogue())


def test_a_large_input_that_fits_is_sent():
    assert body_for("x" * 1_000_000)["messages"][0]["content"].startswith("xxx")


def test_an_input_beyond_the_context_window_is_refused():
    with pytest.raises(UsageError) as exc:
        body_for("x" * 1_300_000)
    assert "1,300,000 characters" in exc.value.message and "204,800 tokens" in exc.value.message
    assert exc.value.exit_code == 2


def test_the_limit_is_the_models_own():
    body_for("x" * 1_300_000, model="glm-4-long")  # 1M context: fits
    with pytest.raises(UsageError, match="glm-4.5-air's context window of 131,072"):
        body_for("x" * 800_000, model="air")


def test_piping_a_huge_file_exits_2_without_sending(env):
    done = subprocess.run(
        [*glm_executable(), "ask", "--no-log", "summarise"],
        input="word " * 300_000,
        env={**env, "GLM_BASE_URL": "http://127.0.0.1:9/api/paas/v4"},
        capture_output=True,
        text=True,
        timeout=SLOW,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "context window" in done.stderr and "cannot reach" not in done.stderr


def test_a_tiny_cost_is_not_shown_as_zero():
    from glm_cli.catalogue import format_cost

    assert format_cost(0.00001, "USD") == "<$0.0001" and format_cost(0.0, "USD") == "$0.0000"
    assert format_cost(0.00002, "CNY") == "<¥0.0001"


def test_cost_text_says_free_and_coding_plan():
    from glm_cli.catalogue import cost_text
    from glm_cli.config import ENDPOINTS
    from glm_cli.events import Usage

    cat, used = load_catalogue(), Usage(prompt_tokens=1000, completion_tokens=500, total_tokens=1500)
    assert cost_text(cat, ENDPOINTS["zai"], {"glm-4.7-flash": used}) == "free"
    assert cost_text(cat, ENDPOINTS["zai"], {"glm-4.7": used}) == "$0.0017"
    assert cost_text(cat, ENDPOINTS["zai-coding"], {"glm-4.7": used}) == "Coding Plan"
    assert cost_text(cat, ENDPOINTS["bigmodel-coding"], {"glm-4.7": used}) == "Coding Plan"
