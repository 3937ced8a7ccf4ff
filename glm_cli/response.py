"""The server's JSON read into typed values: parsed within bounds, every field used checked for its type.

Whatever the server (or a proxy on the way) sends, reading it ends in typed values or a clear error
(ProtocolError: "choices[0].delta is a list, not an object"; APIError for an error it reports) - never in
another exception, and never in an empty answer taken for a whole one. Unknown fields are ignored.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from glm_cli.errors import APIError, ProtocolError
from glm_cli.events import ContentDelta, Delta, Finish, ReasoningDelta, ToolCallDelta, Usage
from glm_cli.shape import shape_error, want_list, want_object, want_text

MAX_DEPTH = 100  # JSON nested deeper than this is refused (the API's own answers are ~6 deep)
SHOWN = 300  # characters of a server's error message that are shown
EMPTY = "the server's answer was empty: no content, no tool calls and no finish_reason"


def parse_json(text: str | bytes) -> Any:
    """Parse JSON text; raise ValueError with a one-line reason (bad syntax, a 5000-digit number, too deep)."""
    try:
        value = _scan_whole(text) if isinstance(text, str) else json.loads(text)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # a number over 4300 digits, bytes that are not UTF-8
        raise ValueError(str(exc).split(";")[0]) from None
    opened = text.count("[") + text.count("{") if isinstance(text, str) else text.count(b"[") + text.count(b"{")
    if opened > MAX_DEPTH and not _within_depth(value):  # fewer brackets cannot nest deeper: no walk needed
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return value


_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner json.loads uses


def _scan_whole(text: str) -> Any:
    """json.loads(text), reading the usual text (no space around it, nothing after it) in one scanner call."""
    try:
        value, end = _scan(text, 0)
    except (StopIteration, ValueError):  # space first, not JSON, a too-long number: json.loads says which
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def _within_depth(value: Any) -> bool:
    """Whether no list or object in value is nested deeper than MAX_DEPTH (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= MAX_DEPTH:
                    return False
                stack.append((child, depth + 1))
    return True


def loads(text: str | bytes, what: str) -> Any:
    """Parse the server's JSON; raise ProtocolError naming `what` when it cannot be read."""
    try:
        return parse_json(text)
    except ValueError as exc:
        raise ProtocolError(f"malformed JSON in {what}: {exc}") from None


def error_detail(value: Any) -> tuple[str | None, str]:
    """Return (GLM code, message) of an error the server reports, whatever its shape."""
    code = message = None
    if isinstance(value, dict):
        raw_code, raw_message = value.get("code"), value.get("message")
        if isinstance(raw_code, (str, int)) and not isinstance(raw_code, bool):
            code = str(raw_code)[:40] or None
        message = raw_message if isinstance(raw_message, str) else None
        if message is None and raw_message is not None:
            message = json.dumps(raw_message, ensure_ascii=False)
    elif isinstance(value, str):
        message = value
    elif value is not None:
        message = json.dumps(value, ensure_ascii=False)
    return code, _shown(want_text(message, "error.message") or "")


def _shown(text: str) -> str:
    """Return a server's text as one line of at most SHOWN characters."""
    text = " ".join(text[: 4 * SHOWN].split())
    return text[:SHOWN] + ("…" if len(text) > SHOWN else "")


def error_body_detail(body: bytes) -> tuple[str | None, str | None]:
    """Return (GLM code, message) of an HTTP error answer's body: GLM's error object, Spring's, or its text."""
    try:
        data = parse_json(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    if "status" in data and isinstance(data.get("path"), str) and not isinstance(data.get("error"), dict):
        return None, f"{error_detail(data.get('error') or 'Not Found')[1]} {_shown(data['path'])}"  # Spring's 404
    if data.get("error") is not None:
        code, message = error_detail(data["error"])
        return code, message or None
    return None, _shown(body[: 4 * SHOWN].decode("utf-8", "replace")) or None


class ReportedError(APIError):
    """An error the server reported in a 200 answer: in its body, or in a frame of its stream.

    The client classes it by its GLM code as it classes an HTTP error answer (client.reported_error).
    """

    def __init__(self, code: str | None, detail: str, what: str = "the server answered with an error") -> None:
        self.detail = detail or "no details"
        super().__init__(f"{what}{f' (GLM {code})' if code else ''}: {self.detail}", code=code)


def error_of(doc: dict[str, Any]) -> ReportedError | None:
    """Return the error an answer carries in an `error` field (null or absent: none)."""
    if doc.get("error") is None:
        return None
    code, message = error_detail(doc["error"])
    if code is not None and not code.isdigit():  # another server's code: shown, but not taken for a GLM code
        message, code = f"{code}: {message}" if message else code, None
    return ReportedError(code, message)


def error_event(data: str) -> ReportedError:
    """Return the error an `event: error` stream frame reports: its JSON error object, else its text."""
    try:
        value = parse_json(data)
    except ValueError:
        value = None
    if isinstance(value, dict):
        found = error_of(value if value.get("error") is not None else {"error": value})
        if found is not None:
            return found
    return ReportedError(None, _shown(data[:SHOWN]), "stream error")


def chunk_to_deltas(chunk: Any, *, whole: bool = False) -> list[Delta]:
    """Turn one chat.completion.chunk (whole: a non-stream response) into deltas, checking every field used.

    The chunk is checked completely before any delta is returned. A whole response must have a choice with a
    `message`; a stream chunk may have none (a usage-only chunk) and its choices may leave out `delta`.
    """
    if not whole:
        plain = _plain_chunk(chunk)
        if plain is not None:
            return plain
    doc = want_object(chunk, "the answer")
    err = error_of(doc)
    if err is not None:
        raise err
    choices = want_list(doc.get("choices"), "choices")
    if whole and not choices:
        raise ProtocolError("the server's answer was not in the expected shape: it has no choices")
    deltas: list[Delta] = []
    finish_reason = None
    for n, choice in enumerate(choices):
        where = f"choices[{n}]"
        choice = want_object(choice, where)
        key = "delta" if choice.get("delta") is not None else "message"
        body = choice.get(key)
        if body is None:
            if whole:
                raise ProtocolError(f"the server's answer was not in the expected shape: {where} has no message")
            body = {}
        deltas.extend(_message_deltas(want_object(body, f"{where}.{key}"), f"{where}.{key}"))
        finish_reason = want_text(choice.get("finish_reason"), f"{where}.finish_reason") or finish_reason
    usage = Usage.from_api(doc.get("usage"))
    # web_search results may ride on an early chunk, not the last one: pass them on wherever they are.
    extras: dict[str, Any] = {k: doc[k] for k in ("web_search", "content_filter") if k in doc}
    want_list(extras.get("web_search"), "web_search")
    ident, model = want_text(doc.get("id"), "id"), want_text(doc.get("model"), "model")
    if finish_reason or usage or extras:
        deltas.append(Finish(finish_reason=finish_reason, usage=usage, id=ident, model=model, extras=extras))
    if whole and not any(says_something(d) for d in deltas):
        raise ProtocolError(EMPTY)
    return deltas


def _plain_chunk(doc: Any) -> list[Delta] | None:
    """The deltas of the usual stream chunk, read fast; None for any other chunk (chunk_to_deltas reads that).

    Usual: an object with one choice whose delta is an object without tool calls, and no finish_reason,
    usage, error, web_search or content_filter, and an id and model that are text or absent. Its fields
    get the same checks as in chunk_to_deltas (that is, those of _message_deltas).
    """
    if type(doc) is not dict or doc.get("error") is not None or doc.get("usage") is not None:
        return None
    choices = doc.get("choices")
    if type(choices) is not list or len(choices) != 1 or "web_search" in doc or "content_filter" in doc:
        return None
    choice = choices[0]
    if type(choice) is not dict or choice.get("finish_reason") is not None:
        return None
    body = choice.get("delta")
    if type(body) is not dict or body.get("tool_calls") is not None:
        return None
    ident, model = doc.get("id"), doc.get("model")
    if not (ident is None or type(ident) is str) or not (model is None or type(model) is str):
        return None
    return _message_deltas(body, "choices[0].delta")


class Usual(NamedTuple):
    """A stream's usual chunk as text: HEAD, one JSON string (the delta's text), TAIL.

    Learned from a chunk of the stream (see usual_chunk); any event that is HEAD + a JSON string + TAIL reads
    as that chunk with its text replaced: KIND(text), or no delta for "".
    """

    head: str  # up to and with the string's opening quote
    tail: str
    kind: type[ContentDelta] | type[ReasoningDelta]
    where: str  # the string's path, for want_text


scan_string = json.decoder.scanstring  # type: ignore[attr-defined]  # the C string scanner: (str, index after it)


def usual_chunk(text: str, delta: Delta) -> Usual | None:
    """The Usual of TEXT, a chunk whose deltas were exactly [DELTA] (text or reasoning); None if it is not one.

    Proved, not assumed: TEXT is cut around the last `"content":` string (or `"reasoning_content":`), and the
    chunk made of the same head and tail around another string must read as exactly that one delta with the
    other string's text. Then JSON's grammar makes any other string there read the same way: the head and
    tail are the same tokens, and only the string's value differs (same depth, same fields, same checks).
    """
    if not isinstance(delta, (ContentDelta, ReasoningDelta)):
        return None
    kind = type(delta)
    name = "content" if kind is ContentDelta else "reasoning_content"
    at = text.rfind(f'"{name}":')
    if at < 0:
        return None
    start = at + len(name) + 3
    while text[start : start + 1] in (" ", "\t", "\n", "\r"):
        start += 1
    if text[start : start + 1] != '"':
        return None
    try:
        end = scan_string(text, start + 1)[1]
    except ValueError:
        return None
    head, tail = text[: start + 1], text[end:]
    probe = "x" if delta.text != "x" else "y"  # another text than the chunk's own: that proves the cut
    try:
        probed = chunk_to_deltas(parse_json(f'{head}{probe}"{tail}'))
    except (ValueError, ProtocolError, APIError):
        return None
    if probed != [kind(probe)]:
        return None
    return Usual(head, tail, kind, f"choices[0].delta.{name}")


def says_something(delta: Delta) -> bool:
    """Whether a delta makes an answer: content, a tool call or a finish_reason (reasoning alone does not)."""
    return isinstance(delta, (ContentDelta, ToolCallDelta)) or isinstance(delta, Finish) and bool(delta.finish_reason)


def _message_deltas(body: dict[str, Any], where: str) -> list[Delta]:
    deltas: list[Delta] = []
    reasoning, content, calls = body.get("reasoning_content"), body.get("content"), body.get("tool_calls")
    if reasoning is not None:  # (the path names are built only for a field that is there: once per delta)
        reasoning = want_text(reasoning, f"{where}.reasoning_content")
        if reasoning:
            deltas.append(ReasoningDelta(reasoning))
    if content is not None:
        content = want_text(content, f"{where}.content")
        if content:
            deltas.append(ContentDelta(content))
    if calls is not None:
        for pos, call in enumerate(want_list(calls, f"{where}.tool_calls")):
            deltas.append(_tool_call_delta(call, pos, f"{where}.tool_calls[{pos}]"))
    return deltas


def _tool_call_delta(call: Any, pos: int, where: str) -> ToolCallDelta:
    call = want_object(call, where)
    index = call.get("index", pos)
    if not isinstance(index, int) or isinstance(index, bool):
        raise shape_error(f"{where}.index", index, "a whole number")
    fn = call.get("function")
    fn = {} if fn is None else want_object(fn, f"{where}.function")
    args = fn.get("arguments")
    if isinstance(args, dict):  # some servers send the arguments as an object: pass them on as JSON text
        args = json.dumps(args, ensure_ascii=False)
    return ToolCallDelta(
        index=index,
        id=want_text(call.get("id"), f"{where}.id") or None,
        type=want_text(call.get("type"), f"{where}.type") or None,
        name=want_text(fn.get("name"), f"{where}.function.name") or None,
        arguments=want_text(args, f"{where}.function.arguments") or "",
    )
