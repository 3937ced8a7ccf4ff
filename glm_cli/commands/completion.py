"""`glm completion bash|zsh|fish`: print the shell completion script for this version of glm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from glm_cli.commands import binding
from glm_cli.commands.flags import Argument
from glm_cli.completion.gen import SHELLS

if TYPE_CHECKING:
    from glm_cli.app import App

INSTALL = {
    "bash": "echo 'source <(glm completion bash)' >> ~/.bashrc",
    "zsh": 'glm completion zsh > "${fpath[1]}/_glm"   # then start a new shell',
    "fish": "glm completion fish > ~/.config/fish/completions/glm.fish",
}


@dataclass(frozen=True)
class CompletionOptions:
    shell: Annotated[Literal["bash", "zsh", "fish"], Argument(metavar="SHELL", help="bash, zsh or fish.")]
    root: Any = None  # the click command tree to describe (the running app's)


def run_completion(opts: CompletionOptions, app: App) -> int:
    """Write the script to stdout; how to install it goes to stderr when stdout is a terminal."""
    from glm_cli.completion.gen import generate
    from glm_cli.errors import UsageError

    if opts.shell not in SHELLS:
        raise UsageError(f"unknown shell {opts.shell!r}; expected one of {', '.join(SHELLS)}")
    app.ios.stdout.write(generate(opts.shell, opts.root))
    app.ios.stdout.flush()
    if app.ios.stdout_tty:
        app.ios.stderr.write(f"glm: to install: {INSTALL[opts.shell]}\n")
    return 0


def command() -> Any:
    """The `glm completion` command."""
    return binding.command(
        CompletionOptions,
        run_completion,
        name="completion",
        context=lambda ctx: {"root": ctx.find_root().command},
        help='Print the shell completion script (install: see README, "Shell completion").',
    )
