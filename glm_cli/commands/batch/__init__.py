"""The Typer layer of `glm batch`: the local run and the remote Batch API subcommands."""
