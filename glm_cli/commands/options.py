"""Every flag shared by more than one command, declared once: names, metavar, help and help heading.

An Options dataclass lists the flags it takes as fields (`model: o.Model = None`); binding.command()
turns the fields into the command's parameters. The vocabulary is the same in every command:
`-o, --output FILE` is where glm writes its result (`-` = stdout), `--format FORMAT` its shape, `--json`
the shorthand for JSON output, `--json-object` asks the model for a JSON object, `-f, --file FILE` is
an input file, `-n, --limit N` a count. Spellings whose meaning changed are `Retired`: they fail with a
hint, they are never reinterpreted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args, get_type_hints

from glm_cli.commands.flags import PANELS, Argument, Check, Complete, Option, Retired
from glm_cli.config import ENDPOINTS
from glm_cli.errors import UsageError

# The help headings a flag is listed under (rich_help_panel), in the order help shows them.
INPUT, MODEL, THINKING, TOOLS, SEARCH, OUTPUT, HISTORY, BATCH, CONNECTION = PANELS

# What TAB offers for a value (flags.Complete). Undeclared: a Literal's values, nothing for numbers and
# free text, files only where the metavar names a path (FILE, PATH, DIR): see completion/gen.param_kind.
FILES, TEXT = Complete("files"), Complete("none")
MODELS, PRESETS, PROFILES = Complete("models"), Complete("presets"), Complete("profiles")
CONVERSATIONS, MCP_SERVERS = Complete("conversations"), Complete("mcp-servers")

# ---- model and request


def not_empty(flag: str, hint: str) -> Check:
    """Refuse an empty value (`-m "$UNSET"`): it is a mistake, never "use the default"."""

    def check(value: Any, _options: type) -> None:
        if value is not None and not value.strip():
            raise UsageError(f"{flag} needs a value, got an empty one", hint)

    return Check(check)


Model = Annotated[
    str | None,
    Option("--model", "-m", metavar="MODEL", help="Model id or alias (default glm-4.7).", rich_help_panel=MODEL),
    not_empty("-m/--model", "name a model (see `glm models`), or leave the flag out for the default"),
    MODELS,
]
System = Annotated[
    str | None, Option("--system", "-s", metavar="TEXT", help="System prompt.", rich_help_panel=INPUT), TEXT
]
Preset = Annotated[
    str | None,
    Option(
        "--preset", "-p", metavar="NAME", help="Use a named preset: built-in or from the config.", rich_help_panel=INPUT
    ),
    PRESETS,
]
Temperature = Annotated[
    float | None,
    Option("--temperature", "-t", metavar="NUMBER", help="Sampling temperature, 0..1.", rich_help_panel=MODEL),
]
TopP = Annotated[
    float | None, Option("--top-p", metavar="NUMBER", help="Nucleus sampling, 0.01..1.", rich_help_panel=MODEL)
]
MaxTokens = Annotated[
    int | None, Option("--max-tokens", metavar="N", help="Maximum output tokens.", rich_help_panel=MODEL)
]
Stop = Annotated[
    tuple[str, ...],
    Option("--stop", metavar="TEXT", help="Stop sequence (repeatable).", rich_help_panel=MODEL),
    TEXT,
]
JsonObject = Annotated[
    bool | None,
    Option(
        "--json-object/--no-json-object",
        rich_help_panel=MODEL,
        help="Ask the model for a JSON object (response_format json_object); an answer that does not parse "
        "is an error.",
    ),
]
Schema = Annotated[
    str | None,
    Option(
        "--schema",
        metavar="SCHEMA",
        rich_help_panel=MODEL,
        help="A JSON Schema (a file, or inline JSON) the answer must match; implies --json-object.",
    ),
    not_empty("--schema", "give a schema file or inline JSON, or leave the flag out"),
    FILES,
]

Param = Annotated[
    tuple[str, ...],
    Option(
        "--param",
        metavar="KEY=VALUE",
        rich_help_panel=MODEL,
        help="Send a request field glm has no flag for (repeatable): VALUE is JSON when it parses, else a string; "
        "a.b=VALUE sets a nested field; KEY!=VALUE replaces a field glm sets itself.",
    ),
    TEXT,
]

# ---- thinking

Think = Annotated[
    bool | None,
    Option("--think/--no-think", help="Turn GLM thinking on or off (sends thinking.type).", rich_help_panel=THINKING),
]
ShowThinking = Annotated[
    bool | None,
    Option(
        "--show-thinking/--hide-thinking",
        rich_help_panel=THINKING,
        help="Show reasoning on stderr (default: when stderr is a terminal).",
    ),
]

# ---- connection

Profile = Annotated[
    str | None,
    Option("--profile", "-P", metavar="NAME", help="Use a named profile from the config.", rich_help_panel=CONNECTION),
    PROFILES,
]
Endpoint = Annotated[
    str | None,
    Option(
        "--endpoint",
        "-e",
        metavar="NAME",
        help="zai, bigmodel, zai-coding or bigmodel-coding.",
        rich_help_panel=CONNECTION,
    ),
    Complete.one_of(*ENDPOINTS),
]
Verbose = Annotated[
    bool,
    Option("--verbose", "-v", help="Request/response metadata and timings on stderr.", rich_help_panel=CONNECTION),
]

# ---- history

Continue = Annotated[
    bool,
    Option("--continue", "-c", help="Continue the last conversation (of ask or chat).", rich_help_panel=HISTORY),
]
Resume = Annotated[
    str | None,
    Option(
        "--resume",
        "-r",
        metavar="ID|NAME",
        help="Continue that conversation (see `glm history list`).",
        rich_help_panel=HISTORY,
    ),
    CONVERSATIONS,
]
NoLog = Annotated[
    bool, Option("--no-log", help="Do not save this conversation to the history.", rich_help_panel=HISTORY)
]

# ---- input and output: the one vocabulary

Attach = Annotated[
    tuple[str, ...],
    Option(
        "--attach",
        "-a",
        metavar="PATH|URL",
        help="Attach an image, video or document (repeatable).",
        rich_help_panel=INPUT,
    ),
    FILES,
]

FORMAT_WORDS = ("text", "json", "markdown", "md")  # shapes; `-o json` is refused, never a file named json


def output_file(value: Any, options: type) -> None:
    """Refuse `-o json` and the like: -o is the output file, a bare format name is a mistake."""
    if value not in FORMAT_WORDS:
        return
    shapes = choices(options, "format")
    if value in shapes:
        message = f"-o is the output file; use --format {value}" + (" (or --json)" if value == "json" else "")
    elif shapes:
        message = f"-o is the output file, not a format; --format takes {' or '.join(shapes)}"
    else:
        message = "-o is the output file, not a format"
    raise UsageError(message, f"to write a file of that name, say -o ./{value}")


def choices(options: type, name: str) -> tuple[str, ...]:
    """The values a Literal-typed field NAME of OPTIONS takes (empty when it has none)."""
    hint = get_type_hints(options).get(name)
    for arg in (hint, *get_args(hint)):
        if getattr(arg, "__origin__", None) is Literal:
            return tuple(get_args(arg))
    return ()


Output = Annotated[
    str | None,
    Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the result to FILE (- is stdout, the default).",
        rich_help_panel=OUTPUT,
    ),
    Check(output_file),
]
AsJson = Annotated[bool, Option("--json", help="Print JSON (machine-readable).", rich_help_panel=OUTPUT)]
Concurrency = Annotated[
    int,
    Option("--concurrency", "-j", metavar="N", help="Requests in flight at most.", rich_help_panel=BATCH),
]
RetryFailed = Annotated[
    bool, Option("--retry-failed", help="Run lines whose record is an error again.", rich_help_panel=BATCH)
]
Limit = Annotated[int | None, Option("--limit", "-n", metavar="N", help="How many.", rich_help_panel=OUTPUT)]
InputFile = Annotated[str | None, Option("--file", "-f", metavar="FILE", help="An input file.", rich_help_panel=INPUT)]
Files = Annotated[
    tuple[str, ...],
    Option(
        "--file", "-f", metavar="FILE", help="Attach a text file, fenced and named (repeatable).", rich_help_panel=INPUT
    ),
]
Prompt = Annotated[
    tuple[str, ...],
    Argument(metavar="PROMPT...", help="The prompt (joined with spaces); piped stdin follows it."),
]
NoStdin = Annotated[bool, Option("--no-stdin", help="Ignore stdin.", rich_help_panel=INPUT)]


def format_flag(help: str) -> Any:
    """The --format declaration; the field's Literal type says which shapes the command has."""
    return Option("--format", metavar="FORMAT", help=help, rich_help_panel=OUTPUT)


def output_format(fmt: str | None, as_json: bool, default: str) -> str:
    """Return the shape asked for: --format, with --json as its shorthand for json."""
    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json and --format {fmt} disagree", "give one of them")
    return "json" if as_json else fmt or default


# ---- spellings that changed meaning (each fails with its hint; see README, "One vocabulary")

JSON_MODE_RENAMED = Retired(
    ("--json",),
    "--json no longer asks the model for JSON: that is --json-object now",
    "use --json-object (in every glm command, --json means machine-readable output)",
)
NO_JSON_RENAMED = Retired(("--no-json",), "--no-json was renamed --no-json-object", "use --no-json-object")


def setting_flags(**flags: object) -> dict[str, object]:
    """Return the flags that were given, by setting name."""
    return {k: v for k, v in flags.items() if v is not None}


def request_flags(opts: Any, **more: object) -> dict[str, object]:
    """Return the request flags ask, chat and batch share (model … max_tokens, --param) that were given, plus MORE."""
    from glm_cli.config import parse_params

    shared = {
        "model": opts.model,
        "system": opts.system,
        "endpoint": opts.endpoint,
        "thinking": opts.think,
        "temperature": opts.temperature,
        "top_p": opts.top_p,
        "max_tokens": opts.max_tokens,
        "params": parse_params(opts.param) if opts.param else None,
    }
    return setting_flags(**{**shared, **more})
