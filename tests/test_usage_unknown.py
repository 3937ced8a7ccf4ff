"""A usage object with no count in it is unknown usage, not zeros (issue 13: never print a zero that is not true)."""

from __future__ import annotations

import pytest

from glm_cli.events import Finish, Usage
from glm_cli.response import chunk_to_deltas


@pytest.mark.parametrize("empty", [{}, {"prompt_tokens": None}, {"prompt_tokens": None, "completion_tokens": None}])
def test_a_usage_object_without_counts_is_unknown(empty):
    assert Usage.from_api(empty) is None


def test_a_usage_object_with_counts_is_kept():
    usage = Usage.from_api({"prompt_tokens": 0, "completion_tokens": 5})
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (0, 5)


def test_a_final_chunk_with_empty_usage_reports_none():
    chunk = {
        "id": "x",
        "model": "glm-4.7",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {},
    }
    finishes = [d for d in chunk_to_deltas(chunk) if isinstance(d, Finish)]
    assert finishes and all(f.usage is None for f in finishes)
