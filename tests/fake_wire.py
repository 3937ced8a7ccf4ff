"""The GLM wire format as the fakes serve it: constants, error bodies, token counts, ids, parsing helpers."""

from __future__ import annotations

import base64
import json
import random
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

FAKE_KEY = "fake-key-id.fake-secret-0000"
PREFIXES = ("/api/paas/v4", "/api/coding/paas/v4")
CHAT_URL = "/v4/chat/completions"
BATCH_ENDPOINTS = ("/v4/chat/completions", "/v4/embeddings")
EMBED_BATCH_MAX_LINES = 10_000  # an embeddings batch file (zhipu-api.md §7.1)
FILE_PURPOSES = {"batch", "code-interpreter", "agent", "voice-clone-input", "fine-tune", "retrieval"}
MODEL_MAX_TOKENS = {
    "glm-4.7": 131072,
    "glm-4.7-flash": 131072,
    "glm-4.7-flashx": 131072,
    "glm-4.6": 131072,
    "glm-4.5": 98304,
    "glm-4.5-air": 98304,
    "glm-4.5-x": 98304,
    "glm-4.5-airx": 98304,
    "glm-4.5-flash": 98304,
    "glm-4-32b-0414-128k": 16384,
    "glm-4.6v": 32768,
    "glm-4.5v": 16384,
}
DEFAULT_MAX_TOKENS = 131072
MODEL_CREATED = {
    "glm-4.7": 1766332800,
    "glm-4.7-flash": 1768780800,
    "glm-4.7-flashx": 1768780800,
    "glm-4.6": 1759190400,
    "glm-4.6v": 1765152000,
}  # illustrative; others get 1753632000
ERROR_MESSAGES = {
    "500": "Internal Error",
    "1000": "Authentication Failed",
    "1001": "Authentication header missing",
    "1002": "Invalid Authentication Token",
    "1003": "Authentication Token expired",
    "1113": "Insufficient balance or no resource package. Please recharge.",
    "1210": "Invalid API parameter, please check the documentation.",
    "1211": "Unknown Model, please check the model code.",
    "1213": "A required parameter is missing.",
    "1214": "The messages parameter is illegal. Please check the documentation.",
    "1231": "Duplicate request_id; please use a new one.",
    "1234": "Network error, please try again later.",
    "1261": "Prompt exceeds max length",
    "1301": "System detected potentially unsafe or sensitive content in input or generation. Please avoid using "
    "prompts that may generate sensitive content. Thank you for your cooperation.",
    "1302": "Rate limit reached for requests",
    "1303": "Request frequency too high, please try again later.",
    "1304": "Daily call limit reached.",
    "1305": "该模型当前访问量过大，请您稍后再试",
    "1308": "Usage limit reached; it will reset at 2026-01-01 00:00:00.",
}
TOKENIZER_MODELS = ("glm-4.6", "glm-4.6v", "glm-4.5")  # §8.1's documented enum (not glm-4.7)
MEDIA_TOKENS = {"image_url": 256, "video_url": 1024}  # the fake's flat count per image / video part
# §8.4: model -> (dimensions it gives, default); at most 64 inputs of at most 3072 tokens each (embedding-3)
EMBEDDING_MODELS = {"embedding-3": ((256, 512, 1024, 2048), 2048), "embedding-2": ((1024,), 1024)}
EMBED_MAX_INPUTS = 64
EMBED_MAX_TOKENS = 3072
FAULT_KINDS = ("status", "cut", "finish", "error_frame", "drop", "hang")
ROLES = {"system", "user", "assistant", "tool"}
TERMINAL = {"completed", "failed", "expired", "cancelled"}
BEIJING = timezone(timedelta(hours=8))  # task ids carry Beijing time (checked against the recordings)
DONE = b"data: [DONE]\n\n"
SSE_BATCH = 64  # events joined per socket write when there is no delay/split
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


# --------------------------------------------------------------------------------------------- helpers


def dumps(obj: Any, sort: bool = False) -> str:
    """Compact JSON with raw UTF-8, as the real server writes it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=sort)


def count_tokens(text: str) -> int:
    """The fake's token estimate: len(text) // 4 + 1, and 0 for an empty text."""
    return len(text) // 4 + 1 if text else 0


def embedding_of(text: str, dims: int) -> list[float]:
    """A vector that depends only on the text and the size: the same input always gets the same numbers."""
    rng = random.Random(f"{dims}:{text}")
    return [round(rng.uniform(-1, 1), 6) for _ in range(dims)]


def task_id(now: float | None = None) -> str:
    """YYYYMMDDHHMMSS (Beijing time) + 16 hex: 30 characters, like the real ids."""
    stamp = datetime.fromtimestamp(time.time() if now is None else now, BEIJING).strftime("%Y%m%d%H%M%S")
    return stamp + uuid.uuid4().hex[:16]


def tool_call_id(stream: bool) -> str:
    """Streams show call_<24 hex>; non-stream answers show call_-<19 digits> (both observed)."""
    if stream:
        return "call_" + uuid.uuid4().hex[:24]
    return f"call_-{random.randrange(10**18, 10**19)}"


def error_body(code: str, message: str | None = None) -> dict:
    code = str(code)
    return {"error": {"code": code, "message": message or ERROR_MESSAGES.get(code, "Error")}}


def spring_body(status: int, path: str) -> dict:
    reason = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return {"timestamp": stamp, "status": status, "error": reason, "path": path}


def text_of(content: Any) -> str:
    """A message content's text: the string itself, or the joined text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


PART_TYPES = ("image_url", "video_url", "file_url")  # §2.2: the vision models' content parts (besides text)


def _good_part(part: Any) -> bool:
    """A content part in the documented shape: {"type":"text","text":…} or {"type":T, T: {"url": "…"}}."""
    if not isinstance(part, dict):
        return False
    kind = part.get("type")
    if kind == "text":
        return isinstance(part.get("text"), str)
    inner = part.get(kind) if kind in PART_TYPES else None
    return isinstance(inner, dict) and isinstance(inner.get("url"), str) and bool(inner["url"])


def split_text(text: str, size: int) -> list[str]:
    size = max(1, int(size))
    return [text[i : i + size] for i in range(0, len(text), size)]


def parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def parse_multipart(body: bytes, boundary: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Parse multipart/form-data by hand: {field name: (filename or None, raw bytes)}."""
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name_m = re.search(r'\bname="([^"]*)"', disposition)
        file_m = re.search(r'\bfilename="([^"]*)"', disposition)
        if name_m:
            fields[name_m.group(1)] = (file_m.group(1) if file_m else None, content)
    return fields


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
