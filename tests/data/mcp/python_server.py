"""A small MCP server on the official Python SDK (PyPI `mcp`), for hearth-tools' tests.

Usage: python_server.py stdio
       python_server.py http PORT     (Streamable HTTP on 127.0.0.1:PORT/mcp)
"""

import asyncio
import os
import subprocess
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("hearth-test-server")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def env(name: str) -> str:
    """Return an environment variable's value, or <unset>."""
    return os.environ.get(name, "<unset>")


@server.tool()
async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "done"


@server.tool()
def crash() -> str:
    """Exit the process in the middle of a call."""
    sys.stdout.flush()
    os._exit(1)


@server.tool()
def spawn_sleeper() -> int:
    """Start a long `sleep` child of this server and return its process id."""
    return subprocess.Popen(["sleep", "300"]).pid


@server.tool()
def big(size: int) -> str:
    """Return `size` letters."""
    return "x" * size


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        server.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
