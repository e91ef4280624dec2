"""Progress bars: every stage of a build (and training) draws one on a terminal; nothing is drawn when standard
error is not a terminal or with ``--quiet``; the libraries' own model-loading bars are switched off. No timing."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import uno.embed
import uno.progress
from tests.integrations.data import fast_memory, training_logs
from uno.cli import main
from uno.embed import HashingEmbedder
from uno.progress import (
    BUILD_STAGES,
    embedding_stage,
    is_terminal,
    progress_wanted,
    silence_library_bars,
    stage,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Closed(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def finished_stages(stderr: str) -> list[str]:
    """The stages whose bar reached 100%, in order."""
    lines = stderr.replace("\r", "\n").splitlines()
    return [
        name for name in (*BUILD_STAGES, "train") if any(line.startswith(name) and "100%" in line for line in lines)
    ]


def test_bars_are_wanted_only_on_a_terminal_and_not_when_quiet() -> None:
    assert progress_wanted(stream=Terminal()) is True
    assert progress_wanted(quiet=True, stream=Terminal()) is False
    assert progress_wanted(stream=io.StringIO()) is False
    assert progress_wanted(stream=Closed()) is False
    assert is_terminal(Closed()) is False


def test_a_disabled_stage_writes_nothing_and_an_enabled_one_counts_to_its_total(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with stage("embed", 4, enabled=False) as advance:
        advance(4)
    assert capsys.readouterr().err == ""
    with stage("embed", 4, enabled=True, unit="text") as advance:
        advance(1)
        advance(3)
    assert "4/4" in capsys.readouterr().err.replace("\r", "\n").splitlines()[-1]


def test_an_embedding_stage_counts_the_texts_it_embeds_and_draws_nothing_unused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    embedder = HashingEmbedder(64)
    texts = [f"answer number {n}" for n in range(7)]
    with embedding_stage("reward", embedder, 7, enabled=False) as same:
        assert same is embedder
    with embedding_stage("reward", embedder, 7, enabled=True):
        pass  # a model not due for retraining embeds nothing: no bar
    assert capsys.readouterr().err == ""
    with embedding_stage("reward", embedder, 7, enabled=True, batch=3) as counted:
        vectors = counted.embed(texts)
        assert (counted.name, counted.dimension) == (embedder.name, embedder.dimension)
    assert (vectors == embedder.embed(texts)).all(), "embedded in chunks of 3, the same vectors"
    assert "7/7" in capsys.readouterr().err.replace("\r", "\n").splitlines()[-1]


def test_a_build_with_progress_shows_each_stage_and_one_without_shows_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fast_memory(tmp_path / "quiet") as memory:
        memory.add_many(training_logs())
        memory.build()
    assert capsys.readouterr().err == ""

    with fast_memory(tmp_path / "shown", progress=True) as memory:
        memory.add_many(training_logs())
        report = memory.build()
    assert report.rules_by_status == {"active": 3}, "the bars change nothing about what is learnt"
    err = capsys.readouterr().err
    assert finished_stages(err) == list(BUILD_STAGES)
    assert "15/15" in err, "distil counts the logs"


@pytest.mark.parametrize(
    ("terminal", "flags", "shown"),
    [(True, [], list(BUILD_STAGES)), (True, ["--quiet"], []), (True, ["-q"], []), (False, [], [])],
)
def test_uno_build_draws_bars_on_a_terminal_unless_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: bool, flags: list[str], shown: list[str]
) -> None:
    # The CLI's real decision, with the terminal test answered for it; the model-free embedder keeps it quick.
    monkeypatch.setattr(uno.progress, "is_terminal", lambda stream: terminal)
    for switch in ("HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS"):
        monkeypatch.setenv(switch, "1")  # what the CLI sets, taken back after the test
    monkeypatch.setattr(uno.embed, "default_embedder", lambda **kwargs: HashingEmbedder(256))
    store = tmp_path / "store"
    with fast_memory(store) as memory:
        memory.add_many(training_logs())

    result = CliRunner().invoke(main, ["--store", str(store), "build", "--json", *flags])

    assert result.exit_code == 0, result.output
    assert finished_stages(result.stderr) == shown
    assert '"distilled_logs":15' in result.stdout.replace(" ", "")


def test_training_shows_a_bar_over_the_clusters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from uno.train.bake import Baker
    from uno.train.config import TrainConfig

    with fast_memory(tmp_path / "store") as memory:
        memory.add_many(training_logs())
        memory.build()
        clusters = len(memory.store.list_clusters())
        capsys.readouterr()
        baker = Baker(
            memory.store,
            tmp_path / "adapters",
            memory.namespace,
            base_model=tmp_path / "model",
            judge=None,  # type: ignore[arg-type]  # no cluster of these kinds: nothing is trained or judged
            config=TrainConfig(),
            trainer=object(),  # type: ignore[arg-type]
            progress=True,
        )
        report = baker.run(kinds=())
    assert [o.status for o in report.outcomes] == ["skipped"] * clusters
    assert finished_stages(capsys.readouterr().err) == ["train"]


def test_library_loading_bars_are_switched_off_unless_the_user_wants_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import utils as hub_utils
    from transformers.utils import logging as transformers_logging

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    monkeypatch.delenv("HF_DATASETS_DISABLE_PROGRESS_BARS", raising=False)
    try:
        silence_library_bars()
        assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] == "1"
        assert not transformers_logging.is_progress_bar_enabled(), "an imported transformers is told directly"
        assert hub_utils.are_progress_bars_disabled()
    finally:  # the rest of the session keeps the libraries' defaults
        monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "0")
        transformers_logging.enable_progress_bar()
        with warnings.catch_warnings():  # a hub imported while the variable was set keeps its bars off
            warnings.simplefilter("ignore")
            hub_utils.enable_progress_bars()

    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "0")
    silence_library_bars()
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "0", "a user's own choice is kept"
    assert transformers_logging.is_progress_bar_enabled()
