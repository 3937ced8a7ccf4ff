"""Realistic answers for the benches: markdown, Chinese text, a thinking model's reasoning.

A "token" here is one streamed delta: 4 characters of English or markdown, 2 of Chinese (about what
GLM's tokenizer gives for each). `python bench/content.py KIND TOKENS` prints one to stdout.
"""

from __future__ import annotations

import sys

CHARS_PER_TOKEN = {"markdown": 4, "chinese": 2, "reasoning": 4}

_MARKDOWN = (
    """## {n}. Configure the client

The configuration lives in a **YAML** file; each value can be overridden by a flag or an
environment variable, and `glm config show` tells you where every value came from. Keep the
*secrets* out of it: the key belongs in `GLM_API_KEY` or in your system's keyring.

- install it with `pipx install glm-cli`
- set `GLM_API_KEY` in your shell profile
  - or use the `--profile` flag for a named profile
- run `glm ask "hello"` and check the answer

```python
def load_settings_{n}(path: str, environ: dict[str, str]) -> dict[str, str]:
    \"\"\"Return the settings for step {n}, environment first.\"\"\"
    import yaml

    with open(path, encoding="utf-8") as fh:
        values = yaml.safe_load(fh) or {{}}
    for key in ("model", "endpoint", "timeout"):
        if f"GLM_{{key.upper()}}" in environ:
            values[key] = environ[f"GLM_{{key.upper()}}"]
    return values
```

""",
    """### Why step {n} matters

Most failures at this point come from a **stale token** or a proxy that buffers the stream. Check
both before anything else: `curl -N` against the endpoint shows whether events arrive one by one,
and `glm ask -v` prints the request id you need when you write to support.

1. Run `glm models` to confirm the key works.
2. Send a one-word prompt with `--no-stream`.
3. Compare the **latency** of both: a difference of more than a second points at the proxy.

> Note: values are read once per run, so restart `glm chat` after changing them.

| setting | default | meaning |
| --- | --- | --- |
| `timeout` | 300 | seconds without data before giving up |
| `max_retries` | 3 | tries after the first, for 429 and 5xx |

""",
    """## {n}. Handle the answer

The reply arrives as a stream of deltas. Print the *content* as it comes and keep the
**reasoning** apart: it explains the answer but is not part of it. A loop like this one is
all a script needs:

```python
import json
import sys


def stream_answer(lines):
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        delta = json.loads(data)["choices"][0]["delta"]
        sys.stdout.write(delta.get("content") or "")
```

Then check the `finish_reason`: `stop` means the answer is whole, `length` that it hit
`max_tokens`, and `sensitive` that the filter cut it.

""",
)

_CHINESE = (
    """## 第{n}步：配置客户端

配置保存在一个 **YAML** 文件中。每个值都可以用命令行参数或环境变量覆盖，`glm config show` 会告诉你每个值来自哪里。
请不要把密钥写进配置文件：它应该放在 `GLM_API_KEY` 环境变量或系统的密钥环中。

- 用 `pipx install glm-cli` 安装
- 在 shell 配置文件中设置 `GLM_API_KEY`
- 运行 `glm ask "你好"` 并检查回答

""",
    """### 为什么这一步很重要

在这一步出现的大多数问题，都来自**过期的令牌**或者会缓冲数据流的代理服务器。先检查这两点：
用 `curl -N` 请求接口，看事件是否逐条到达；`glm ask -v` 会打印请求编号，联系技术支持时需要它。

1. 运行 `glm models`，确认密钥可用。
2. 用 `--no-stream` 发送一个只有一个词的提示。
3. 比较两者的**延迟**：如果相差超过一秒，问题多半出在代理上。

> 注意：配置只在每次运行开始时读取一次，修改之后请重新启动 `glm chat`。

""",
)

_REASONING = (
    "Let me think about what the user is actually asking. They want to configure the client for "
    "step {n}, and the question mentions both a YAML file and environment variables, so the answer "
    "has to explain which one wins.\n\n"
    "First, the precedence: a flag beats the environment, the environment beats the profile, and the "
    "profile beats the defaults. I should double-check that against the documentation before saying it. "
    "Yes, that matches.\n\n"
    "Second, the key. It should never be written into the file; I will suggest the environment variable. "
    "Wait, there is also the keyring option. Mention it briefly, not in detail.\n\n"
    "Finally, an example would help. A short Python function that loads the file and applies the "
    "environment on top, maybe ten lines. Then a list of the three commands to check it works.\n\n"
)


def answer(kind: str, tokens: int) -> str:
    """Return a KIND answer ("markdown", "chinese", "reasoning") of TOKENS deltas."""
    sections = {"markdown": _MARKDOWN, "chinese": _CHINESE, "reasoning": (_REASONING,)}[kind]
    size = tokens * CHARS_PER_TOKEN[kind]
    parts, total, n = [], 0, 0
    while total < size:
        n += 1
        parts.append(sections[(n - 1) % len(sections)].format(n=n))
        total += len(parts[-1])
    return "".join(parts)[:size]


if __name__ == "__main__":
    sys.stdout.write(answer(sys.argv[1], int(sys.argv[2])))
