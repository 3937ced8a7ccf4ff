"""Tools: tool files, the tool loop, MCP servers, web search and JSON-schema answers."""
