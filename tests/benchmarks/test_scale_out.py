"""``python -m benchmarks.scale_out`` small (PostgreSQL and SQLite, 120 logs, 1 repeat): the whole code path.

Nothing here asserts a timing; the checks are that both stores got the same work, learnt the same rules from the
same logs, and that the result files hold what the script measured.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.scale_out import STORES, main, workload


def test_the_workload_is_distinct_logs() -> None:
    logs = workload(450)
    assert len({log.id for log in logs}) == len({log.content_hash() for log in logs}) == 450


def test_a_small_run_measures_both_stores_on_the_same_work(postgres_url: str, tmp_path: Path) -> None:
    assert (
        main(["--logs", "120", "--repeats", "1", "--queries", "10", "--postgres", postgres_url, "--out", str(tmp_path)])
        == 0
    )
    report = json.loads((tmp_path / "scale_out.json").read_text(encoding="utf-8"))
    results = report["results"]
    assert set(results) == set(STORES)
    sqlite, pg = results["sqlite"], results["postgres"]
    # The same logs, built the same way, teach both backends the same number of rules.
    assert sqlite["active_rules"] == pg["active_rules"] > 0
    for entry in (sqlite, pg):
        assert len(entry["ingest_seconds"]) == len(entry["floor_seconds"]) == 1
        # The seconds are written rounded to the microsecond.
        assert entry["ingest_logs_per_s"] == pytest.approx(120 / entry["ingest_seconds"][0], rel=0.01)
        assert entry["augment_ms_default"]["p50"] <= entry["augment_ms_default"]["p95"]
    ratios = report["ratios_postgres_over_sqlite"]
    assert ratios["ingest_throughput"] == round(pg["ingest_logs_per_s"] / sqlite["ingest_logs_per_s"], 3)
    assert "***" not in report["config"]["postgres"] or ":***@" in report["config"]["postgres"]
    table = (tmp_path / "scale_out.md").read_text(encoding="utf-8")
    assert "| ingest, logs/s |" in table and "(COPY)" in table and "(executemany)" in table
