"""Chat: the interactive session and its slash commands."""
