"""Structured output: a JSON Schema sent in the system prompt, answers validated locally (jsonschema, lazy)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glm_cli.errors import InvalidOutputError, UsageError
from glm_cli.response import parse_json

MAX_ERRORS = 5
INSTRUCTION = (
    "Answer with one JSON value that is valid against the JSON Schema below. Output only the JSON: "
    "no prose, no code fences.\nJSON Schema:\n{schema}"
)


def check_json(content: str) -> str:
    """Return the answer as clean JSON text (code fences removed), or raise exit 9."""
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0].strip()
    try:
        parse_json(text)
    except ValueError as exc:
        raise InvalidOutputError(
            f"the answer is not valid JSON ({exc})",
            "use --json to see the raw answer, or ask again",
        ) from None
    return text


@dataclass(frozen=True)
class Schema:
    """A checked JSON Schema and where it came from."""

    schema: dict[str, Any]
    source: str

    def instruction(self) -> str:
        return INSTRUCTION.format(schema=json.dumps(self.schema, ensure_ascii=False, indent=1))

    def system_prompt(self, system: str | None) -> str:
        """Return the system prompt with the schema instruction after the user's own."""
        return f"{system}\n\n{self.instruction()}" if system else self.instruction()

    def errors(self, json_text: str) -> list[str]:
        """Return what is wrong with a JSON text against the schema (empty when it is valid)."""
        validator = _validator(self.schema)
        found = sorted(validator.iter_errors(json.loads(json_text)), key=lambda e: list(e.absolute_path))
        return [f"{_path(e.absolute_path)}: {e.message}" for e in found]

    def check(self, json_text: str) -> str:
        """Return the JSON text when it is valid, or raise InvalidOutputError (exit 9) listing the errors."""
        errors = self.errors(json_text)
        if errors:
            raise SchemaMismatch(errors)
        return json_text


class SchemaMismatch(InvalidOutputError):
    """The answer is JSON but does not match the schema."""

    code = "schema_mismatch"

    def __init__(self, errors: list[str]) -> None:
        shown = "; ".join(errors[:MAX_ERRORS]) + (
            f"; and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        )
        super().__init__(
            f"the answer does not match the schema: {shown}",
            "use --json to see the raw answer, or make the prompt more precise",
        )
        self.errors = errors


def repair_message(problem: str) -> dict[str, Any]:
    """Return the user message that asks the model to correct its answer."""
    return {
        "role": "user",
        "content": (
            f"Your answer was rejected: {problem}\n"
            "Answer again with only the corrected JSON, valid against the schema; no prose, no code fences."
        ),
    }


def load_schema(value: str) -> Schema:
    """Read `--schema FILE|JSON`: inline JSON when it starts with `{` (or `[`), else a JSON or YAML file."""
    from glm_cli.tools.files import parse_json_or_yaml

    text, source = value, "--schema"
    if not value.lstrip().startswith(("{", "[")):  # `[…]` is inline JSON too (and then refused: not an object)
        path = Path(value).expanduser()
        try:
            text, source = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise UsageError(
                f"cannot read --schema {value}: {exc.strerror or exc}",
                'give a schema file, or the schema itself as JSON (\'{"type": "object", …}\')',
            ) from None
    data = parse_json_or_yaml(text, f"schema {source}", json_only=source == "--schema" or source.endswith(".json"))
    if not isinstance(data, dict):
        raise UsageError(f"schema {source} must be a JSON Schema object, got {type(data).__name__}")
    try:
        _validator_class(data).check_schema(data)
    except _jsonschema().SchemaError as exc:
        where = _path(exc.absolute_path)
        raise UsageError(
            f"schema {source} is not a valid JSON Schema: {exc.message}" + (f" (at {where})" if where != "$" else "")
        ) from None
    return Schema(data, source)


def _jsonschema() -> Any:
    try:
        import jsonschema
    except ImportError:
        raise UsageError(
            "--schema needs the `jsonschema` package, which is not installed",
            "pip install jsonschema  (or reinstall zhipu-glm-cli)",
        ) from None
    return jsonschema


def _validator_class(schema: dict[str, Any]) -> Any:
    jsonschema = _jsonschema()
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)


def _validator(schema: dict[str, Any]) -> Any:
    cls = _validator_class(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
