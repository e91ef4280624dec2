"""Reusable pytest suites for :class:`~uno.embed.Embedder` and :class:`~uno.index.VectorIndex` implementations.

Subclass a suite in a test module and provide its fixtures::

    class TestMyEmbedder(EmbedderConformance):
        @pytest.fixture
        def embedder(self) -> Embedder:
            return MyEmbedder()


    class TestMyIndex(VectorIndexConformance):
        @pytest.fixture
        def index_factory(self) -> IndexFactory:
            return MyIndex

        @pytest.fixture
        def index_loader(self) -> IndexLoader:
            return MyIndex.load
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from uno.embed import Embedder
from uno.index import VectorIndex

__all__ = ["EmbedderConformance", "IndexFactory", "IndexLoader", "VectorIndexConformance"]

IndexFactory = Callable[[int], VectorIndex]
IndexLoader = Callable[[Path, str], VectorIndex | None]

# Float32 models (with padding inside a batch) differ from themselves by ~1e-6 between batch compositions.
UNIT_TOLERANCE = 1e-4
BATCH_TOLERANCE = 1e-4

SENTENCES = [
    "How do I reset my password?",
    "The quarterly revenue grew by twelve percent.",
    "Please answer in French from now on.",
    "Cats sleep most of the day.",
]


def _cosine(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


class EmbedderConformance:
    """What every embedder must do. Subclasses provide an ``embedder`` fixture."""

    def test_satisfies_the_protocol(self, embedder: Embedder) -> None:
        assert isinstance(embedder, Embedder)
        assert isinstance(embedder.name, str) and embedder.name
        assert embedder.name == embedder.name  # stable: it is part of cache keys
        assert isinstance(embedder.dimension, int) and embedder.dimension > 0

    def test_shape_and_dtype(self, embedder: Embedder) -> None:
        vectors = embedder.embed(SENTENCES)
        assert vectors.shape == (len(SENTENCES), embedder.dimension)
        assert vectors.dtype == np.float32

    def test_rows_are_unit_length(self, embedder: Embedder) -> None:
        vectors = embedder.embed(SENTENCES)
        assert np.all(np.isfinite(vectors))
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=UNIT_TOLERANCE)

    def test_deterministic(self, embedder: Embedder) -> None:
        np.testing.assert_allclose(embedder.embed(SENTENCES), embedder.embed(SENTENCES), atol=BATCH_TOLERANCE)

    def test_order_is_preserved_and_rows_do_not_depend_on_the_batch(self, embedder: Embedder) -> None:
        forward = embedder.embed(SENTENCES)
        backward = embedder.embed(SENTENCES[::-1])
        np.testing.assert_allclose(backward, forward[::-1], atol=BATCH_TOLERANCE)
        for row, sentence in enumerate(SENTENCES):
            np.testing.assert_allclose(embedder.embed([sentence])[0], forward[row], atol=BATCH_TOLERANCE)

    def test_repeated_texts_get_equal_rows(self, embedder: Embedder) -> None:
        vectors = embedder.embed([SENTENCES[0], SENTENCES[1], SENTENCES[0]])
        np.testing.assert_allclose(vectors[0], vectors[2], atol=BATCH_TOLERANCE)
        assert not np.allclose(vectors[0], vectors[1], atol=BATCH_TOLERANCE)

    def test_empty_input(self, embedder: Embedder) -> None:
        vectors = embedder.embed([])
        assert vectors.shape == (0, embedder.dimension)
        assert vectors.dtype == np.float32

    def test_empty_string_gets_a_unit_vector(self, embedder: Embedder) -> None:
        vectors = embedder.embed(["", "   "])
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=UNIT_TOLERANCE)

    def test_unicode(self, embedder: Embedder) -> None:
        texts = ["Wie spät ist es?", "今日は雨が降っています", "مرحبا بالعالم", "naïve café 🎉👍", "e\u0301\u200b"]
        vectors = embedder.embed(texts)
        assert vectors.shape == (len(texts), embedder.dimension)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=UNIT_TOLERANCE)
        assert len({row.tobytes() for row in vectors}) == len(texts)

    def test_long_text(self, embedder: Embedder) -> None:
        long_text = " ".join(f"word{number % 997} and more" for number in range(5000))
        vectors = embedder.embed([long_text, "short"])
        assert vectors.shape == (2, embedder.dimension)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=UNIT_TOLERANCE)

    def test_accepts_any_sequence_and_does_not_mutate_it(self, embedder: Embedder) -> None:
        texts = list(SENTENCES)
        from_list = embedder.embed(texts)
        assert texts == SENTENCES
        np.testing.assert_allclose(embedder.embed(tuple(SENTENCES)), from_list, atol=BATCH_TOLERANCE)

    def test_rejects_a_bare_string(self, embedder: Embedder) -> None:
        with pytest.raises(TypeError, match="single"):
            embedder.embed("one text, not a list")

    def test_rejects_non_strings_naming_the_position(self, embedder: Embedder) -> None:
        with pytest.raises(TypeError, match="position 1"):
            embedder.embed(["fine", 42])  # type: ignore[list-item]

    def test_texts_sharing_words_are_closer(self, embedder: Embedder) -> None:
        anchor, near, far = embedder.embed(
            ["the cat sat on the mat", "the cat sat on a mat", "quarterly revenue grew twelve percent"]
        )
        assert _cosine(anchor, near) > _cosine(anchor, far)


class VectorIndexConformance:
    """What every vector index must do. Subclasses provide ``index_factory`` and ``index_loader`` fixtures.

    ``index_factory(dimension)`` returns a new empty index; ``index_loader(directory, name)`` loads what
    ``save(directory, name)`` wrote, or returns ``None`` when nothing was saved under that name.
    """

    DIMENSION = 16

    @staticmethod
    def _vectors(count: int, seed: int = 0, dimension: int = DIMENSION) -> npt.NDArray[np.float32]:
        return np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)

    @staticmethod
    def _ids(count: int, prefix: str = "id") -> list[str]:
        return [f"{prefix}-{number}" for number in range(count)]

    def _filled(
        self, index_factory: IndexFactory, count: int = 40
    ) -> tuple[VectorIndex, list[str], npt.NDArray[np.float32]]:
        index = index_factory(self.DIMENSION)
        ids, vectors = self._ids(count), self._vectors(count)
        index.upsert(ids, vectors)
        return index, ids, vectors

    def test_empty_index(self, index_factory: IndexFactory) -> None:
        index = index_factory(self.DIMENSION)
        assert isinstance(index, VectorIndex)
        assert index.dimension == self.DIMENSION
        assert len(index) == 0
        assert index.ids() == []
        assert index.search(self._vectors(2), 5) == [[], []]

    def test_each_vector_finds_itself_first(self, index_factory: IndexFactory) -> None:
        index, ids, vectors = self._filled(index_factory)
        assert len(index) == len(ids)
        assert index.ids() == ids
        for expected, hits in zip(ids, index.search(vectors, 5), strict=True):
            assert hits[0][0] == expected
            assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
            scores = [score for _, score in hits]
            assert scores == sorted(scores, reverse=True)

    def test_scores_are_cosine_similarities(self, index_factory: IndexFactory) -> None:
        index, ids, vectors = self._filled(index_factory, count=10)
        query = self._vectors(1, seed=7)[0] * 3.0  # deliberately not unit length
        hits = index.search(query[None, :], len(ids))[0]
        assert len(hits) == len(ids)
        for found_id, score in hits:
            assert score == pytest.approx(_cosine(query, vectors[ids.index(found_id)]), abs=1e-5)

    def test_upsert_of_an_existing_id_replaces_its_vector(self, index_factory: IndexFactory) -> None:
        index, ids, vectors = self._filled(index_factory, count=10)
        index.search(vectors[:1], 1)  # build whatever the index builds before the replacement
        replacement = self._vectors(1, seed=99)
        index.upsert([ids[3]], replacement)
        assert len(index) == len(ids)
        assert index.ids() == ids
        best_id, best_score = index.search(replacement, 1)[0][0]
        assert best_id == ids[3]
        assert best_score == pytest.approx(1.0, abs=1e-5)
        old_hits = dict(index.search(vectors[3:4], len(ids))[0])
        assert old_hits[ids[3]] == pytest.approx(_cosine(vectors[3], replacement[0]), abs=1e-5)

    def test_upsert_is_idempotent(self, index_factory: IndexFactory) -> None:
        index, ids, vectors = self._filled(index_factory, count=10)
        before = index.search(vectors, 3)
        index.upsert(ids, vectors)
        assert len(index) == len(ids)
        assert index.ids() == ids
        for first, again in zip(before, index.search(vectors, 3), strict=True):
            assert [label for label, _ in again] == [label for label, _ in first]
            np.testing.assert_allclose([s for _, s in again], [s for _, s in first], atol=1e-5)

    def test_remove(self, index_factory: IndexFactory) -> None:
        index, ids, vectors = self._filled(index_factory, count=10)
        index.search(vectors[:1], 1)
        index.remove([ids[2], ids[5], "never-added"])
        remaining = [label for label in ids if label not in {ids[2], ids[5]}]
        assert len(index) == len(remaining)
        assert index.ids() == remaining
        for hits in index.search(vectors, len(ids)):
            assert {label for label, _ in hits} == set(remaining)
        index.remove(remaining)
        assert len(index) == 0
        assert index.search(vectors[:1], 3) == [[]]

    def test_removing_missing_ids_is_fine(self, index_factory: IndexFactory) -> None:
        empty = index_factory(self.DIMENSION)
        empty.remove(["nothing", "here"])
        assert len(empty) == 0
        index, ids, _ = self._filled(index_factory, count=5)
        index.remove([])
        index.remove(["absent"])
        assert index.ids() == ids

    def test_k_larger_than_the_index(self, index_factory: IndexFactory) -> None:
        index, ids, vectors = self._filled(index_factory, count=4)
        hits = index.search(vectors[:2], 50)
        assert [len(row) for row in hits] == [4, 4]
        assert {label for label, _ in hits[0]} == set(ids)

    def test_batch_search_equals_one_query_at_a_time(self, index_factory: IndexFactory) -> None:
        index, _, _ = self._filled(index_factory)
        queries = self._vectors(6, seed=3)
        batch = index.search(queries, 5)
        assert len(batch) == len(queries)
        for row, hits in enumerate(batch):
            single = index.search(queries[row : row + 1], 5)[0]
            assert [label for label, _ in hits] == [label for label, _ in single]
            np.testing.assert_allclose([s for _, s in hits], [s for _, s in single], atol=1e-5)

    def test_interleaved_changes_match_brute_force(self, index_factory: IndexFactory) -> None:
        index = index_factory(self.DIMENSION)
        truth: dict[str, npt.NDArray[np.float32]] = {}
        rng = np.random.default_rng(5)
        for step in range(6):
            ids = [f"s{step}-{number}" for number in range(8)] + (["s0-1"] if step else [])
            vectors = rng.standard_normal((len(ids), self.DIMENSION)).astype(np.float32)
            index.upsert(ids, vectors)
            truth.update(zip(ids, vectors, strict=True))
            if step % 2:
                index.remove([f"s{step - 1}-0"])
                truth.pop(f"s{step - 1}-0")
            query = rng.standard_normal(self.DIMENSION).astype(np.float32)
            expected = max(truth, key=lambda label: _cosine(query, truth[label]))
            assert index.search(query[None, :], 1)[0][0][0] == expected
        assert sorted(index.ids()) == sorted(truth)

    def test_inputs_are_not_mutated(self, index_factory: IndexFactory) -> None:
        index = index_factory(self.DIMENSION)
        ids, vectors = self._ids(5), self._vectors(5) * 4.0
        ids_before, vectors_before = copy.copy(ids), vectors.copy()
        index.upsert(ids, vectors)
        queries = self._vectors(2, seed=1) * 2.0
        queries_before = queries.copy()
        index.search(queries, 3)
        index.remove(ids[:1])
        assert ids == ids_before
        np.testing.assert_array_equal(vectors, vectors_before)
        np.testing.assert_array_equal(queries, queries_before)

    def test_wrong_shapes_are_rejected(self, index_factory: IndexFactory) -> None:
        index = index_factory(self.DIMENSION)
        with pytest.raises(ValueError, match="shape"):
            index.upsert(["a"], self._vectors(1, dimension=self.DIMENSION + 1))
        with pytest.raises(ValueError, match="2 ids but 3 vectors"):
            index.upsert(["a", "b"], self._vectors(3))
        with pytest.raises(ValueError, match="shape"):
            index.search(self._vectors(1, dimension=self.DIMENSION - 1), 1)
        assert len(index) == 0

    def test_save_and_load_round_trip(
        self, index_factory: IndexFactory, index_loader: IndexLoader, tmp_path: Path
    ) -> None:
        assert index_loader(tmp_path, "rules") is None
        index, ids, _ = self._filled(index_factory)
        index.save(tmp_path, "rules")
        loaded = index_loader(tmp_path, "rules")
        assert loaded is not None
        assert loaded.dimension == index.dimension
        assert len(loaded) == len(index)
        assert loaded.ids() == ids
        queries = self._vectors(5, seed=11)
        for original, reloaded in zip(index.search(queries, 5), loaded.search(queries, 5), strict=True):
            assert [label for label, _ in reloaded] == [label for label, _ in original]
            np.testing.assert_allclose([s for _, s in reloaded], [s for _, s in original], atol=1e-5)

        index.remove(ids[:10])
        index.save(tmp_path, "rules")
        reloaded_after_change = index_loader(tmp_path, "rules")
        assert reloaded_after_change is not None
        assert reloaded_after_change.ids() == ids[10:]
        assert index_loader(tmp_path, "other") is None

    def test_empty_index_round_trip(
        self, index_factory: IndexFactory, index_loader: IndexLoader, tmp_path: Path
    ) -> None:
        index_factory(self.DIMENSION).save(tmp_path, "empty")
        loaded = index_loader(tmp_path, "empty")
        assert loaded is not None
        assert len(loaded) == 0
        assert loaded.dimension == self.DIMENSION
