"""``python -m tests.integrations.mcp_server STORE PORT``: uno's MCP server over streamable HTTP on 127.0.0.1:PORT,
on a store with the fast hashing embedder (the server ``uno mcp --transport http`` runs, quick and deterministic)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.integrations.data import fast_memory
from uno.integrations.mcp import run_mcp_server


def main(store: str, port: str) -> None:
    with fast_memory(Path(store)) as memory:
        run_mcp_server(memory, transport="http", host="127.0.0.1", port=int(port))


if __name__ == "__main__":
    main(*sys.argv[1:])
