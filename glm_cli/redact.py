"""Keep secrets out of what glm shows or stores: the API key, and credentials written inside URLs."""

from __future__ import annotations

MASK = "***"
# user:password@ after a scheme, up to the host (no /, ?, # or space in between; the last @ wins, as in URLs).
USERINFO = r"(?<=://)[^/?#\s]*@"
_hidden: set[str] = set()
MIN_HIDDEN = 8  # a shorter "secret" would mask ordinary words; no real key is that short


def hide(secret: str) -> None:
    """Mask SECRET (the API key) in every message scrubbed from now on in this process."""
    if len(secret) >= MIN_HIDDEN:
        _hidden.add(secret)


def redact_url(url: str) -> str:
    """Return URL with any user:password@ replaced by ***@, for showing."""
    import re  # lazily: errors.py imports this module, and `import glm_cli.cli` stays light

    return re.sub(USERINFO, MASK + "@", url) if "@" in url else url


def scrub(text: str) -> str:
    """Return TEXT with URL credentials and every hidden secret masked."""
    text = redact_url(text)
    for secret in _hidden:
        text = text.replace(secret, MASK)
    return text
