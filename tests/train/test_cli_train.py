"""``uno train`` and ``uno adapters`` on a real store, fully offline (the tiny model trains and judges)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from uno import UnoMemory
from uno.cli import main
from uno.embed import HashingEmbedder

from .test_bake import yes_no_logs


def make_store(root: Path) -> Path:
    with UnoMemory(root, embedder=HashingEmbedder(256)) as memory:
        memory.add_many(yes_no_logs())
        memory.build()
    return root


def test_train_and_list_adapters(tmp_path: Path, tiny_model_dir: Path) -> None:
    store = make_store(tmp_path / "store")
    runner = CliRunner()
    args = ["--store", str(store), "train", "--base-model", str(tiny_model_dir), "--judge-local", str(tiny_model_dir)]
    result = runner.invoke(main, [*args, "--epochs", "1", "--lora-r", "4", "--kind", "expert", "--max-new-tokens", "8"])

    assert result.exit_code == 0, result.output
    assert "not mature" in result.output  # the small cluster
    # A 140K-parameter random model cannot write the judge's JSON: nothing is judged, so nothing is served.
    assert "not validated: 0 judged held-out item(s)" in result.output
    assert "0 adapter(s) accepted" in result.output

    listed = runner.invoke(main, ["--store", str(store), "adapters"])
    assert listed.exit_code == 0 and "rejected" in listed.output and "not validated" in listed.output
    as_json = runner.invoke(main, ["--store", str(store), "adapters", "--json"])
    [record] = [json.loads(line) for line in as_json.output.splitlines()]
    assert record["status"] == "rejected" and record["kind"] == "expert" and record["path"] is None
    assert runner.invoke(main, ["--store", str(store), "adapters", "--status", "accepted"]).output.startswith(
        "no adapters"
    )


def test_train_refuses_bad_input(tmp_path: Path, tiny_model_dir: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["--store", str(tmp_path / "none"), "train", "--base-model", "x", "--judge", "m"])
    assert missing.exit_code == 2 and "no uno store" in missing.output
    store = make_store(tmp_path / "store")
    base = ["--store", str(store), "train", "--base-model", str(tiny_model_dir)]
    neither = runner.invoke(main, base)
    assert neither.exit_code == 2 and "exactly one of --judge" in neither.output
    both = runner.invoke(main, [*base, "--judge", "openai/x", "--judge-local", str(tiny_model_dir)])
    assert both.exit_code == 2
    not_a_model = runner.invoke(
        main, ["--store", str(store), "train", "--base-model", str(tmp_path), "--judge-local", str(tiny_model_dir)]
    )
    assert not_a_model.exit_code == 2 and "not a transformers checkpoint" in not_a_model.output
