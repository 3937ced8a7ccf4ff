"""Prices and their currency follow the endpoint family (Settings.family), not whether the URL says bigmodel.cn:
a proxy in front of BigModel (`endpoint: bigmodel` beside its base_url) costs yuan."""

from __future__ import annotations

import httpx
import pytest

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.config import load_settings
from tests.conftest import USAGE, chunk, sse_body, write_config


def family(env: dict[str, str], config: str, **environ: str) -> str:
    write_config(env, config)
    return load_settings({**env, **environ}).family


@pytest.mark.parametrize(
    ("config", "environ", "expected"),
    [
        ("endpoint: bigmodel\nbase_url: https://llm-proxy.example/v4\n", {}, "bigmodel"),  # a proxied BigModel
        ("base_url: https://llm-proxy.example/v4\n", {}, "zai"),  # nothing says BigModel: the default family
        ("endpoint: bigmodel\n", {}, "bigmodel"),
        ("endpoint: zai-coding\n", {}, "zai"),
        ("endpoint: bigmodel\n", {"GLM_BASE_URL": "https://api.z.ai/api/paas/v4"}, "zai"),  # Zhipu's host decides
        ("", {"GLM_BASE_URL": "https://open.bigmodel.cn/api/paas/v4"}, "bigmodel"),
        ("", {"GLM_BASE_URL": "https://bigmodel.cn.proxy.example/v4"}, "zai"),  # the text alone is not the host
    ],
)
def test_the_family_is_zhipus_host_else_the_endpoint_setting(env, config, environ, expected):
    assert family(env, config, **environ) == expected


def usage_line(make_app, env, config: str) -> str:
    write_config(env, config)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse_body(chunk(content="ok"), chunk(finish="stop", usage=USAGE)))

    app = make_app(transport=httpx.MockTransport(answer))
    assert run_ask(AskOptions(prompt=("hi",), usage=True, no_log=True), app) == 0
    return app.ios.stderr.getvalue()


def test_a_proxied_bigmodel_costs_yuan(make_app, env):
    line = usage_line(make_app, env, "endpoint: bigmodel\nbase_url: https://llm-proxy.example/v4\n")
    assert "¥" in line and "$" not in line


def test_a_proxy_of_unknown_family_stays_in_dollars(make_app, env):
    line = usage_line(make_app, env, "base_url: https://llm-proxy.example/v4\n")
    assert "$" in line and "¥" not in line
