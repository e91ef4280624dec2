"""Managing memory by hand through ``uno`` (click's runner, a real store, the packaged MiniLM embedder): the whole
list of operations, and one-line errors with a non-zero exit for what a user gets wrong."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.integrations.data import PLAN_QUERY, ROAST_QUERY, training_logs
from uno.cli import main

PASTA_WHEN = "someone asks how long to boil pasta"
PASTA_QUERY = "How long should I boil pasta for?"


def uno(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def ok(*args: str | Path) -> str:
    """What a command that succeeded printed on standard output (progress bars go to standard error)."""
    result = uno(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(*args: str | Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(ok(*args, "--json"))
    return loaded


def failed(*args: str | Path, code: int = 2, env: dict[str, str] | None = None) -> str:
    """The one line a failed command prints: no traceback, the given exit code."""
    result = uno(*args, env=env)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("Error:", "error:"))]
    assert lines, result.output
    return lines[-1]


@pytest.fixture(scope="module")
def logs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "logs.jsonl"
    path.write_text("".join(json.dumps(log) + "\n" for log in training_logs()), encoding="utf-8")
    return path


def test_the_whole_list_through_the_cli(tmp_path: Path, logs_file: Path) -> None:
    store = tmp_path / "store"
    ok("--store", store, "ingest", logs_file)
    ok("--store", store, "build")
    listed = [json.loads(line) for line in ok("--store", store, "rules", "list", "--json").splitlines()]
    assert {r["aspect"] for r in listed} == {"length:short", "answer:yes_no", "format:lists"}
    short = next(r for r in listed if r["aspect"] == "length:short")

    added = as_json("--store", store, "rules", "add", "--when", PASTA_WHEN, "--do", "Give the time in minutes first.")
    assert (added["manual"], added["pinned"], added["status"]) == (True, True, "active")
    assert "Give the time in minutes first." in ok("--store", store, "augment", PASTA_QUERY)
    assert "already says this" in failed("--store", store, "rules", "add", "--when", "x", "--do", str(added["do"]))
    ok("--store", store, "build", "--full")
    assert as_json("--store", store, "rules", "get", str(added["id"]))["status"] == "active"

    rule = str(short["id"])
    assert as_json("--store", store, "rules", "edit", rule, "--do", "Answer in three sentences.")["edited"] is True
    assert as_json("--store", store, "rules", "retire", rule, "--reason", "too strict")["status"] == "retired"
    assert "Answer in three sentences." not in ok("--store", store, "augment", ROAST_QUERY)
    assert as_json("--store", store, "rules", "restore", rule)["status"] == "active"
    assert as_json("--store", store, "rules", "pin", rule, "--by", "alice")["pinned"] is True
    assert as_json("--store", store, "rules", "unpin", rule, "--by", "alice")["pinned"] is False
    history = [json.loads(line) for line in ok("--store", store, "rules", "history", rule, "--json").splitlines()]
    assert [c["action"] for c in history if c["actor"] in {"alice"} or c["actor"].startswith("cli")] == [
        "edited",
        "retired",
        "restored",
        "pinned",
        "unpinned",
    ]
    assert "edited" in ok("--store", store, "rules", "history", rule)

    hits = [
        json.loads(line)
        for line in ok("--store", store, "search", "-k", "2", "three sentences", "--json").split("\n")
        if line
    ]
    assert len(hits) == 2 and hits[0]["rule"]["id"] == rule
    ok("--store", store, "rules", "delete", rule, "--reason", "wrong")
    assert "no rule" in failed("--store", store, "rules", "get", rule, code=1)
    assert rule not in ok("--store", store, "search", "three sentences")
    assert "Answer in three sentences." not in ok("--store", store, "augment", ROAST_QUERY)
    assert [
        c["action"] for c in map(json.loads, ok("--store", store, "rules", "history", rule, "--json").splitlines())
    ] == ["deleted"]

    page = [json.loads(line) for line in ok("--store", store, "logs", "list", "--limit", "3", "--json").splitlines()]
    assert len(page) == 3
    assert "2 feedback event(s)" in ok("--store", store, "feedback", page[0]["id"], "--rating", "2")
    assert json.loads(ok("--store", store, "logs", "get", page[0]["id"], "--json"))["feedback"][-1]["value"] == 2
    assert "outside its scale" in failed("--store", store, "feedback", page[0]["id"], "--rating", "9")
    assert "exactly one" in failed("--store", store, "feedback", page[0]["id"])
    assert json.loads(ok("--store", store, "logs", "get", page[0]["id"], "--json"))["id"] == page[0]["id"]
    assert "more (--offset 3)" in ok("--store", store, "logs", "list", "--limit", "3")

    exported = tmp_path / "export.jsonl"
    ok("--store", store, "export", "all", "--out", exported)
    copy = tmp_path / "copy"
    ok("--store", copy, "import", exported)
    assert ok("--store", copy, "rules", "list") == ok("--store", store, "rules", "list")
    assert "Give the time in minutes first." in ok("--store", copy, "augment", PASTA_QUERY)

    backup = tmp_path / "backup.sqlite"
    ok("--store", store, "backup", backup)
    assert "forgot 1 log(s)" in ok("--store", store, "forget", "--user-id", "sub0")
    assert json.loads(ok("--store", store, "stats", "--json"))["logs"] == len(training_logs()) - 1
    ok("--store", store, "restore", backup, "--yes")
    assert json.loads(ok("--store", store, "stats", "--json"))["logs"] == len(training_logs())
    assert "yes or no" in ok("--store", store, "augment", PLAN_QUERY).lower()


def test_clear_one_line_errors(tmp_path: Path, logs_file: Path) -> None:
    store = tmp_path / "store"
    assert "query is empty" in failed("--store", store, "augment", "  ")
    assert "query is empty" in failed("--store", store, "search", "")
    junk = tmp_path / "junk.jsonl"
    junk.write_text('not json\n{"query": "only a question"}\n', encoding="utf-8")
    assert "every record of" in failed("--store", store, "ingest", junk)
    assert "http(s) URL" in failed("--store", store, "build", "--llm", "openai/x", "--llm-base", "localhost:11434")
    assert "needs --llm" in failed("--store", store, "build", "--llm-base", "http://127.0.0.1:1")

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "uno.sqlite").write_bytes(b"this is not a database, just bytes" * 200)
    message = failed("--store", damaged, "stats")
    assert "damaged or not an uno store" in message and "uno restore" in message
    assert "damaged or not an uno store" in failed("--store", damaged, "rules", "list")

    ok("--store", store, "ingest", logs_file)
    holder = sqlite3.connect(store / "uno.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        message = failed("--store", store, "stats", env={"UNO_BUSY_TIMEOUT_S": "0.2"})
        assert "locked by another process" in message
        assert "locked by another process" in failed(
            "--store", store, "rules", "retire", "rule-x", env={"UNO_BUSY_TIMEOUT_S": "0.2"}
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "no such rule" in failed("--store", store, "rules", "pin", "rule-missing", code=1)
    assert "--user-id" in failed("--store", store, "forget")
    bad_import = tmp_path / "bad.jsonl"
    bad_import.write_text('{"type": "rule", "record": {}}\nnot json\n', encoding="utf-8")
    assert "line 2: not JSON" in failed("--store", store, "import", bad_import)
    bad_import.write_text('\n{"type": "log", "record": {"query": "q"}}\n', encoding="utf-8")
    assert "line 2: invalid log" in failed("--store", store, "import", bad_import)


def test_restore_repairs_a_damaged_store(tmp_path: Path, logs_file: Path) -> None:
    store = tmp_path / "store"
    ok("--store", store, "ingest", logs_file)
    backup = tmp_path / "backup.sqlite"
    ok("--store", store, "backup", backup)
    (store / "uno.sqlite").write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (store / f"uno.sqlite{suffix}").unlink(missing_ok=True)
    result = uno("--store", store, "restore", backup, "--yes")
    assert result.exit_code == 0, result.output
    assert "moved it aside" in result.output
    assert json.loads(ok("--store", store, "stats", "--json"))["logs"] == len(training_logs())


def test_build_distils_with_the_llm_named_by_the_environment(
    tmp_path: Path, logs_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.llm.scripts import log_payload, reader
    from tests.llm.server import ScriptedServer

    store = tmp_path / "store"
    ok("--store", store, "ingest", logs_file)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with ScriptedServer(reader) as server:
        result = uno("--store", store, "build", "--llm-base", server.base_url, env={"UNO_LLM_MODEL": "openai/scripted"})
        assert result.exit_code == 0, result.output
        distilled = [body for body in server.requests if log_payload(body) is not None]
    assert len(distilled) == len(training_logs())  # one distillation call per log with feedback
    assert json.loads(result.stdout)["distilled_logs"] == len(training_logs())
    assert (store / "llm.sqlite").is_file()
