"""`glm tokens`: count a request's tokens with Zhipu's tokenizer endpoint, before they are spent.

POST /tokenizer (zhipu-api.md §8.1) takes a model and messages and answers with usage. Its documented
models are glm-4.6, glm-4.6v and glm-4.5 (mainland also older ones); glm-4.7 is not listed, so a model
the endpoint refuses is counted with glm-4.6's tokenizer (glm-4.6v's for a vision model), and the output says so.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glm_cli.errors import APIError, GlmError, ProtocolError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.catalogue import Catalogue
    from glm_cli.client import GlmClient
    from glm_cli.config import Settings
    from glm_cli.events import Usage

# Codes of a tokenizer that does not take the model (the exact one is unconfirmed): try the fallback.
REFUSED_MODEL = {"1210", "1211", "1212", "1214"}


@dataclass(frozen=True)
class TokensOptions:
    prompt: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    attach: tuple[str, ...] = ()
    model: str | None = None
    system: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    no_stdin: bool = False
    as_json: bool = False


@dataclass(frozen=True)
class Count:
    """What the tokenizer said, and which model's tokenizer said it."""

    usage: Usage
    model: str  # asked for
    counted_with: str  # the tokenizer's model (the same, or the fallback)

    @property
    def tokens(self) -> int:
        u = self.usage
        return u.total_tokens or u.prompt_tokens + u.image_tokens + u.video_tokens


def fallback_model(model: str, vision: bool) -> str:
    return "glm-4.6v" if vision else "glm-4.6"


def count_tokens(client: GlmClient, model: str, messages: list[dict[str, Any]], *, vision: bool = False) -> Count:
    """POST /tokenizer for MODEL; when the endpoint does not take it, count with the fallback model's tokenizer."""
    try:
        return Count(_tokenize(client, model, messages), model, model)
    except APIError as err:
        fallback = fallback_model(model, vision)
        if err.status != 400 or err.code not in REFUSED_MODEL or model == fallback:
            raise
    return Count(_tokenize(client, fallback, messages), model, fallback)


def _tokenize(client: GlmClient, model: str, messages: list[dict[str, Any]]) -> Usage:
    from glm_cli.events import Usage
    from glm_cli.shape import want_object

    data = want_object(
        client.request_json("POST", "/tokenizer", json={"model": model, "messages": messages}), "the tokenizer's answer"
    )
    usage = Usage.from_api(data.get("usage"))
    if usage is None:
        raise ProtocolError("the tokenizer's answer has no usage")
    return usage


@dataclass
class ManyCounts:
    """What `RequestCounter` found: tokens and requests by model, the fallbacks used, or why it stopped."""

    tokens: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)  # model -> the tokenizer that counted it
    over: list[tuple[Any, str, int, int]] = field(default_factory=list)  # (key, model, tokens, context): too big
    error: GlmError | None = None


class RequestCounter:
    """Count many requests' tokens with the tokenizer, at most `concurrency` in flight (submit blocks).

    The first error stops the counting (nothing more is sent): the caller falls back to its estimate.
    """

    def __init__(self, client: GlmClient, concurrency: int, context: Any = None) -> None:
        self.client, self.concurrency = client, concurrency
        self.context = context  # model -> its context window (or None), to name the requests that cannot fit
        self.found = ManyCounts()
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="glm-tokens")
        self.pending: set[Future[None]] = set()

    def submit(self, key: Any, model: str, messages: list[dict[str, Any]], vision: bool = False) -> None:
        """Count one request (in the background); wait first while `concurrency` are in flight."""
        if self.found.error is not None:
            return
        if len(self.pending) >= self.concurrency:
            _, self.pending = wait(self.pending, return_when=FIRST_COMPLETED)
        self.pending.add(self.pool.submit(self._count, key, model, messages, vision))

    def _count(self, key: Any, model: str, messages: list[dict[str, Any]], vision: bool) -> None:
        if self.found.error is not None:
            return
        try:
            count = count_tokens(self.client, model, messages, vision=vision)
        except GlmError as err:
            with self.lock:
                self.found.error = self.found.error or err
            return
        limit = self.context(model) if self.context else None
        with self.lock:
            found = self.found
            found.tokens[model] = found.tokens.get(model, 0) + count.tokens
            found.requests[model] = found.requests.get(model, 0) + 1
            if count.counted_with != model:
                found.fallbacks[model] = count.counted_with
            if limit and count.tokens > limit:
                found.over.append((key, model, count.tokens, limit))

    def finish(self) -> ManyCounts:
        """Wait for the counts in flight; return what was found."""
        wait(self.pending)
        self.pool.shutdown(wait=True)
        return self.found


def run_tokens(opts: TokensOptions, app: App) -> int:
    """Count the tokens of the request `glm ask` would send with the same input; print them with context and cost."""
    from glm_cli.attachments import load_attachment, user_content
    from glm_cli.prompt_input import compose_prompt, input_bound, read_stdin
    from glm_cli.request import build_messages

    flags = {k: v for k, v in (("model", opts.model), ("system", opts.system), ("endpoint", opts.endpoint)) if v}
    settings = app.settings(flags, profile=opts.profile)
    bound = input_bound(app, settings)
    text = compose_prompt(opts, read_stdin(opts, app, bound), None, bound, allow_empty=bool(opts.attach))
    attachments = [load_attachment(ref) for ref in opts.attach]
    catalogue = app.catalogue(settings)
    model = catalogue.resolve(settings.model)
    info = catalogue.get(model)
    messages = build_messages(None, system=settings.system)
    messages.append({"role": "user", "content": user_content(text, attachments)})
    client = app.make_client(settings)
    try:
        count = count_tokens(client, model, messages, vision=bool(info and info.vision))
    finally:
        client.close()
    if count.counted_with != model:
        app.warn(
            f"the tokenizer does not take {model}; counted with {count.counted_with}'s tokenizer "
            "(the same family as far as known: unconfirmed)"
        )
    record = count_record(count, catalogue, settings)
    text = json.dumps(record, ensure_ascii=False) if opts.as_json else count_text(record)
    app.ios.stdout.write(text + "\n")
    return 0


def count_record(count: Count, catalogue: Catalogue, settings: Settings) -> dict[str, Any]:
    """The `--json` object: the counts, the share of the context window, the input cost (Settings.family's)."""
    from glm_cli.catalogue import estimate_cost, format_cost

    info = catalogue.get(count.model)
    context = info.context if info is not None else None
    record: dict[str, Any] = {
        "model": count.model,
        "counted_with": count.counted_with,
        "tokens": count.tokens,
        "prompt_tokens": count.usage.prompt_tokens,
        "image_tokens": count.usage.image_tokens,
        "video_tokens": count.usage.video_tokens,
        "context_window": context,
        "context_fraction": round(count.tokens / context, 6) if context else None,
        "input_cost": None,
    }
    if settings.coding_endpoint:
        record["input_cost"] = {"amount": None, "currency": None, "text": "Coding Plan"}
        return record
    family = settings.family
    cost = estimate_cost(info, family, count.tokens, 0, 0)
    per_million = estimate_cost(info, family, 1_000_000, 0, 0)
    if cost is not None and per_million is not None:
        amount, currency = cost
        record["input_cost"] = {
            "amount": round(amount, 8),
            "currency": currency,
            "text": "free" if not per_million[0] else format_cost(amount, currency),
            "per_million": per_million[0],
        }
    return record


def count_text(record: dict[str, Any]) -> str:
    """`1,234 tokens · 0.6% of glm-4.7's 200K context window · input $0.0007 ($0.6 per 1M)`."""
    from glm_cli.catalogue import format_tokens

    media = [
        f"{what} {record[key]:,}"
        for what, key in (("images", "image_tokens"), ("video", "video_tokens"))
        if record[key]
    ]
    parts = [f"{record['tokens']:,} tokens" + (f" ({', '.join(media)})" if media else "")]
    if record["context_window"]:
        share = 100 * record["tokens"] / record["context_window"]
        shown = f"{share:.1f}" if share >= 1 or not share else f"{share:.2g}"
        over = " — more than fits" if share > 100 else ""
        parts.append(f"{shown}% of {record['model']}'s {format_tokens(record['context_window'])} context window{over}")
    cost = record["input_cost"]
    if cost is None:
        parts.append(f"input price of {record['model']} unknown")
    elif cost["amount"] is None or cost["text"] == "free":
        parts.append(f"input {cost['text']}")
    else:
        from glm_cli.catalogue import CURRENCY_SIGNS

        sign = CURRENCY_SIGNS.get(cost["currency"], "")
        unit = f"{sign}{cost['per_million']:g}" if sign else f"{cost['per_million']:g} {cost['currency']}"
        parts.append(f"input {cost['text']} at {unit} per 1M")
    return " · ".join(parts)
