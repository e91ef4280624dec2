"""The real-data benchmark: its data and licences, the gold set's integrity, and a small end-to-end run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks.embedding import make_embedder
from benchmarks.real.__main__ import main, render
from benchmarks.real.gold import GOLD_DIR, ITEMS_FILE, Kind, load_items, load_labels, split_of
from benchmarks.real.logs import to_logs
from benchmarks.real.run import rate, run, wilson
from benchmarks.real.sources import DATA_DIR, load_lottery, load_sessions


def test_data_ships_with_its_licences_and_origin() -> None:
    names = {p.name for p in DATA_DIR.iterdir()}
    assert {"hh-rlhf_LICENSE", "Open-Assistant_LICENSE", "ORIGIN.md"} <= names
    assert len(load_lottery()) == 250


def test_sessions_and_logs() -> None:
    hh, oasst = load_sessions("hh"), load_sessions("oasst")
    assert len(hh) > 2000 and len(oasst) == 100
    logs = to_logs(oasst)
    assert all(log.user_id and log.metadata["session"] for log in logs)
    tagged = [log for log in logs if "item_id" in log.metadata]
    assert len(tagged) == sum(1 for s in oasst for _ in s.followups())


def test_the_gold_set_is_complete_and_split_by_session() -> None:
    items = load_items()
    labels = load_labels()
    assert ITEMS_FILE.exists() and (GOLD_DIR / "GUIDE.md").exists()
    assert len(labels) >= 400
    assert {i.item_id for i in items} == set(labels)
    assert all(item.split == split_of(item.session_id) for item in items)
    splits_of_session: dict[str, set[str]] = {}
    for item in items:
        splits_of_session.setdefault(item.session_id, set()).add(item.split)
    assert all(len(s) == 1 for s in splits_of_session.values())
    kinds = Counter(label.kind for label in labels.values())
    assert kinds[Kind.PREFERENCE] >= 10 and kinds[Kind.HARMFUL] >= 100
    assert all(label.rule for label in labels.values() if label.kind is Kind.PREFERENCE)
    assert {i.source for i in items} == {"hh", "oasst"}


def test_wilson_interval() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(9, 10)
    assert 0.55 < low < 0.6 and 0.98 < high <= 1.0
    assert rate(3, 4)["rate"] == 0.75


def test_a_small_run_end_to_end(tmp_path: Path) -> None:
    stack = make_embedder("hashing")
    result = run(
        "dev", stack, methods=["uno", "emb-s"], sources=["oasst"], max_sessions=12, progress=lambda message: None
    )
    oasst = result["sources"]["oasst"]
    assert oasst["classification"]["items"] > 0
    assert set(oasst["methods"]) == {"uno", "emb-s"}
    assert oasst["methods"]["emb-s"]["no_complaint_injection"]["rate"] == 1.0  # RAG injects into everything
    assert oasst["uno"]["logs"] > 0
    result |= {"seconds": 1.0, "embedder": "hashing", "machine": {"cpu": "x", "cores": 2, "commit": None, "date": "d"}}
    text = render(result)
    assert "## Which user turns are reusable preferences" in text and "| oasst | uno |" in text


def test_the_command_writes_the_dev_report(tmp_path: Path) -> None:
    args = ["--split", "dev", "--embedder", "hashing", "--sources", "oasst", "--methods", "uno", "--max-sessions", "6"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "real-dev.md").exists() and (tmp_path / "real-dev.json").exists()


def test_cohen_kappa() -> None:
    from benchmarks.real.run import cohen_kappa

    assert cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "b"]) == 1.0
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == 0.0
    assert cohen_kappa([], []) == 0.0


def test_the_second_annotation_covers_the_same_items() -> None:
    from benchmarks.real.gold import SECOND_LABELS_FILE

    second = load_labels(SECOND_LABELS_FILE)
    assert set(second) == {i.item_id for i in load_items()}
