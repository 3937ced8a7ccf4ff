"""What `glm batch run` and `glm batch submit` share: request options, settings, checked input."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Annotated, Literal

from glm_cli.commands import options as o
from glm_cli.commands.flags import Help, Option
from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.batch.input import Item
    from glm_cli.catalogue import Catalogue
    from glm_cli.config import Settings
    from glm_cli.tools.schema import Schema


Text = Annotated[bool, Option("--text", help="Plain text input: one prompt per line.", rich_help_panel=o.INPUT)]
Format = Annotated[
    Literal["record", "batch-api"], o.format_flag("record: glm's records; batch-api: Zhipu's output-file shape.")
]
RETIRED = (o.JSON_MODE_RENAMED, o.NO_JSON_RENAMED)  # run and submit: --json asked the model for JSON


@dataclass(frozen=True)
class RequestOptions:
    """What every line's request is built from (shared by `run` and `submit`)."""

    text: Text = False
    template: Annotated[
        str | None,
        Option(
            "--template",
            "-T",
            metavar="TEMPLATE",
            rich_help_panel=o.INPUT,
            help="Prompt template: {input} is the line's prompt, {field} any field of a JSON line.",
        ),
    ] = None
    model: o.Model = None
    system: o.System = None
    preset: o.Preset = None
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    think: o.Think = None
    temperature: o.Temperature = None
    top_p: o.TopP = None
    max_tokens: o.MaxTokens = None
    stop: o.Stop = ()
    param: o.Param = ()
    json_object: Annotated[
        o.JsonObject,
        Help("Ask for JSON objects (response_format json_object); an answer that does not parse is an error record."),
    ] = None
    schema: Annotated[
        o.Schema, Help("A JSON Schema (a file, or inline JSON) every answer must match; a mismatch is an error record.")
    ] = None


@dataclass(frozen=True)
class Prepared:
    settings: Settings
    catalogue: Catalogue
    template: str | None
    json_mode: bool
    schema: Schema | None = None


def prepare(ro: RequestOptions, app: App) -> Prepared:
    """Resolve settings, preset template and JSON mode; check the flags once, before any line."""
    from glm_cli.commands.conversing import warn_unknown_model
    from glm_cli.commands.options import request_flags
    from glm_cli.request import Knobs, build_chat_request, build_messages

    flags = request_flags(ro)
    settings = app.settings(flags, profile=ro.profile, preset=ro.preset)
    json_mode = ro.json_object if ro.json_object is not None else bool(settings.preset.json)
    schema = None
    if ro.schema:  # GLM has no json_schema format: each line's system prompt gets the schema (build_body)
        from glm_cli.tools.schema import load_schema

        schema, json_mode = load_schema(ro.schema), True
    catalogue = app.catalogue(settings)
    warn_unknown_model(app, catalogue, settings.model)
    # A bad --temperature is one usage error now, not an error record on every line later.
    build_chat_request(
        settings,
        build_messages("check", system=settings.system),
        Knobs(stream=False, json_mode=json_mode, stop=ro.stop),
        catalogue,
    )
    return Prepared(settings, catalogue, ro.template or settings.preset.template, json_mode, schema)


def open_checked(path: str, ro: RequestOptions, app: App) -> tuple[IO[bytes], int | None]:
    """Open the input, count its lines and refuse duplicate ids before anything is sent."""
    from glm_cli.batch.input import open_input, scan_input

    if path == "-" and app.ios.stdin_tty:
        raise UsageError("the input is `-` but stdin is a terminal", "pipe the prompts in, or give a FILE")
    stream = open_input(path, app.ios.stdin, spool=not ro.text)
    if ro.text and (path == "-" or not stream.seekable()):  # read once, as it comes: numbered lines cannot clash
        return stream, None
    scan = scan_input(stream, text_mode=ro.text)
    stream.seek(0)
    if scan.duplicates:
        stream.close()
        shown = "; ".join(f"{k!r} on lines {', '.join(map(str, v[:5]))}" for k, v in list(scan.duplicates.items())[:5])
        raise UsageError(
            f"{len(scan.duplicates):,} id(s) used more than once in {path}: {shown}",
            "ids must be unique: they are how a rerun knows what is done",
        )
    return stream, scan.total


def items_of(stream: IO[bytes], ro: RequestOptions, prep: Prepared) -> Iterator[Item]:
    """Yield the input's items, lazily."""
    from glm_cli.batch.input import iter_items

    return iter_items(stream, text_mode=ro.text, template=prep.template)


def answer_check(schema: Schema | None) -> Callable[[str], str]:
    """Return the check of a JSON answer: it parses (code fences allowed), and matches the schema when given."""
    from glm_cli.tools.schema import check_json

    if schema is None:
        return check_json

    def check(content: str) -> str:
        return schema.check(check_json(content))

    return check
