"""Executors without Ray: the in-process one, the specs, and the clear errors (a missing extra, a bad spec)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.train.judges import CheckerJudge
from uno import UnoMemory
from uno.cli import main
from uno.demo import sample_logs_path
from uno.distill.heuristic import HeuristicDistiller
from uno.distill.llm import LLMDistiller
from uno.embed import HashingEmbedder
from uno.executor import InProcessExecutor, RayExecutor, executor_for, parse_executor, runs_on_workers
from uno.extras import MissingExtraError


def test_in_process_batches_keep_their_order_and_advance_the_bar() -> None:
    advanced: list[int] = []
    out = InProcessExecutor().map_batches(lambda b: [x * 10 for x in b], list(range(7)), batch_size=3,
                                          advance=advanced.append)  # fmt: skip

    assert out == [[0, 10, 20], [30, 40, 50], [60]]
    assert advanced == [3, 3, 1]


def test_in_process_state_is_kept_under_its_key_until_closed() -> None:
    executor = InProcessExecutor()
    first = executor.map_batches_with(lambda s, b: [s + x for x in b], "a", ["1", "2"], key="k")
    kept = executor.map_batches_with(lambda s, b: [s + x for x in b], "b", ["3"], key="k")
    executor.close()
    fresh = executor.map_batches_with(lambda s, b: [s + x for x in b], "b", ["3"], key="k")

    assert (first, kept, fresh) == ([["a1", "a2"]], [["a3"]], [["b3"]])


@pytest.mark.parametrize(
    ("spec", "name", "address"),
    [("local", "local", None), ("ray", "ray", None), ("ray://10.0.0.5:7000", "ray", "ray://10.0.0.5:7000"),
     ("ray://head", "ray", "ray://head:10001")],
)  # fmt: skip
def test_specs_name_their_executor(spec: str, name: str, address: str | None) -> None:
    executor = parse_executor(spec)

    assert executor.name == name
    assert getattr(executor, "address", None) == address


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("spark", "unknown executor 'spark': expected local, ray, or ray://HOST:PORT"),
        ("ray://", "a Ray address is ray://HOST:PORT"),
        ("ray://head:notaport", "a Ray address is ray://HOST:PORT"),
        ("ray://head:10001/path", "a Ray address is ray://HOST:PORT"),
    ],
)
def test_a_bad_spec_is_refused_with_the_reason(spec: str, reason: str) -> None:
    with pytest.raises(ValueError, match="executor") as raised:
        parse_executor(spec)

    assert reason in str(raised.value)


def test_a_build_with_a_bad_spec_changes_nothing(tmp_path: Path) -> None:
    with UnoMemory(tmp_path, embedder=HashingEmbedder()) as memory:
        memory.ingest_file(sample_logs_path())
        with pytest.raises(ValueError, match="unknown executor 'dask'"):
            memory.build(executor="dask")
        with pytest.raises(TypeError, match="executor must be a spec"):
            memory.build(executor=42)  # type: ignore[arg-type]

        assert memory.rules() == []
        assert memory.count_logs() == 200


def test_the_cli_refuses_a_bad_executor_before_building(tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "store")
    assert runner.invoke(main, ["--store", store, "ingest", "--no-progress", str(sample_logs_path())]).exit_code == 0

    result = runner.invoke(main, ["--store", store, "build", "--executor", "ray:/oops"])

    assert result.exit_code == 2
    assert "--executor: unknown executor 'ray:/oops': expected local, ray, or ray://HOST:PORT" in result.output


def test_without_the_ray_extra_a_ray_build_names_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with UnoMemory(tmp_path, embedder=HashingEmbedder()) as memory:
        memory.ingest_file(sample_logs_path())
        with pytest.raises(MissingExtraError) as raised:
            memory.build(executor="ray")

    assert str(raised.value) == (
        "building on Ray (executor='ray') needs the [ray] extra (ray is not installed): pip install 'uno-memory[ray]'"
    )


def test_the_cli_says_how_to_install_the_ray_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    store = str(tmp_path / "store")
    assert runner.invoke(main, ["--store", store, "ingest", "--no-progress", str(sample_logs_path())]).exit_code == 0
    monkeypatch.setitem(sys.modules, "ray", None)

    result = runner.invoke(main, ["--store", store, "build", "--executor", "ray"])

    assert result.exit_code == 2
    assert "pip install 'uno-memory[ray]'" in result.output


def test_an_llm_distiller_stays_in_the_driver_and_the_heuristic_one_goes_to_workers() -> None:
    ray = RayExecutor(workers=1)  # not started: deciding needs no Ray

    assert runs_on_workers(ray, HeuristicDistiller())
    assert not runs_on_workers(ray, LLMDistiller(CheckerJudge()))
    assert not runs_on_workers(InProcessExecutor(), HeuristicDistiller())


def test_a_given_executor_is_left_open_for_the_next_build() -> None:
    closed: list[str] = []

    class Recording(InProcessExecutor):
        def close(self) -> None:
            closed.append("close")

    with executor_for(Recording()) as runner:
        assert runner.name == "local"

    assert closed == []
    with pytest.raises(ValueError, match="workers must be at least 1"):
        RayExecutor(workers=0)
