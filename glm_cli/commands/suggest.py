"""Which command a mistyped word means: one rule for `glm WORD` (cli.default_to_ask) and the root group."""

from __future__ import annotations

from collections.abc import Sequence


def close_name(word: str, names: Sequence[str]) -> str | None:
    """The name WORD probably misspells: close by difflib, a prefix of at least 3 letters, or another case."""
    import difflib

    word = word.lower()
    if word in names:
        return word
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.7)
    if found:
        return found[0]
    prefixed = [name for name in names if len(word) >= 3 and name.startswith(word)]
    return prefixed[0] if len(prefixed) == 1 else None
