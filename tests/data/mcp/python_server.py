"""A small MCP server on the official Python SDK (PyPI `mcp`), for hearth-tools' tests.

Usage: python_server.py stdio
       python_server.py http PORT     (Streamable HTTP on 127.0.0.1:PORT/mcp)

With MCP_CALL_LOG set, every call is appended to that file as one line: the tool's
name, a space, and its arguments as JSON. Tests read it to see which calls really ran.

With MCP_TIMING_LOG set, every call that returns (or raises) appends one line to that
file: the tool's name, a space, and how long the tool's own function took, in
microseconds as a decimal. hearth-tools' tool_call benchmark subtracts it from the round
trip.
"""

import asyncio
import functools
import inspect
import json
import os
import subprocess
import sys
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("hearth-test-server")


def logged(fn):
    """Appends the call to MCP_CALL_LOG (if set) before running it, and its duration to
    MCP_TIMING_LOG (if set) after."""

    def write(kwargs):
        path = os.environ.get("MCP_CALL_LOG")
        if path:
            with open(path, "a", encoding="utf-8") as log:
                log.write(f"{fn.__name__} {json.dumps(kwargs, sort_keys=True, ensure_ascii=False)}\n")

    def timed(started):
        path = os.environ.get("MCP_TIMING_LOG")
        if path:
            micros = (time.perf_counter_ns() - started) / 1000
            with open(path, "a", encoding="utf-8") as log:
                log.write(f"{fn.__name__} {micros:.3f}\n")

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(**kwargs):
            write(kwargs)
            started = time.perf_counter_ns()
            try:
                return await fn(**kwargs)
            finally:
                timed(started)

        return run_async

    @functools.wraps(fn)
    def run(**kwargs):
        write(kwargs)
        started = time.perf_counter_ns()
        try:
            return fn(**kwargs)
        finally:
            timed(started)

    return run


@server.tool()
@logged
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
@logged
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
@logged
def env(name: str) -> str:
    """Return an environment variable's value, or <unset>."""
    return os.environ.get(name, "<unset>")


@server.tool()
@logged
async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "done"


@server.tool()
@logged
def crash() -> str:
    """Exit the process in the middle of a call."""
    sys.stdout.flush()
    os._exit(1)


@server.tool()
@logged
def spawn_sleeper() -> int:
    """Start a long `sleep` child of this server and return its process id."""
    return subprocess.Popen(["sleep", "300"]).pid


@server.tool()
@logged
def big(size: int) -> str:
    """Return `size` letters."""
    return "x" * size


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        server.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
