"""`glm embed`: the vector of one text from Zhipu's embedding models (POST /embeddings, zhipu-api.md §8.4).

embedding-3 [doc]: at most 3072 tokens per input, `dimensions` 256, 512, 1024 or 2048 (default 2048);
embedding-2: a fixed 1024. A text that cannot fit is refused before sending, never cut.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glm_cli.errors import ProtocolError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.client import GlmClient
    from glm_cli.events import Usage

DEFAULT_MODEL = "embedding-3"
# model -> (the dimensions it can give, the most tokens of one input or None when not documented)
MODELS: dict[str, tuple[tuple[int, ...], int | None]] = {
    "embedding-3": ((256, 512, 1024, 2048), 3072),
    "embedding-2": ((1024,), None),
}
MAX_INPUTS = 64  # per request, documented for embedding-3
FORMATS = ("json", "lines")


@dataclass(frozen=True)
class EmbedOptions:
    text: tuple[str, ...] = ()
    file: str | None = None
    model: str = DEFAULT_MODEL
    dimensions: int | None = None
    fmt: str = "json"
    output: str | None = None
    as_json: bool = False
    profile: str | None = None
    endpoint: str | None = None
    no_stdin: bool = False


@dataclass(frozen=True)
class Embedding:
    vector: list[float]
    usage: Usage | None


def check_request(model: str, dimensions: int | None) -> None:
    """Refuse a dimensions value the model does not give (a model glm does not know is sent as asked)."""
    known = MODELS.get(model)
    if dimensions is None or known is None:
        return
    if dimensions not in known[0]:
        choices = ", ".join(map(str, known[0]))
        raise UsageError(f"{model} gives {choices} dimensions, not {dimensions}", f"--dimensions {known[0][-1]}")


def check_input(model: str, text: str, where: str) -> str:
    """Return TEXT, or refuse it: empty, or certainly more tokens than one input of MODEL may have."""
    from glm_cli.catalogue import CHARS_PER_TOKEN_MAX

    if not text.strip():
        raise UsageError(f"nothing to embed: {where} is empty")
    most = (MODELS.get(model) or ((), None))[1]
    if most is not None and len(text) // CHARS_PER_TOKEN_MAX > most:
        raise UsageError(
            f"{where} is {len(text):,} characters, at least {len(text) // CHARS_PER_TOKEN_MAX:,} tokens: "
            f"more than the {most:,} tokens {model} embeds at once",
            "split it; glm never cuts it silently",
        )
    return text


def embed_texts(
    client: GlmClient, model: str, texts: list[str], dimensions: int | None
) -> tuple[list[list[float]], Usage | None]:
    """POST /embeddings for up to MAX_INPUTS texts; return their vectors in input order, and the usage."""
    from glm_cli.shape import want_object

    body: dict[str, Any] = {"model": model, "input": texts[0] if len(texts) == 1 else texts}
    if dimensions is not None:
        body["dimensions"] = dimensions
    data = want_object(client.request_json("POST", "/embeddings", json=body), "the embeddings answer")
    return read_vectors(data, len(texts), dimensions)


def read_vectors(data: dict[str, Any], count: int, dimensions: int | None) -> tuple[list[list[float]], Usage | None]:
    """The COUNT vectors of an embeddings answer, in input order, and its usage; ProtocolError when malformed."""
    from glm_cli.events import Usage
    from glm_cli.shape import want_object

    items = data.get("data")
    if not isinstance(items, list) or len(items) != count:
        raise ProtocolError(
            f"the embeddings answer has {len(items) if isinstance(items, list) else 'no'} vectors "
            f"for {count} input{'s' if count > 1 else ''}"
        )
    vectors: list[list[float] | None] = [None] * count
    for n, item in enumerate(items):
        item = want_object(item, f"data[{n}]")
        index = item.get("index", n)
        vector = item.get("embedding")
        if not isinstance(index, int) or not 0 <= index < count or vectors[index] is not None:
            raise ProtocolError(f"the embeddings answer's data[{n}] has a bad index: {index!r}")
        if (
            not isinstance(vector, list)
            or not vector
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector)
        ):
            raise ProtocolError(f"the embeddings answer's data[{n}].embedding is not a list of numbers")
        if dimensions is not None and len(vector) != dimensions:
            raise ProtocolError(f"the server gave {len(vector)} dimensions, not the {dimensions} asked for")
        vectors[index] = [float(x) for x in vector]
    return [v for v in vectors if v is not None], Usage.from_api(data.get("usage"))


def read_input(opts: EmbedOptions, app: App) -> tuple[str, str]:
    """The one text to embed and where it came from: the argument, else -f FILE, else piped stdin."""
    from glm_cli.catalogue import CHARS_PER_TOKEN_MAX

    given = [what for what, there in (("TEXT", opts.text), ("-f", opts.file)) if there]
    if len(given) > 1:
        raise UsageError("give the text one way: as an argument or with -f FILE")
    bound = ((MODELS.get(opts.model) or ((), None))[1] or 1 << 20) * CHARS_PER_TOKEN_MAX + 1
    if opts.text:
        return " ".join(opts.text), "the text"
    if opts.file:
        try:
            with open(opts.file, encoding="utf-8", errors="replace", newline="") as fh:
                return fh.read(bound + 1), opts.file
        except OSError as exc:
            raise UsageError(f"cannot read -f {opts.file}: {exc.strerror or exc}") from None
    if opts.no_stdin or app.ios.stdin_tty:
        raise UsageError("nothing to embed: give TEXT, -f FILE or pipe it in", 'glm embed "some text"')
    return app.ios.stdin.read(bound + 1), "stdin"


def run_embed(opts: EmbedOptions, app: App) -> int:
    """Print the vector of one text as a JSON array, one number per line, or a JSON record (--json)."""
    if opts.fmt not in FORMATS:
        raise UsageError(f"--format must be json or lines, got {opts.fmt!r}")
    check_request(opts.model, opts.dimensions)
    text, where = read_input(opts, app)
    check_input(opts.model, text, where)
    flags = {"endpoint": opts.endpoint} if opts.endpoint else {}
    settings = app.settings(flags, profile=opts.profile)
    client = app.make_client(settings)
    try:
        vectors, usage = embed_texts(client, opts.model, [text], opts.dimensions)
    finally:
        client.close()
    vector = vectors[0]
    if opts.as_json:
        out = (
            json.dumps(
                {
                    "model": opts.model,
                    "dimensions": len(vector),
                    "embedding": vector,
                    "usage": usage.to_api() if usage else None,
                }
            )
            + "\n"
        )
    elif opts.fmt == "lines":
        out = "".join(f"{json.dumps(x)}\n" for x in vector)
    else:
        out = json.dumps(vector) + "\n"
    write_output(app, out, opts.output)
    return 0


def write_output(app: App, text: str, output: str | None) -> None:
    """Write TEXT to stdout, or to the file -o names (whole or not at all: a temporary file, then a rename)."""
    if not output or output == "-":
        app.ios.stdout.write(text)
        return
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(output))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".glm-embed-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            mask = os.umask(0)  # mkstemp makes it 0600; give it the mode a plain new file gets
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
            os.replace(tmp, output)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write -o {output}: {exc.strerror or exc}") from None
