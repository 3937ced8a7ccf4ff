"""chat's /model completes what -m takes: model ids and aliases (shipped and from the config), as TAB does."""

from __future__ import annotations

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from glm_cli.commands.chat import ChatOptions, _completer, open_session
from tests.conftest import write_config


def offered(completer, text: str) -> dict[str, str]:
    return {c.text: c.display_meta_text for c in completer.get_completions(Document(text), CompleteEvent())}


def test_slash_model_completes_ids_and_aliases(make_app, env):
    write_config(env, "aliases:\n  quick: glm-4.7-flashx\n  mine: my-model\nmodels:\n  my-model: {context: 8192}\n")
    session = open_session(ChatOptions(), make_app())
    try:
        completer = _completer(session)
        everything = offered(completer, "/model ")
        assert {"glm-4.7", "my-model", "quick", "mine", "fast"} <= set(everything)
        assert everything["quick"] == "alias of glm-4.7-flashx" and everything["my-model"].endswith("from config")
        assert "glm-z1-air" not in everything  # retired: not offered
        assert set(offered(completer, "/model qu")) == {"quick"}
        assert set(offered(completer, "/model my")) == {"my-model"}
    finally:
        session.close()
