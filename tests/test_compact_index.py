"""CompactIndex: 4-bit codes in an inverted file, saved atomically and loaded memory-mapped; real FAISS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from uno.index import CompactIndex, FaissIndex, IndexCorruptError
from uno.read_model import learnt_log_index, load_log_index, save_log_index


def clustered(n: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, dimension))
    return (centres[rng.integers(0, 8, n)] + 0.2 * rng.standard_normal((n, dimension))).astype(np.float32)


def test_search_finds_each_vector_itself_and_scores_are_cosines() -> None:
    vectors = clustered(2000)
    ids = [f"log-{n}" for n in range(len(vectors))]
    index = CompactIndex.build(ids, vectors, nprobe=64)
    assert len(index) == 2000 and index.dimension == 32 and "log-5" in index
    hits = index.search(vectors[:50], 1)
    found = sum(1 for n, row in enumerate(hits) if row and row[0][0] == f"log-{n}")
    assert found >= 45
    for row in index.search(vectors[:20], 5):
        assert all(-1.01 <= score <= 1.01 for _, score in row)


def test_saved_index_loads_memory_mapped_with_the_same_answers(tmp_path: Path) -> None:
    vectors = clustered(1000, seed=1)
    index = CompactIndex.build([f"l{n}" for n in range(1000)], vectors)
    index.save(tmp_path, "ns.logs")
    loaded = CompactIndex.load(tmp_path, "ns.logs")
    assert loaded is not None and loaded.ids() == index.ids()
    assert loaded.search(vectors[:10], 3) == index.search(vectors[:10], 3)
    assert CompactIndex.load(tmp_path, "other") is None


def test_an_altered_file_fails_the_checksum(tmp_path: Path) -> None:
    CompactIndex.build([f"l{n}" for n in range(500)], clustered(500)).save(tmp_path, "x")
    (data,) = tmp_path.glob("x.compact.v*/index.faiss")
    raw = bytearray(data.read_bytes())
    raw[-10] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match="checksum"):
        CompactIndex.load(tmp_path, "x")


def test_too_few_vectors_or_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 256"):
        CompactIndex.build(["a", "b"], clustered(2))
    with pytest.raises(ValueError, match="appears more than once"):
        CompactIndex.build(["a"] * 300, clustered(300))
    index = CompactIndex.build([f"l{n}" for n in range(300)], clustered(300))
    with pytest.raises(ValueError, match="k must be"):
        index.search(clustered(1), -1)
    with pytest.raises(ValueError, match="all zeros"):
        index.search(np.zeros((1, 32), dtype=np.float32), 1)


def test_the_log_index_is_exact_unless_asked_and_only_the_last_kind_saved_loads(tmp_path: Path) -> None:
    vectors = clustered(400, seed=2)
    ids = [f"l{n}" for n in range(400)]
    exact = learnt_log_index(ids, vectors, 32)
    assert isinstance(exact, FaissIndex)
    compact = learnt_log_index(ids, vectors, 32, compact_above=300)
    assert isinstance(compact, CompactIndex)
    save_log_index(compact, tmp_path, "logs")
    assert isinstance(load_log_index(tmp_path, "logs"), CompactIndex)
    save_log_index(exact, tmp_path, "logs")
    assert isinstance(load_log_index(tmp_path, "logs"), FaissIndex)
    save_log_index(compact, tmp_path, "logs")
    assert isinstance(load_log_index(tmp_path, "logs"), CompactIndex)
