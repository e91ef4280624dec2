"""ingest_file / ingest_records against a real SQLite store: what lands, what is quarantined, what is idempotent."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from rule_store.protocol import Scope
from rule_store.records import LogRecord, ReactionFeedback
from rule_store.sqlite import SQLiteRuleStore
from tests.ingest.helpers import FIXTURES, write_plain_logs
from uno.ingest import FormatDetectionError, IngestReport, SourceError, ingest_file, ingest_records, pipeline
from uno.ingest.pipeline import MAX_RAW_BYTES, MAX_REPORTED_ERRORS, truncate_raw


@pytest.mark.parametrize(
    ("name", "fmt", "inserted", "quarantined", "skipped"),
    [
        ("plain.jsonl", "plain", 5, 0, 1),
        ("openai.jsonl", "openai", 3, 0, 0),
        ("memorybench_hub.json", "memorybench", 2, 0, 0),
        ("memorybench_generated.jsonl", "memorybench", 2, 1, 0),
    ],
)
def test_fixture_files_are_detected_and_ingested(
    store: SQLiteRuleStore, name: str, fmt: str, inserted: int, quarantined: int, skipped: int
) -> None:
    report = ingest_file(FIXTURES / name, store, progress=False)
    assert (report.format, report.inserted, report.quarantined, report.skipped) == (
        fmt,
        inserted,
        quarantined,
        skipped,
    )
    assert store.count_logs() == inserted
    assert len(store.list_quarantine()) == quarantined


def test_memorybench_hub_rows_keep_implicit_feedback_and_metadata(store: SQLiteRuleStore) -> None:
    ingest_file(FIXTURES / "memorybench_hub.json", store, progress=False)
    nfcats, lexeval = store.get_logs(["NFCats_0", "LexEval-Summarization_7"])
    assert [m.role for m in nfcats.messages] == ["user", "assistant", "user", "assistant"]
    assert nfcats.feedback == [
        ReactionFeedback(value="dislike", implicit=True, turn=1),
        ReactionFeedback(value="like", terminated=True, implicit=True, turn=3),
    ]
    assert nfcats.metadata["info"] == {"golden_answer": "An open-ended question.", "category": "DEBATE"}
    assert (nfcats.metadata["lang"], nfcats.metadata["test_idx"]) == ("en", 0)
    assert lexeval.system_prompt == "You are a legal assistant."
    assert lexeval.feedback == [ReactionFeedback(value="copy", terminated=True, implicit=True, turn=2)]
    assert lexeval.metadata["info"] == {"golden_answer": "被告违约。"}


def test_memorybench_zero_based_file_and_unusable_row(store: SQLiteRuleStore) -> None:
    report = ingest_file(FIXTURES / "memorybench_generated.jsonl", store, progress=False)
    (poem,) = store.get_logs(["WritingPrompts_3"])
    assert [(f.turn, f.value, f.terminated) for f in poem.feedback if isinstance(f, ReactionFeedback)] == [
        (1, "dislike", False),
        (3, "none", False),
        (5, "like", True),
    ]
    assert report.errors == [(3, "`dialog`: is empty and the input has no assistant answer: no response to learn from")]


def test_gzip_reads_like_the_plain_file(store: SQLiteRuleStore, tmp_path: Path) -> None:
    packed = tmp_path / "openai.jsonl.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "openai.jsonl").read_bytes()))
    report = ingest_file(packed, store, progress=False)
    assert (report.format, report.inserted) == ("openai", 3)
    again = ingest_file(FIXTURES / "openai.jsonl", store, progress=False)
    assert (again.inserted, again.duplicates) == (0, 3)


def test_ten_thousand_lines_with_five_percent_malformed(store: SQLiteRuleStore, tmp_path: Path) -> None:
    generated = write_plain_logs(tmp_path / "logs.jsonl", 10_000)
    assert len(generated.bad) >= 450 and generated.blank

    report = ingest_file(generated.path, store, progress=False)

    assert report.format == "plain"
    assert report.lines == 10_000
    assert (report.inserted, report.duplicates) == (len(generated.valid), 0)
    assert (report.quarantined, report.skipped) == (len(generated.bad), len(generated.blank))
    stored = {log.query: log for log in store.iter_logs()}
    assert len(stored) == len(generated.valid)
    for expected in generated.valid.values():
        assert expected.matches(stored[expected.query])
    quarantine = {q.line: q for q in store.list_quarantine(source=str(generated.path.resolve()))}
    assert set(quarantine) == set(generated.bad)
    for line, fragment in generated.bad.items():
        assert fragment in quarantine[line].reason, (line, quarantine[line].reason)
        assert quarantine[line].raw
    assert len(report.errors) == MAX_REPORTED_ERRORS
    assert report.errors[0] == (20, quarantine[20].reason)

    again = ingest_file(generated.path, store, progress=False)
    assert (again.inserted, again.duplicates, again.quarantined) == (0, len(generated.valid), len(generated.bad))
    assert store.count_logs() == len(generated.valid)
    assert len(store.list_quarantine()) == len(generated.bad)


def test_format_is_found_past_bad_lines_and_undetectable_files_touch_nothing(
    store: SQLiteRuleStore, tmp_path: Path
) -> None:
    path = tmp_path / "late.jsonl"
    path.write_text(
        'not json\n["array"]\n{"messages": [{"role": "user", "content": "q"}, '
        + '{"role": "assistant", "content": "a"}]}\n'
    )
    report = ingest_file(path, store, progress=False)
    assert (report.format, report.inserted, report.quarantined) == ("openai", 1, 2)

    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"prompt": "p", "completion": "c"}\n')
    with pytest.raises(FormatDetectionError, match=r"odd.jsonl: line 1: .*keys \(completion, prompt\)"):
        ingest_file(odd, store, progress=False)
    assert store.count_logs() == 1


def test_records_after_a_long_garbage_prefix_are_detected_one_by_one(
    store: SQLiteRuleStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "DETECTION_WINDOW", 2)
    path = tmp_path / "late.jsonl"
    path.write_text('garbage\n[1]\n{"query": "q", "response": "r"}\n{"prompt": "p"}\n')
    report = ingest_file(path, store, progress=False)
    assert (report.format, report.inserted, report.quarantined) == (None, 1, 3)
    assert "cannot tell the format from the record's keys (prompt)" in report.errors[2][1]


def test_named_format_overrides_detection(store: SQLiteRuleStore) -> None:
    report = ingest_file(FIXTURES / "openai.jsonl", store, format="plain", progress=False)
    assert (report.format, report.inserted, report.quarantined) == ("plain", 0, 3)
    assert all("missing field `query`" in reason for _line, reason in report.errors)
    with pytest.raises(ValueError, match="unknown format 'csv': expected one of plain, openai, memorybench"):
        ingest_file(FIXTURES / "openai.jsonl", store, format="csv", progress=False)


def test_json_documents_and_layout_fallbacks(store: SQLiteRuleStore, tmp_path: Path) -> None:
    records = [json.loads(line) for line in (FIXTURES / "plain.jsonl").read_text().splitlines() if line.strip()]
    container = tmp_path / "container.json"
    container.write_text(json.dumps({"records": [*records, {"query": "only a query"}]}))
    report = ingest_file(container, store, progress=False)
    assert (report.inserted, report.quarantined, report.errors) == (5, 1, [(6, "missing field `response`")])

    lines_named_json = tmp_path / "actually-lines.json"
    shutil.copy(FIXTURES / "openai.jsonl", lines_named_json)
    assert ingest_file(lines_named_json, store, progress=False).inserted == 3

    broken = tmp_path / "broken.json"
    broken.write_text('[{"query": "q", "response": "r"},\n {"query": ')
    with pytest.raises(SourceError, match=r"broken.json: invalid JSON at line 2 column 12"):
        ingest_file(broken, store, progress=False)


def test_unreadable_files_raise_source_error(store: SQLiteRuleStore, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        ingest_file(tmp_path / "missing.jsonl", store, progress=False)
    with pytest.raises(SourceError, match="is a directory"):
        ingest_file(tmp_path, store, progress=False)
    corrupt = tmp_path / "corrupt.jsonl.gz"
    corrupt.write_bytes(b"this is not gzip data")
    with pytest.raises(SourceError, match=r"corrupt\.jsonl\.gz: cannot"):
        ingest_file(corrupt, store, progress=False)


def test_namespace_and_user_apply_to_logs_and_quarantine(store: SQLiteRuleStore, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"query": "q1", "response": "r1"}\n'
        '{"query": "q2", "response": "r2", "namespace": "other"}\n'
        '{"query": "q3", "response": "r3", "user_id": "bob"}\n'
    )
    report = ingest_file(path, store, namespace="acme", user_id="alice", progress=False)
    assert (report.inserted, report.quarantined) == (1, 2)
    (log,) = store.iter_logs(Scope(namespace="acme"))
    assert (log.query, log.user_id) == ("q1", "alice")
    assert {q.line for q in store.list_quarantine(Scope(namespace="acme"))} == {2, 3}
    assert store.list_quarantine(Scope(namespace="default")) == []


def test_log_ids_are_per_namespace_so_another_tenants_ids_never_block_an_ingest(store: SQLiteRuleStore) -> None:
    ingest_file(FIXTURES / "memorybench_hub.json", store, namespace="first", progress=False)
    report = ingest_file(FIXTURES / "memorybench_generated.jsonl", store, namespace="second", progress=False)
    assert report.inserted == 2
    same_ids = ingest_file(FIXTURES / "memorybench_hub.json", store, namespace="second", progress=False)
    assert (same_ids.inserted, same_ids.quarantined) == (2, 0)
    assert store.count_logs(Scope(namespace="second")) == 4
    assert store.count_logs(Scope(namespace="first")) == 2


def test_a_stored_id_reused_for_other_content_is_quarantined_with_the_reason(
    store: SQLiteRuleStore, tmp_path: Path
) -> None:
    first = tmp_path / "first.jsonl"
    first.write_text('{"id": "a", "query": "q1", "response": "r1"}\n{"id": "b", "query": "q2", "response": "r2"}\n')
    ingest_file(first, store, progress=False)
    second = tmp_path / "second.jsonl"
    second.write_text(
        '{"id": "a", "query": "q1", "response": "r1"}\n'  # the same log again: a duplicate
        '{"id": "b", "query": "another question", "response": "r2"}\n'  # id b for other content: a conflict
        '{"id": "c", "query": "q3", "response": "r3"}\n'
    )
    report = ingest_file(second, store, progress=False)
    assert (report.inserted, report.duplicates, report.quarantined) == (1, 1, 1)
    ((line, reason),) = report.errors
    assert line == 2 and "'b'" in reason and "different conversation" in reason
    (bad,) = store.list_quarantine()
    assert (bad.line, bad.reason) == (2, reason) and "another question" in bad.raw
    assert [log.query for log in store.get_logs(["b"])] == ["q2"]


def test_ingest_records_accepts_dicts_and_log_records(store: SQLiteRuleStore) -> None:
    log = LogRecord(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    report = ingest_records(
        [
            {"query": "q1", "response": "r1"},
            log,
            {"messages": [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"}]},
            {"query": "q3"},
            {"prompt": "p"},
            "not a record",  # type: ignore[list-item]
        ],
        store,
        namespace="acme",
        source="api",
    )
    assert (report.path, report.inserted, report.quarantined) == ("api", 3, 3)
    assert [line for line, _ in report.errors] == [4, 5, 6]
    assert "cannot tell the format" in report.errors[1][1]
    assert report.errors[2][1] == "expected a JSON object, got string"
    assert store.count_logs(Scope(namespace="acme")) == 3
    assert {q.source for q in store.list_quarantine()} == {"api"}
    again = ingest_records([log], store, namespace="acme")
    assert (again.inserted, again.duplicates) == (0, 1)


def test_raw_text_of_a_quarantined_line_is_capped(store: SQLiteRuleStore, tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    path.write_text('{"query": "q", "response": "r"}\n' + json.dumps({"query": "é" * 20_000}) + "\n")
    ingest_file(path, store, progress=False)
    (bad,) = store.list_quarantine()
    assert len(bad.raw.encode()) <= MAX_RAW_BYTES
    assert bad.raw.startswith('{"query": "')
    assert truncate_raw("aé", limit=2) == "a"


def test_small_batches_commit_everything(store: SQLiteRuleStore, tmp_path: Path) -> None:
    generated = write_plain_logs(tmp_path / "logs.jsonl", 300, bad_every=7)
    report = ingest_file(generated.path, store, batch_size=1, progress=False)
    assert (report.inserted, report.quarantined) == (len(generated.valid), len(generated.bad))
    with pytest.raises(ValueError, match="batch_size"):
        ingest_file(generated.path, store, batch_size=0)


def test_empty_file(store: SQLiteRuleStore, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    report = ingest_file(path, store, progress=False)
    assert (report.format, report.lines, report.skipped, report.inserted) == (None, 2, 2, 0)


def test_progress_is_silent_off_a_terminal_for_small_files(
    store: SQLiteRuleStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest_file(FIXTURES / "plain.jsonl", store, progress=True)
    assert capsys.readouterr().err == ""


def test_summary_reads_well() -> None:
    report = IngestReport(
        path="logs.jsonl", format="plain", lines=12, inserted=9, duplicates=1, quarantined=1, skipped=1, elapsed=0.25
    )
    assert report.summary() == (
        "logs.jsonl (plain): 12 lines, 9 inserted, 1 duplicate, 1 quarantined, 1 blank skipped in 0.2s"
    )
