"""`glm ask` imports the JSON-answer checks only when the answer must be JSON (--json-object); plain asks skip them."""

from __future__ import annotations

from tests.test_perf_startup import modules_after


def test_a_plain_ask_skips_the_json_checks_and_json_mode_still_checks(environ):
    env = environ
    text, mods = modules_after(["ask", "--no-log", "hi"], env)
    assert "Echo: hi" in text
    assert "glm_cli.tools.schema" not in mods
    # --json-object: the answer ("Echo: ...", not JSON) is refused by the check, which is imported then.
    text, mods = modules_after(["ask", "--no-log", "--json-object", "hi"], env)
    assert "glm_cli.tools.schema" in mods
    assert "JSON" in text, text
