"""`glm ask --json` records of answers that came but are not a success carry `error`, as batch records do."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_glm


@pytest.mark.parametrize(
    ("finish", "exit_code"), [("length", 8), ("sensitive", 7), ("model_context_window_exceeded", 8)]
)
def test_a_cut_or_filtered_answer_has_its_finish_reason_as_the_error(srv, environ, finish, exit_code):
    srv.reply(content="half an ans", reasoning="", finish_reason=finish)
    out = run_glm(["ask", "--json", "--no-log", "hi"], environ)
    assert out.returncode == exit_code, out.stderr
    record = json.loads(out.stdout)
    assert record["content"] == "half an ans" and record["finish_reason"] == finish
    assert record["error"]["code"] == finish and f"finish_reason: {finish}" in record["error"]["message"]


def test_a_whole_answer_has_no_error_field(srv, environ):
    srv.reply(content="fine", reasoning="")
    out = run_glm(["ask", "--json", "--no-log", "hi"], environ)
    assert out.returncode == 0 and "error" not in json.loads(out.stdout)


def test_an_answer_that_is_not_the_json_asked_for_is_invalid_json(srv, environ):
    srv.reply(content="not json at all", reasoning="")
    out = run_glm(["ask", "--json", "--json-object", "--no-log", "hi"], environ)
    assert out.returncode == 9, out.stderr
    record = json.loads(out.stdout)
    assert record["content"] == "not json at all" and record["error"]["code"] == "invalid_json"


def test_an_answer_without_a_code_block_for_x_is_no_code_block(srv, environ):
    srv.reply(content="no code here", reasoning="")
    out = run_glm(["ask", "-x", "--json", "--no-log", "hi"], environ)
    assert out.returncode == 9, out.stderr
    record = json.loads(out.stdout)
    assert record["extracted"] == [] and record["error"]["code"] == "no_code_block"
