"""Batch input: read JSONL or text lazily, turn each line into an Item, build its request body."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from glm_cli.errors import UsageError
from glm_cli.shape import is_text

if TYPE_CHECKING:
    from glm_cli.catalogue import Catalogue
    from glm_cli.config import Settings
    from glm_cli.tools.schema import Schema

CHAT_URL = "/v4/chat/completions"
FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Per-line overrides of settings: field -> accepted types.
SETTING_FIELDS: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "system": (str,),
    "temperature": (int, float),
    "top_p": (int, float),
    "max_tokens": (int,),
    "thinking": (bool,),
}
# Batch-API body keys that map onto settings; every other body key is sent as it is.
BODY_SETTINGS = ("model", "temperature", "top_p", "max_tokens")
BODY_IGNORED = ("messages", "stream", "request_id", "thinking")
TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", list: "a list"}


@dataclass(frozen=True)
class Item:
    """One input line: its id and request parts, or the reason it cannot be sent."""

    line: int
    id: str
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    json_mode: bool | None = None
    stop: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()  # paths or URLs of images, video, documents (read when the request is built)
    error: str | None = None


def default_id(line: int) -> str:
    """Return the stable id of a line that has none."""
    return f"line-{line}"


def apply_template(template: str, fields: dict[str, Any]) -> str:
    """Fill `{input}` / `{field}`; a template without fields gets the input after a blank line."""
    names = FIELD.findall(template)
    if not names:
        return f"{template}\n\n{fields['input']}" if fields.get("input") is not None else template
    missing = [n for n in dict.fromkeys(names) if fields.get(n) is None]
    if missing:
        what = "the line has no prompt" if missing[0] == "input" else "the line has no such field"
        raise ValueError(f"template field {{{missing[0]}}} is missing ({what})")

    def value(m: re.Match[str]) -> str:
        v = fields[m.group(1)]
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

    return FIELD.sub(value, template)


def _type_name(types: tuple[type, ...]) -> str:
    if float in types:
        return "a number"
    return " or ".join(TYPE_NAMES[t] for t in types)


def _typed(obj: dict[str, Any], key: str, types: tuple[type, ...]) -> Any:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int subclass: `"max_tokens": true` must not pass as an integer.
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise ValueError(f"`{key}` must be {_type_name(types)}, got {json.dumps(value, ensure_ascii=False)[:40]}")
    return value


def item_id(obj: Any, line: int) -> str:
    """Return a line's id: `custom_id` (Batch-API shape) or `id`, else one from its line number."""
    if not isinstance(obj, dict):
        return default_id(line)
    value = obj.get("custom_id" if _is_batch_api(obj) else "id")
    if value is None or value == "" or isinstance(value, bool) or not isinstance(value, (str, int)):
        return default_id(line)
    text = str(value)
    return text if is_text(text) else default_id(line)  # an id with a lone surrogate cannot be written


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _BadNumber(ValueError):
    """A number JSON does not have (NaN, Infinity) or a float cannot hold (1e999): it could not be sent."""


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _BadNumber(f"the number {text[:20]} is too large")
    return value


def _no_constant(name: str) -> Any:
    raise _BadNumber(f"{name} is not a JSON number")


def load_json(text: str) -> tuple[Any, str | None]:
    """Parse one JSON line: (value, None), or (value or None, why the line cannot be used). Never raises.

    Beyond invalid JSON: NaN, Infinity and numbers too large for a float (JSON has no such values:
    the request could not be encoded), nesting deeper than Python's recursion limit, an integer over
    sys.get_int_max_str_digits() digits, and a lone surrogate escape (valid JSON, but not text).
    """
    try:
        obj = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg}, column {exc.colno})"
    except _BadNumber as exc:
        return None, f"not valid JSON ({exc})"
    except RecursionError:
        return None, "nested too deeply to read"
    except ValueError:  # json.loads of a str raises no other: an integer too long to convert
        return None, f"a number has more than {sys.get_int_max_str_digits():,} digits"
    if SURROGATE_ESCAPE.search(text):  # cheap test first: only then the full check
        try:
            whole = is_text(json.dumps(obj, ensure_ascii=False))
        except RecursionError:
            return obj, "nested too deeply to read"
        if not whole:
            return obj, "a string holds a lone surrogate escape (such as \\ud800), which is not text"
    return obj, None


def _is_batch_api(obj: dict[str, Any]) -> bool:
    return "custom_id" in obj or "body" in obj


def _check_id(obj: dict[str, Any], key: str) -> None:
    value = obj.get(key)
    if value not in (None, "") and (isinstance(value, bool) or not isinstance(value, (str, int))):
        raise ValueError(f"`{key}` must be a string or an integer")


def _check_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise ValueError("`messages` must be a non-empty list")
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise ValueError("every message must be an object with a `role`")
    return messages


def _batch_api_item(obj: dict[str, Any], line: int) -> Item:
    _check_id(obj, "custom_id")
    url = obj.get("url", CHAT_URL)
    if url not in (CHAT_URL, "/chat/completions", "/api/paas/v4/chat/completions"):
        raise ValueError(f"only {CHAT_URL} lines can be run, got url {url!r}")
    body = obj.get("body")
    if not isinstance(body, dict):
        raise ValueError("`body` must be an object")
    settings = {k: _typed(body, k, SETTING_FIELDS[k]) for k in BODY_SETTINGS}
    thinking = body.get("thinking")
    if isinstance(thinking, dict):
        settings["thinking"] = thinking.get("type") != "disabled"
        if "clear_thinking" in thinking:
            settings["clear_thinking"] = bool(thinking["clear_thinking"])
    extra = {k: v for k, v in body.items() if k not in BODY_SETTINGS and k not in BODY_IGNORED}
    return Item(
        line=line,
        id=item_id(obj, line),
        messages=_check_messages(body.get("messages")),
        settings={k: v for k, v in settings.items() if v is not None},
        extra=extra,
    )


def _object_item(obj: dict[str, Any], line: int, template: str | None) -> Item:
    if _is_batch_api(obj):
        return _batch_api_item(obj, line)
    _check_id(obj, "id")
    settings = {k: _typed(obj, k, t) for k, t in SETTING_FIELDS.items()}
    stop = _typed(obj, "stop", (str, list)) or ()
    stop = (stop,) if isinstance(stop, str) else tuple(str(s) for s in stop)
    common = dict(
        line=line,
        id=item_id(obj, line),
        settings={k: v for k, v in settings.items() if v is not None},
        json_mode=_typed(obj, "json", (bool,)),
        stop=stop,
    )
    attachments = _typed(obj, "attachments", (list,)) or []
    if not all(isinstance(a, str) and a.strip() for a in attachments):
        raise ValueError("`attachments` must be a list of file paths or URLs")
    if obj.get("messages") is not None:
        if attachments:
            raise ValueError("`attachments` goes with `prompt`; with `messages`, put content parts in them instead")
        return Item(messages=_check_messages(obj["messages"]), **common)
    common["attachments"] = tuple(attachments)
    prompt = _typed(obj, "prompt", (str,))
    if template:
        prompt = apply_template(template, {**obj, "input": prompt})
    if not prompt or not prompt.strip():
        raise ValueError("no `prompt` or `messages` (or an empty prompt)")
    return Item(prompt=prompt, **common)


def parse_line(text: str, line: int, *, text_mode: bool = False, template: str | None = None) -> Item:
    """Turn one input line into an Item; a bad line becomes an Item whose `error` says why."""
    if text_mode:
        prompt = apply_template(template, {"input": text}) if template else text
        return Item(line=line, id=default_id(line), prompt=prompt)
    obj, why = load_json(text)
    if why is not None:
        return Item(line=line, id=item_id(obj, line), error=f"line {line}: {why}")
    try:
        if isinstance(obj, str):
            prompt = apply_template(template, {"input": obj}) if template else obj
            if not prompt.strip():
                raise ValueError("the prompt is empty")
            return Item(line=line, id=default_id(line), prompt=prompt)
        if isinstance(obj, dict):
            return _object_item(obj, line, template)
        raise ValueError(f"expected a JSON string or object, got {type(obj).__name__}")
    except ValueError as exc:
        return Item(line=line, id=item_id(obj, line), error=f"line {line}: {exc}")


def iter_raw_lines(stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for each non-blank line, lazily; a UTF-8 BOM is ignored."""
    for number, raw in enumerate(stream, start=1):
        text = raw.decode("utf-8", errors="replace")
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        text = text.rstrip("\r\n")
        if text.strip():
            yield number, text


def iter_items(stream: IO[bytes], *, text_mode: bool = False, template: str | None = None) -> Iterator[Item]:
    """Yield an Item per non-blank line without holding the file in memory."""
    for number, text in iter_raw_lines(stream):
        yield parse_line(text, number, text_mode=text_mode, template=template)


def line_settings(item: Item, settings: Settings) -> Settings:
    """Return the run's settings with this line's overrides on top."""
    if not item.settings:
        return settings
    return settings.with_values(f"input line {item.line}", **item.settings)


def build_body(
    item: Item,
    settings: Settings,
    catalogue: Catalogue | None,
    *,
    stream: bool = False,
    json_mode: bool = False,
    stop: tuple[str, ...] = (),
    schema: Schema | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Build the line's chat body with THE request builder; raise UsageError when it is invalid.

    With a schema the body asks for json_object, and the schema instruction follows the line's own system
    prompt: appended to its first system message, else to --system / its `system` field, else alone.
    """
    from glm_cli.request import Knobs, build_chat_request, build_messages

    if item.error:
        raise UsageError(item.error)
    s = line_settings(item, settings)
    system = s.system
    if item.messages is not None:
        messages = list(item.messages)
        first = next((n for n, m in enumerate(messages) if m.get("role") == "system"), None)
        if first is None:
            system = schema.system_prompt(system) if schema is not None else system
            if system:
                messages.insert(0, {"role": "system", "content": system})
        elif schema is not None:
            messages[first] = _with_instruction(messages[first], schema)
    else:
        messages = build_messages(item.prompt, system=schema.system_prompt(system) if schema is not None else system)
        if item.attachments:  # checked and read here: a missing or oversized file is this line's error record
            from glm_cli.attachments import load_attachment, user_content

            loaded = [load_attachment(ref) for ref in item.attachments]
            messages[-1] = {"role": "user", "content": user_content(item.prompt or "", loaded)}
    json_mode = True if schema is not None else json_mode if item.json_mode is None else item.json_mode
    knobs = Knobs(stream=stream, json_mode=json_mode, stop=item.stop or stop, request_id=request_id, extra=item.extra)
    return build_chat_request(s, messages, knobs, catalogue)


def _with_instruction(message: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """Return a system message with the schema instruction after its text (content parts get one more part)."""
    content = message.get("content")
    if isinstance(content, list):
        return {**message, "content": [*content, {"type": "text", "text": schema.instruction()}]}
    return {**message, "content": schema.system_prompt(content if isinstance(content, str) else None)}


@dataclass(frozen=True)
class InputScan:
    """What a first pass over the input found: how many lines, and ids used more than once."""

    total: int
    duplicates: dict[str, list[int]]


_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)  # load_json's rules
SCAN_BUCKETS = 16  # the scan checks its hashes a sixteenth at a time (by their low 4 bits)


def _line_id(text: str, number: int) -> str:
    """Return the id parse_line gives a line, without building its request.

    The line is parsed exactly as json.loads parses it (its own whitespace, nothing after the value), with
    the decoder called directly: three times faster, and the scan of a million lines is all this.
    """
    text = text.strip(" \t\r\n")
    try:
        obj, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError):  # bad JSON, a bad number, too deep: load_json refuses it too
        obj = end = None
    return item_id(obj if end == len(text) else None, number)


def _scan_ids(stream: IO[bytes], text_mode: bool, chunk: int = 1 << 18) -> Iterator[tuple[int, str]]:
    """Yield (line, id) for each non-blank line: the same ids parse_line gives.

    The input is read and decoded 256 KB at a time (cut after a newline, so each line decodes as
    iter_raw_lines decodes it). A line that is one JSON object, with no space around it and a plain `id`,
    takes one call of the JSON scanner; any other line takes _line_id, the same path as before.
    """
    if text_mode:
        for number, _ in iter_raw_lines(stream):
            yield number, default_id(number)
        return
    scan = _DECODER.scan_once  # type: ignore[attr-defined]  # raw_decode calls it (here at index 0 of a line)
    first = 1
    while block := stream.read(chunk):
        block += stream.readline()
        text = block.decode("utf-8", errors="replace")
        if first == 1 and text.startswith("\ufeff"):
            text = text[1:]
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        for number, line in enumerate(lines, first):
            try:
                obj, end = scan(line, 0)
            except (StopIteration, ValueError, RecursionError):
                end = -1
            if end == len(line) and type(obj) is dict and "custom_id" not in obj and "body" not in obj:
                value = obj.get("id")
                if type(value) is str and value and value.isascii():
                    yield number, value
                    continue
            line = line.rstrip("\r")
            if line.strip():
                yield number, _line_id(line, number)
        first += len(lines)


def scan_input(stream: IO[bytes], *, text_mode: bool = False) -> InputScan:
    """Count the lines and find duplicate ids, holding 8 bytes per line (hashes, not ids)."""
    from array import array
    from itertools import islice

    if text_mode:  # numbered lines never clash
        return InputScan(sum(1 for _ in iter_raw_lines(stream)), {})
    # In buckets by the hash's low bits, each checked on its own: one sorted list of every hash (Python ints)
    # was 36 MB for a million lines; a bucket's set is a sixteenth of that.
    buckets = [array("q") for _ in range(SCAN_BUCKETS)]
    total = 0
    for _, line_id in _scan_ids(stream, text_mode):
        total += 1
        h = hash(line_id)
        buckets[h & 15].append(h)
    clashes: set[int] = set()
    while buckets:
        bucket = buckets.pop()
        if len(set(bucket)) != len(bucket):  # some hash is there twice: which
            ordered = sorted(bucket)
            clashes.update(a for a, b in zip(ordered, islice(ordered, 1, None), strict=False) if a == b)
    if not clashes:
        return InputScan(total, {})
    # Second pass, only when hashes clash: name the real duplicates and their lines.
    stream.seek(0)
    lines: dict[str, list[int]] = {}
    for number, line_id in _scan_ids(stream, text_mode):
        if hash(line_id) in clashes:
            lines.setdefault(line_id, []).append(number)
    return InputScan(total, {k: v for k, v in lines.items() if len(v) > 1})


def open_input(path: str, stdin: IO[Any] | None, *, spool: bool) -> IO[bytes]:
    """Open the input as bytes; stdin ("-"), a pipe or a FIFO is copied to a temporary file if it must be read twice."""
    import shutil
    import tempfile

    raw: Any
    if path != "-":
        try:
            raw = open(path, "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        if raw.seekable():
            return raw
        # A FIFO or <(cmd): read once, like stdin.
    else:
        source = stdin if stdin is not None else sys.stdin
        raw = getattr(source, "buffer", None)
        if raw is None:  # a text stream (tests): encode it
            import io

            raw = io.BytesIO(source.read().encode("utf-8"))
    if not spool:
        return raw
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    shutil.copyfileobj(raw, tmp, 1 << 20)
    if path != "-":
        raw.close()
    tmp.seek(0)
    return tmp
