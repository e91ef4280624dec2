"""uno's MCP server, driven by the official SDK's own client.

Over stdio the client launches ``uno mcp`` itself (the real CLI, default embedder) and runs every operation on a
real store; over streamable HTTP it talks to a real server process on 127.0.0.1, stopped by PID.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.integrations.data import PLAN_QUERY, ROAST_QUERY, UNRELATED_QUERY, training_logs
from tests.integrations.serving import REPO, UNO, LiveServer
from uno.cli import main as uno_cli
from uno.inject import BLOCK_OPEN

TOOLS = {
    "augment",
    "search",
    "add_log",
    "add_exchange",
    "feedback",
    "list_logs",
    "get_log",
    "build",
    "list_rules",
    "get_rule",
    "add_rule",
    "edit_rule",
    "delete_rule",
    "retire_rule",
    "restore_rule",
    "pin_rule",
    "unpin_rule",
    "rule_history",
    "export",
    "import",
    "forget",
    "stats",
}
REFUND_RULE = "Link the refund policy page."


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool} failed: {result.content}"
    return result.structured_content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} should have been refused"
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


async def teach(client: Client) -> list[str]:
    """The training logs, each stored through ``add_log``; returns their ids."""
    ids = []
    for log in training_logs():
        added = await call(
            client, "add_log", query=log["query"], response=log["response"], user_id=log["user_id"],
            feedback=log["feedback"],
        )  # fmt: skip
        assert added["inserted"] is True
        ids.append(added["log_id"])
    return ids


async def every_operation(client: Client) -> None:
    """The whole list: add, build, augment, search, exchange + feedback, logs, rules managed by hand, export and
    import, forget, stats."""
    listed = await client.list_tools()
    assert {tool.name for tool in listed.tools} == TOOLS
    ids = await teach(client)
    report = await call(client, "build")
    assert report["distilled_logs"] == len(ids) and report["rules_by_status"].get("active", 0) >= 3

    augmented = await call(client, "augment", query=PLAN_QUERY, user_id="new-user")
    assert augmented["route"] == "primary"
    assert BLOCK_OPEN in augmented["messages"][0]["content"]
    assert [rule["aspect"] for rule in augmented["rules"]] == ["answer:yes_no"]
    assert (await call(client, "augment", query=UNRELATED_QUERY))["messages"] == [
        {"role": "user", "content": UNRELATED_QUERY}
    ]
    hits = (await call(client, "search", query="yes or no answers", k=3))["hits"]
    assert len(hits) == 3 and hits[0]["score"] >= hits[-1]["score"]
    assert all(hit["status"] == "active" and hit["source_log_ids"] for hit in hits)

    exchange = await call(
        client, "add_exchange", messages=[{"role": "user", "content": ROAST_QUERY}], response="Roast it.",
        user_id="u-mcp",
    )  # fmt: skip
    marked = await call(client, "feedback", log_id=exchange["log_id"], kind="reaction", value="dislike")
    assert marked == {"log_id": exchange["log_id"], "feedback_events": 1}
    rated = await call(client, "feedback", log_id=exchange["log_id"], kind="rating", value=2)
    assert rated["feedback_events"] == 2
    assert "no log 'nope'" in await refused(client, "feedback", log_id="nope", kind="followup", text="too long")
    assert "invalid feedback" in await refused(client, "feedback", log_id=exchange["log_id"], kind="rating", value=9)

    rule_id = augmented["rules"][0]["rule_id"]
    retired = await call(client, "retire_rule", rule_id=rule_id, reason="not for us")
    assert retired["status"] == "retired" and "not for us" in retired["status_reason"]
    assert (await call(client, "augment", query=PLAN_QUERY))["rules"] == []
    assert "no rule 'r-missing'" in await refused(client, "retire_rule", rule_id="r-missing")
    listed_rules = await call(client, "list_rules", status="retired")
    assert [rule["id"] for rule in listed_rules["rules"]] == [rule_id]
    assert (await call(client, "retire_rule", rule_id=rule_id))["status_reason"] == retired["status_reason"]

    await browse_logs(client, ids)
    await manage_rules(client, rule_id)
    await export_and_import(client)

    before = await call(client, "stats")
    forgotten = await call(client, "forget", user_id="u-mcp")
    assert forgotten["logs_deleted"] == 1
    after = await call(client, "stats")
    assert after["logs"] == before["logs"] - 1
    assert "forget everything" in await refused(client, "forget")


async def browse_logs(client: Client, ids: list[str]) -> None:
    """list_logs pages through the namespace's logs; get_log reads one; an unknown id is refused."""
    page = await call(client, "list_logs", limit=5)
    assert page["total"] == len(ids) + 1 and len(page["logs"]) == 5  # the training logs and the exchange
    rest = await call(client, "list_logs", limit=1000, offset=5)
    assert {log["id"] for log in page["logs"] + rest["logs"]} >= set(ids)
    mine = await call(client, "list_logs", user_id="u-mcp")
    assert mine["total"] == 1 and mine["logs"][0]["messages"][0]["content"] == ROAST_QUERY
    log = await call(client, "get_log", log_id=ids[0])
    assert log["id"] == ids[0] and log["messages"][0]["content"] == training_logs()[0]["query"]
    assert "no log 'nope'" in await refused(client, "get_log", log_id="nope")
    over = [{"kind": "followup", "text": "x" * 70_000}]  # over InputLimits.max_text_chars
    assert "the log is refused" in await refused(client, "add_log", query="q", response="a", feedback=over)
    assert "1000" in await refused(client, "list_logs", limit=1001)  # the REST API's page bound


async def manage_rules(client: Client, retired_id: str) -> None:
    """Restore, add, edit, pin, unpin, inspect and delete rules by hand; every change lands in the history."""
    restored = await call(client, "restore_rule", rule_id=retired_id)
    assert restored["status"] != "retired"

    added = await call(client, "add_rule", when="the user asks about refunds", do=REFUND_RULE, aspect="refunds")
    assert added["status"] == "active" and added["manual"] and added["pinned"]
    assert "already says this" in await refused(client, "add_rule", when="refunds", do=REFUND_RULE)
    assert "2000" in await refused(client, "add_rule", when="x" * 2001, do="Be brief.")  # REST's bound
    edited = await call(client, "edit_rule", rule_id=added["id"], do="Link the refund policy page and its deadline.")
    assert edited["id"] == added["id"] and edited["edited"] and edited["do"].endswith("its deadline.")
    assert "at least one" in await refused(client, "edit_rule", rule_id=added["id"])
    hits = (await call(client, "search", query=edited["do"], k=1))["hits"]
    assert [hit["id"] for hit in hits] == [added["id"]]
    unpinned = await call(client, "unpin_rule", rule_id=added["id"])
    assert unpinned["pinned"] is False and unpinned["status"] == "active"  # a rule added by hand stays active

    pinned = await call(client, "pin_rule", rule_id=retired_id)
    assert pinned["pinned"] is True and pinned["status"] == "active"
    detail = await call(client, "get_rule", rule_id=retired_id)
    assert detail["sources"] and {source["log_id"] for source in detail["sources"]} == set(detail["source_log_ids"])
    assert all(source["query"] for source in detail["sources"]) and detail["evidence"]
    learnt = (await call(client, "rule_history", rule_id=retired_id))["changes"]
    by_hand = [change["action"] for change in learnt if change["actor"] == "mcp"]
    assert by_hand == ["retired", "restored", "pinned"]  # the gate's own changes in between are recorded too

    history = (await call(client, "rule_history", rule_id=added["id"]))["changes"]
    assert [change["action"] for change in history] == ["created", "edited", "unpinned"]
    assert {change["actor"] for change in history} == {"mcp"}
    deleted = await call(client, "delete_rule", rule_id=added["id"], reason="covered by the FAQ")
    assert deleted["id"] == added["id"]
    assert added["id"] not in [hit["id"] for hit in (await call(client, "search", query=edited["do"], k=5))["hits"]]
    assert f"no rule {added['id']!r}" in await refused(client, "get_rule", rule_id=added["id"])
    tombstone = (await call(client, "rule_history", rule_id=added["id"]))["changes"]
    assert [change["action"] for change in tombstone] == ["deleted"]
    for tool in ("edit_rule", "delete_rule", "restore_rule", "pin_rule", "unpin_rule", "rule_history", "get_rule"):
        arguments = {"do": "Be brief."} if tool == "edit_rule" else {}
        assert "no rule 'r-missing'" in await refused(client, tool, rule_id="r-missing", **arguments)


async def export_and_import(client: Client) -> None:
    """Export a page at a time; delete a rule; importing the export brings it back, and the logs are not doubled."""
    whole = await call(client, "export", limit=1000)
    assert whole["next_offset"] is None
    records, offset = [], 0
    while offset is not None:
        page = await call(client, "export", limit=7, offset=offset)
        records += page["records"]
        offset = page["next_offset"]
    assert records == whole["records"]
    kinds = [record["type"] for record in records]
    stats = await call(client, "stats")
    assert kinds.count("log") == stats["logs"] and {"rule", "rule_change"} <= set(kinds)

    rule_id = next(record["record"]["id"] for record in records if record["type"] == "rule")
    await call(client, "delete_rule", rule_id=rule_id)
    report = await call(client, "import", records=records)
    assert report["logs"] == 0 and report["duplicate_logs"] == stats["logs"]
    assert report["rules"] == kinds.count("rule")
    assert (await call(client, "get_rule", rule_id=rule_id))["id"] == rule_id
    bad = [{"type": "rule", "record": {"when": "", "do": ""}}]
    assert "the import is invalid" in await refused(client, "import", records=bad)
    assert "records.0.type" in await refused(client, "import", records=[{"type": "backup", "record": {}}])


def test_uno_mcp_over_stdio_runs_every_operation(tmp_path: Path) -> None:
    server = StdioServerParameters(
        command=str(UNO),
        args=["--store", str(tmp_path / "store"), "--namespace", "acme", "mcp"],
        env=dict(os.environ),
        cwd=str(REPO),
    )

    async def run() -> None:
        async with Client(server, read_timeout_seconds=180) as client:
            await every_operation(client)

    asyncio.run(run())
    # Everything happened inside the namespace the server was started for.
    result = CliRunner().invoke(uno_cli, ["--store", str(tmp_path / "store"), "--namespace", "acme", "stats", "--json"])
    assert result.exit_code == 0 and '"logs": 15' in result.output


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The MCP server over streamable HTTP in its own process on 127.0.0.1; ready once the port accepts."""
    command = [sys.executable, "-m", "tests.integrations.mcp_server", str(tmp_path / "store"), "{port}"]
    server = LiveServer(command, {}, tmp_path / "mcp.log", tmp_path / "store", health_path=None)
    try:
        server.wait_ready(timeout_s=60.0)
        yield server
    finally:
        server.stop()


def test_streamable_http_runs_every_operation(http_server: LiveServer) -> None:
    async def run() -> None:
        async with Client(f"{http_server.base_url}/mcp", read_timeout_seconds=60) as client:
            await every_operation(client)

    asyncio.run(run())


def test_mcp_tools_take_the_rest_api_limits() -> None:
    from uno.integrations import mcp as tools
    from uno.server import schemas

    for name in ("MAX_QUERY_CHARS", "MAX_ID_CHARS", "MAX_MESSAGES", "MAX_IDS", "MAX_REASON_CHARS"):
        assert getattr(tools, name) == getattr(schemas, name), name
    assert (tools.MAX_RULE_TEXT_CHARS, tools.MAX_IMPORT_RECORDS) == (
        schemas.MAX_RULE_TEXT_CHARS,
        schemas.MAX_IMPORT_RECORDS,
    )
    assert tools.ExportRecord.model_json_schema()["properties"] == schemas.ExportLine.model_json_schema()["properties"]


def test_uno_mcp_without_the_extra_names_the_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)  # what an environment without the [mcp] extra looks like

    result = CliRunner().invoke(uno_cli, ["--store", str(tmp_path), "mcp"])

    assert result.exit_code == 2
    assert "uno mcp needs the [mcp] extra" in result.output
    assert "pip install 'uno-memory[mcp]'" in result.output
