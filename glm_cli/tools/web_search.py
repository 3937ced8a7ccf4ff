"""GLM's built-in `web_search` tool: the request entry (zhipu-api.md §2.3) and the sources it returns."""

from __future__ import annotations

import re
from typing import Any

from glm_cli.errors import UsageError

RECENCY = ("oneDay", "oneWeek", "oneMonth", "oneYear", "noLimit")
# Engines differ by site; the international chat endpoint's accepted names are unconfirmed (zhipu-api.md §8.3).
DEFAULT_ENGINE = {"zai": "search-prime", "bigmodel": "search_std"}


def web_search_tool(
    *,
    family: str,
    engine: str | None = None,
    count: int | None = None,
    recency: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """Return the `tools[]` entry that turns on GLM's web search, with results returned to us."""
    if count is not None and not 1 <= count <= 50:
        raise UsageError(f"--search-count must be between 1 and 50, got {count}")
    if recency is not None and recency not in RECENCY:
        raise UsageError(f"--search-recency must be one of {', '.join(RECENCY)}, got {recency!r}")
    opts: dict[str, Any] = {
        "enable": True,
        "search_engine": engine or DEFAULT_ENGINE[family],
        "search_result": True,
    }
    if count is not None:
        opts["count"] = count
    if recency is not None:
        opts["search_recency_filter"] = recency
    if domain:
        opts["search_domain_filter"] = domain
    return {"type": "web_search", "web_search": opts}


def source_lines(results: list[dict[str, Any]]) -> list[str]:
    """Return the numbered source list shown on stderr after an answer that searched the web."""
    if not results:
        return []
    lines = ["Sources:"]
    seen: set[str] = set()
    for n, item in enumerate(results, 1):
        if not isinstance(item, dict):
            continue
        link = str(item.get("link") or "")
        if link and link in seen:
            continue
        seen.add(link)
        digits = re.search(r"\d+", str(item.get("refer") or ""))  # "ref_1", "1": the model cites these
        ref = digits.group(0) if digits else str(n)
        title = str(item.get("title") or link or "(untitled)").strip()
        meta = ", ".join(str(item[k]) for k in ("media", "publish_date") if item.get(k))
        lines.append(f"  [{ref}] {title}" + (f" — {link}" if link else "") + (f" ({meta})" if meta else ""))
    return lines
