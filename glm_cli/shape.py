"""Check one value of the server's JSON for its type; when it is wrong, name its path (`choices[0].delta`)."""

from __future__ import annotations

import re
from typing import Any

from glm_cli.errors import ProtocolError

_SURROGATE = re.compile("[\ud800-\udfff]")


def shape_error(path: str, value: Any, expected: str) -> ProtocolError:
    """Return the error for a field of the wrong type: `choices[0].delta is a list, not an object`."""
    return ProtocolError(
        f"the server's answer was not in the expected shape: {path} is {kind_of(value)}, not {expected}"
    )


def kind_of(value: Any) -> str:
    """Name a JSON value's type the way a user reads it: null, a string, the number 5, a list, an object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}" if len(repr(value)) <= 20 else "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def want_object(value: Any, path: str) -> dict[str, Any]:
    """Return an object."""
    if not isinstance(value, dict):
        raise shape_error(path, value, "an object")
    return value


def want_list(value: Any, path: str) -> list[Any]:
    """Return a list (null: empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise shape_error(path, value, "a list")
    return value


def is_text(value: str) -> bool:
    """Whether a str is real Unicode text: no lone surrogate (a JSON escape such as "\\ud800", or an undecodable
    byte of an environment value or file name, which Python keeps as one)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def want_text(value: Any, path: str) -> str | None:
    """Return a string or None; a lone surrogate (`\\ud800`) becomes U+FFFD, as invalid UTF-8 does."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise shape_error(path, value, "a string")
    return value if is_text(value) else _SURROGATE.sub("\ufffd", value)


def want_count(value: Any, path: str) -> int:
    """Return a whole number ≥ 0 (null: 0)."""
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise shape_error(path, value, "a whole number ≥ 0")
    return value
