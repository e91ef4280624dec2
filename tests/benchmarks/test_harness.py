"""The benchmark harness end to end: ``python -m benchmarks.run --quick`` writes a sane report.

Uses the hashing embedder so the run is fast and needs no model. Nothing here asserts a timing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.methods.registry import METHOD_KEYS
from benchmarks.run import main, parse_sizes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("results")
    assert main(["--quick", "--embedder", "hashing", "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def by_key(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {method["key"]: method for method in results["methods"]}


@pytest.mark.slow
def test_quick_run_writes_the_report_the_plots_and_the_figures(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = quick_run
    for name in ("report.md", "results.json", "latency_vs_store_size.png", "tokens_per_query.png", "f1_per_method.png"):
        assert (out / name).is_file(), name
    for plot in out.glob("*.png"):
        assert plot.read_bytes().startswith(PNG_MAGIC), plot
    report = (out / "report.md").read_text(encoding="utf-8")
    for method in results["methods"]:
        assert f"| {method['name']} |" in report
    assert results["machine"]["cpu"] and results["machine"]["cores"]
    assert "--quick" in results["machine"]["command"]


@pytest.mark.slow
def test_every_method_is_measured_or_says_why_not(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick_run
    measured = set(by_key(results))
    assert measured | set(results["unavailable"]) == set(METHOD_KEYS)
    assert {"no-memory", "uno", "bm25-m", "bm25-s", "emb-m", "emb-s", "cipher"} <= measured
    for key, reason in results["unavailable"].items():
        assert key == "mem0" and "mem0ai" in reason


@pytest.mark.slow
def test_figures_are_sane(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick_run
    methods = by_key(results)
    vanilla, uno = methods["no-memory"], methods["uno"]
    assert vanilla["f1"] == 0.0 and vanilla["tokens_mean"] == 0.0 and vanilla["known_skip_rate"] == 1.0
    assert uno["f1"] > vanilla["f1"]
    assert uno["fit"]["llm_calls"] == 0 and uno["llm_tokens_per_log"] == 0.0
    for method in methods.values():
        for rate in ("precision", "recall", "f1", "noise_acceptance_rate", "known_skip_rate", "noisy_context_rate"):
            assert 0.0 <= method[rate] <= 1.0, (method["key"], rate)
        assert method["true_positives"] + method["false_negatives"] == vanilla["false_negatives"]
        assert method["tokens_p95"] >= 0 and method["latency"]["rest_p50"] >= 0
    # Session RAG injects whole logs: it carries far more text than uno's rules.
    assert methods["bm25-s"]["tokens_mean"] > uno["tokens_mean"]


@pytest.mark.slow
def test_scale_and_memorybench_sections(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick_run
    [point] = results["scale"]
    assert point["rules"] == 1000 and point["copies"] >= 1
    assert 0 < point["log_vectors"] <= point["log_vectors_uncapped"] and point["clusters"] > 0
    assert point["uno"]["p95_ms"] >= point["uno"]["p50_ms"] >= 0
    bench = results["memorybench"]
    assert bench["test"] > 0 and bench["scored"] == bench["test"]
    for method in bench["methods"]:
        assert 0.0 <= method["weighted_average"] <= 1.0
    costs = results["uno_costs"]
    assert costs["add_many_logs_per_s"] > 0 and costs["incremental_build_seconds"] is not None


def test_sizes_parse_and_reject_nonsense() -> None:
    assert parse_sizes("1000,10_000, 100000") == [1000, 10000, 100000]
    assert parse_sizes("") == []
    with pytest.raises(Exception, match="positive"):
        parse_sizes("0")
    with pytest.raises(Exception, match="integers"):
        parse_sizes("1k")


def test_unknown_method_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--methods", "uno,bogus"])
    assert exit_info.value.code == 2
    assert "bogus" in capsys.readouterr().err
