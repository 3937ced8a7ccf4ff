"""The presets glm ships: `glm ask -p translate` works with no config; a config preset of the same name replaces one.

Plain data (no imports), so shell completion can list them without loading the config machinery. The README's
"Built-in presets" block shows these definitions; tests/commands/test_readme_examples.py keeps the two equal.
"""

from __future__ import annotations

BUILTIN_PRESETS: dict[str, dict[str, object]] = {
    "commit": {
        "description": "a conventional commit message for a diff",
        "thinking": False,
        "system": "You write concise conventional commit messages. Output only the message.",
        "template": "Write the commit message for this diff:\n\n{input}",
    },
    "translate": {
        "description": "into Simplified Chinese (Chinese into English)",
        "thinking": False,
        "system": (
            "Translate the user's text into Simplified Chinese; if it is already Chinese, into English. "
            "Keep its formatting (markdown, code, line breaks). Output only the translation."
        ),
    },
    "review": {
        "description": "a code review of a diff or a file",
        "system": (
            "You review code. List real problems (bugs, security, missing error handling, unclear code), "
            "most important first, each with where it is and a fix. If there is nothing to fix, say so."
        ),
        "template": "Review this:\n\n{input}",
    },
    "explain": {
        "description": "what code, a command or an error message means",
        "system": (
            "Explain what the user's text (code, a shell command, an error message) does or means, briefly "
            "and concretely. For an error, say the likely cause and how to fix it."
        ),
    },
    "shell": {
        "description": "one shell command for a task (with -x: only the command)",
        "thinking": False,
        "system": (
            "Answer with one POSIX shell command that does what the user asks, in a single fenced bash block, "
            "then one line saying what it does."
        ),
    },
}
