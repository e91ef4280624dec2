"""The ``uno`` command line, through click's runner and once as a real process."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rule_store.records import Evidence, FeedbackKind, LogRecord, PreferencePair, Rule, RuleStatus
from rule_store.sqlite import SQLiteRuleStore
from uno.cli import main
from uno.paths import StorePaths

FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNO = Path(sys.executable).with_name("uno")


def uno(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def filled(store_dir: Path) -> Path:
    """A store holding the plain and OpenAI fixtures."""
    result = uno("--store", store_dir, "ingest", FIXTURES / "plain.jsonl", FIXTURES / "openai.jsonl")
    assert result.exit_code == 0, result.output
    return store_dir


def open_store(store_dir: Path) -> SQLiteRuleStore:
    return SQLiteRuleStore(StorePaths.resolve(store_dir).database)


# ----------------------------------------------------------------------------------------------------- help


def test_help_shows_commands_and_examples() -> None:
    result = uno("--help")
    assert result.exit_code == 0
    for text in ("ingest", "stats", "inspect", "export", "Examples:", "uno ingest logs.jsonl", "--store", "UNO_STORE"):
        assert text in result.output
    for command in (["ingest"], ["stats"], ["inspect"], ["inspect", "rule"], ["export"]):
        sub = uno(*command, "--help")
        assert sub.exit_code == 0, command
        assert "Usage: " in sub.output
    assert "Examples:" in uno("ingest", "--help").output


def test_help_does_not_import_heavy_libraries() -> None:
    script = (
        "import sys\n"
        "from uno.cli import main\n"
        "for args in (['--help'], ['ingest', '--help'], ['inspect', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'faiss', 'sklearn')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


# ----------------------------------------------------------------------------------------------------- ingest, stats


def test_ingest_prints_reports_and_stats_counts(filled: Path) -> None:
    stats = uno("--store", filled, "stats", "--json")
    assert stats.exit_code == 0
    counts = json.loads(stats.output)
    assert (counts["logs"], counts["quarantine"]) == (8, 0)
    table = uno("--store", filled, "stats")
    assert "logs" in table.output and " 8\n" in table.output


def test_ingest_output(store_dir: Path) -> None:
    result = uno("--store", store_dir, "ingest", FIXTURES / "plain.jsonl", FIXTURES / "openai.jsonl")
    lines = result.output.splitlines()
    assert "plain.jsonl (plain): 6 lines, 5 inserted, 0 duplicates, 0 quarantined, 1 blank skipped" in lines[0]
    assert "openai.jsonl (openai): 3 lines, 3 inserted" in lines[1]
    assert lines[2] == "total: 2 files, 8 inserted, 0 duplicates, 0 quarantined"
    again = uno("--store", store_dir, "ingest", "--json", FIXTURES / "plain.jsonl")
    (report,) = json.loads(again.output)
    assert (report["inserted"], report["duplicates"]) == (0, 5)


def test_quarantined_lines_are_listed_and_exit_code_stays_zero(store_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "some-bad.jsonl"
    path.write_text(
        '{"query": "q1", "response": "r1"}\n{"query": "q2"}\n{oops\n'
        '{"query": "q3", "response": "r3", "feedback": [{"kind": "rating", "value": 7}]}\n'
    )
    result = uno("--store", store_dir, "ingest", path, "--show-errors", "2")
    assert result.exit_code == 0
    assert "1 inserted, 0 duplicates, 3 quarantined" in result.output
    assert "  line 2: missing field `response`" in result.output
    assert "  line 3: invalid JSON at column 2: Expecting property name enclosed in double quotes" in result.output
    assert "rating 7 is outside" not in result.output
    assert f"... 1 more: uno inspect quarantine --source {path}" in result.output


def test_missing_file_exits_2_and_imports_nothing(store_dir: Path, tmp_path: Path) -> None:
    result = uno("--store", store_dir, "ingest", FIXTURES / "plain.jsonl", tmp_path / "nope.jsonl")
    assert result.exit_code == 2
    assert "nope.jsonl: no such file; nothing was imported" in result.stderr
    assert not StorePaths.resolve(store_dir).database.exists()


def test_unreadable_file_exits_2_after_importing_the_others(store_dir: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.jsonl.gz"
    corrupt.write_bytes(b"not gzip at all")
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"prompt": "p", "completion": "c"}\n')
    result = uno("--store", store_dir, "ingest", corrupt, odd, FIXTURES / "openai.jsonl")
    assert result.exit_code == 2
    assert "error: " in result.stderr and "corrupt.jsonl.gz" in result.stderr
    assert "odd.jsonl: line 1: cannot tell the format" in result.stderr
    assert "3 inserted" in result.stdout
    with open_store(store_dir) as store:
        assert store.count_logs() == 3


def test_format_option_and_user_id(store_dir: Path) -> None:
    result = uno(
        "--store", store_dir, "ingest", "--format", "memorybench", "--user-id", "u7", FIXTURES / "memorybench_hub.json"
    )
    assert result.exit_code == 0
    assert "(memorybench): 2 lines, 2 inserted" in result.output
    with open_store(store_dir) as store:
        assert {log.user_id for log in store.iter_logs()} == {"u7"}
    bad = uno("--store", store_dir, "ingest", "--format", "csv", FIXTURES / "plain.jsonl")
    assert bad.exit_code == 2


def test_read_commands_refuse_a_missing_store(tmp_path: Path) -> None:
    for command in (["stats"], ["inspect", "rules"], ["export", "logs"]):
        result = uno("--store", tmp_path / "nowhere", *command)
        assert result.exit_code == 2, command
        assert "no uno store at" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_store_from_environment(tmp_path: Path) -> None:
    env_store = tmp_path / "from-env"
    result = uno("ingest", FIXTURES / "openai.jsonl", env={"UNO_STORE": str(env_store)})
    assert result.exit_code == 0
    assert StorePaths.resolve(env_store).database.exists()


def test_namespace_scopes_every_command(store_dir: Path) -> None:
    assert uno("--store", store_dir, "--namespace", "acme", "ingest", FIXTURES / "openai.jsonl").exit_code == 0
    acme = json.loads(uno("--store", store_dir, "--namespace", "acme", "stats", "--json").output)
    other = json.loads(uno("--store", store_dir, "--namespace", "other", "stats", "--json").output)
    assert (acme["logs"], other["logs"]) == (3, 0)
    assert uno("--store", store_dir, "--namespace", "other", "inspect", "log", "chat-1").exit_code == 1
    assert uno("--store", store_dir, "--namespace", "acme", "inspect", "log", "chat-1").exit_code == 0


# ----------------------------------------------------------------------------------------------------- inspect


def test_inspect_log(filled: Path) -> None:
    shown = uno("--store", filled, "inspect", "log", "plain-1")
    assert shown.exit_code == 0
    assert "log plain-1" in shown.output
    assert "[1] user: How long should I boil an egg?" in shown.output
    assert "on turn 2: followup 'I wanted a soft-boiled egg, that is far too long.'" in shown.output
    assert "on turn 2: reaction dislike" in shown.output
    as_json = uno("--store", filled, "inspect", "log", "plain-1", "--json")
    assert LogRecord.model_validate_json(as_json.output).id == "plain-1"
    missing = uno("--store", filled, "inspect", "log", "no-such-log")
    assert missing.exit_code == 1
    assert "no log 'no-such-log'" in missing.stderr


def test_inspect_rule_shows_its_provenance(filled: Path) -> None:
    rule = Rule(
        when="the user asks about cooking times",
        do="state the time for soft and hard results",
        aspect="completeness",
        support=2,
        confidence=0.8,
        evidence=[
            Evidence(log_id="plain-1", kind=FeedbackKind.FOLLOWUP, quote="I wanted a soft-boiled egg"),
            Evidence(log_id="chat-1", kind=FeedbackKind.REACTION, weight=0.5),
        ],
    )
    with open_store(filled) as store:
        store.upsert_rules([rule, Rule(when="always", do="be brief", status=RuleStatus.ACTIVE)])
    shown = uno("--store", filled, "inspect", "rule", rule.id)
    assert shown.exit_code == 0
    assert "When the user asks about cooking times: state the time for soft and hard results" in shown.output
    assert "followup in plain-1 (weight 1.00): 'I wanted a soft-boiled egg'" in shown.output
    assert "derived from 2 log(s): chat-1, plain-1" in shown.output
    as_json = json.loads(uno("--store", filled, "inspect", "rule", rule.id, "--json").output)
    assert as_json["source_log_ids"] == ["chat-1", "plain-1"]
    assert uno("--store", filled, "inspect", "rule", "rule-missing").exit_code == 1

    listed = uno("--store", filled, "inspect", "rules", "--status", "candidate").output
    assert rule.id in listed and "be brief" not in listed
    assert "be brief" in uno("--store", filled, "inspect", "rules").output
    assert uno("--store", filled, "inspect", "rules", "--status", "retired").output.strip() == "no rules"


def test_inspect_quarantine_by_relative_source(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.jsonl").write_text('{"query": "q"}\n{"query": "q", "response": "r"}\n[1]\n')
    Path("other.jsonl").write_text("{nope\n")
    uno("--store", store_dir, "ingest", "bad.jsonl", "other.jsonl")
    listed = uno("--store", store_dir, "inspect", "quarantine", "--source", "bad.jsonl").output.splitlines()
    source = str((tmp_path / "bad.jsonl").resolve())
    assert listed == [
        f"{source}:1  missing field `response`",
        f"{source}:3  expected a JSON object, got array",
    ]
    assert len(uno("--store", store_dir, "inspect", "quarantine").output.splitlines()) == 3
    limited = uno("--store", store_dir, "inspect", "quarantine", "--limit", "1").output
    assert "... 2 more" in limited
    assert "nothing quarantined" in uno("--store", store_dir, "inspect", "quarantine", "--source", "x.jsonl").output


# ----------------------------------------------------------------------------------------------------- export


def test_exported_logs_ingest_back_identically(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "logs.jsonl"
    result = uno("--store", filled, "export", "logs", "--out", out)
    assert result.exit_code == 0
    assert f"wrote 8 logs to {out}" in result.stderr
    copy_dir = tmp_path / "copy"
    assert uno("--store", copy_dir, "ingest", out).exit_code == 0
    with open_store(filled) as original, open_store(copy_dir) as copy:
        assert list(copy.iter_logs()) == list(original.iter_logs())


def test_export_rules_quarantine_and_pairs_to_stdout(filled: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "q"}\n')
    uno("--store", filled, "ingest", bad)
    with open_store(filled) as store:
        store.upsert_rules([Rule(when="always", do="be brief")])
        store.upsert_preference_pairs(
            [
                PreferencePair(
                    prompt=[{"role": "user", "content": "q"}], chosen="good", rejected="bad", source_log_id="plain-1"
                )
            ]
        )
    for kind, expected in (("rules", "be brief"), ("quarantine", "missing field `response`"), ("pairs", "good")):
        result = uno("--store", filled, "export", kind)
        assert result.exit_code == 0
        (line,) = result.output.splitlines()
        assert expected in json.dumps(json.loads(line))
    gz_out = tmp_path / "pairs.jsonl.gz"
    assert uno("--store", filled, "export", "pairs", "--out", gz_out).exit_code == 0
    assert not gz_out.with_name(gz_out.name + ".partial").exists()


# ----------------------------------------------------------------------------------------------------- real process


@pytest.mark.slow
def test_real_process_ingest_and_stats(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    packed = tmp_path / "plain.jsonl.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "plain.jsonl").read_bytes()))
    ingest = subprocess.run(
        [str(UNO), "--store", str(store_dir), "ingest", str(packed), str(FIXTURES / "memorybench_generated.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stderr
    assert "plain.jsonl.gz (plain): 6 lines, 5 inserted" in ingest.stdout
    assert (
        "memorybench_generated.jsonl (memorybench): 3 lines, 2 inserted, 0 duplicates, 1 quarantined" in ingest.stdout
    )
    assert ingest.stderr == ""
    stats = subprocess.run(
        [str(UNO), "--store", str(store_dir), "stats", "--json"], capture_output=True, text=True, timeout=60, check=True
    )
    counts = json.loads(stats.stdout)
    assert (counts["logs"], counts["quarantine"]) == (7, 1)
    missing = subprocess.run(
        [str(UNO), "--store", str(store_dir), "ingest", str(tmp_path / "missing.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2
    assert "missing.jsonl: no such file" in missing.stderr


@pytest.mark.slow
def test_build_then_augment_from_the_command_line(tmp_path: Path) -> None:
    import json as _json

    from click.testing import CliRunner

    from uno.cli import main
    from uno.demo import sample_logs_path

    store = str(tmp_path / "store")
    runner = CliRunner()
    assert runner.invoke(main, ["--store", store, "ingest", "--no-progress", str(sample_logs_path())]).exit_code == 0
    built = runner.invoke(main, ["--store", store, "build", "--json"])
    assert built.exit_code == 0, built.output
    assert _json.loads(built.stdout.strip().splitlines()[-1])["distilled_logs"] == 200
    topical = runner.invoke(main, ["--store", store, "augment", "--json", "How do I water orchids?"])
    assert topical.exit_code == 0 and _json.loads(topical.stdout)["rules"]
    unrelated = runner.invoke(main, ["--store", store, "augment", "Explain how castling works in chess."])
    assert unrelated.exit_code == 0 and "route: none" in unrelated.output
    missing = runner.invoke(main, ["--store", str(tmp_path / "nowhere"), "build"])
    assert missing.exit_code == 2 and "no uno store" in missing.output
