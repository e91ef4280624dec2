"""FaissIndex: conformance (exact and HNSW), approximate-vs-exact agreement, persistence, atomicity, GPU choice."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import threading
import time
from functools import partial
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt
import pytest

from uno.index import FaissIndex, IndexCorruptError
from uno.testing.conformance import IndexFactory, IndexLoader, VectorIndexConformance

FloatMatrix = npt.NDArray[np.float32]


def random_vectors(count: int, dimension: int, seed: int) -> FloatMatrix:
    return np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)


# --- conformance ---------------------------------------------------------------------------------------------


class TestExactIndexConformance(VectorIndexConformance):
    @pytest.fixture
    def index_factory(self) -> IndexFactory:
        return FaissIndex

    @pytest.fixture
    def index_loader(self) -> IndexLoader:
        return FaissIndex.load


class TestHnswIndexConformance(VectorIndexConformance):
    """The same behaviour with HNSW from the first vector on."""

    @pytest.fixture
    def index_factory(self) -> IndexFactory:
        return partial(FaissIndex, ann_threshold=1)

    @pytest.fixture
    def index_loader(self) -> IndexLoader:
        return partial(FaissIndex.load, ann_threshold=1)


# --- exact vs approximate ------------------------------------------------------------------------------------


def test_kind_follows_the_threshold_both_ways() -> None:
    index = FaissIndex(8, ann_threshold=10)
    vectors = random_vectors(12, 8, seed=0)
    kinds = []
    index.upsert([f"v{number}" for number in range(9)], vectors[:9])
    kinds.append(index.kind)
    assert index.search(vectors[:1], 1)[0][0][0] == "v0"
    index.upsert(["v9", "v10", "v11"], vectors[9:])
    kinds.append(index.kind)
    assert index.search(vectors[11:], 1)[0][0][0] == "v11"
    index.remove(["v0", "v1", "v2"])
    kinds.append(index.kind)
    assert index.search(vectors[5:6], 1)[0][0][0] == "v5"
    assert kinds == ["flat", "hnsw", "flat"]


def test_hnsw_agrees_with_exact_search_on_5k_vectors() -> None:
    dimension, count = 64, 5000
    vectors = random_vectors(count, dimension, seed=1)
    ids = [f"v{number}" for number in range(count)]
    exact, approximate = FaissIndex(dimension), FaissIndex(dimension, ann_threshold=1000)
    exact.upsert(ids, vectors)
    approximate.upsert(ids, vectors)
    assert (exact.kind, approximate.kind) == ("flat", "hnsw")

    # Top-1: queries near stored vectors have one clear nearest neighbour, which both must find.
    near = vectors[:300] + 0.1 * random_vectors(300, dimension, seed=2)
    exact_top = [hits[0] for hits in exact.search(near, 1)]
    approximate_top = [hits[0] for hits in approximate.search(near, 1)]
    assert [label for label, _ in approximate_top] == [label for label, _ in exact_top]
    np.testing.assert_allclose([s for _, s in approximate_top], [s for _, s in exact_top], atol=1e-5)

    # Recall@10 on queries unrelated to the data, the hard case for HNSW.
    queries = random_vectors(200, dimension, seed=3)
    recalls = [
        len({label for label, _ in truth} & {label for label, _ in found}) / 10
        for truth, found in zip(exact.search(queries, 10), approximate.search(queries, 10), strict=True)
    ]
    assert float(np.mean(recalls)) >= 0.9


def test_appends_after_a_search_are_found_without_a_full_rebuild() -> None:
    index = FaissIndex(16, ann_threshold=1)
    vectors = random_vectors(30, 16, seed=4)
    index.upsert([f"v{number}" for number in range(20)], vectors[:20])
    assert index.search(vectors[:1], 1)[0][0][0] == "v0"
    index.upsert([f"v{number}" for number in range(20, 30)], vectors[20:])
    hits = index.search(vectors[20:], 1)
    assert [row[0][0] for row in hits] == [f"v{number}" for number in range(20, 30)]


def test_large_k_on_hnsw_returns_every_vector() -> None:
    index = FaissIndex(8, ann_threshold=1, ef_search=4)
    vectors = random_vectors(100, 8, seed=5)
    index.upsert([f"v{number}" for number in range(100)], vectors)
    assert len(index.search(vectors[:1], 100)[0]) == 100  # ef_search is raised to k


def test_concurrent_upserts_and_searches() -> None:
    index = FaissIndex(8)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            vectors = random_vectors(50, 8, seed=10 + worker)
            for number in range(50):
                label = f"w{worker}-{number}"
                index.upsert([label], vectors[number : number + 1])
                assert index.search(vectors[number : number + 1], 1)[0][0][0] == label
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(index) == 200


# --- bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_row", "reason"), [(np.zeros(4), "is all zeros"), (np.array([1.0, np.nan, 0, 0]), "contains NaN or infinite")]
)
def test_undefined_vectors_are_rejected_naming_the_id(bad_row: FloatMatrix, reason: str) -> None:
    index = FaissIndex(4)
    vectors = np.stack([np.ones(4), bad_row]).astype(np.float32)
    with pytest.raises(ValueError, match=f"id 'rule-2' {reason}"):
        index.upsert(["rule-1", "rule-2"], vectors)
    assert len(index) == 0  # nothing half-applied
    with pytest.raises(ValueError, match="query row 0 is all zeros"):
        index.search(np.zeros((1, 4), dtype=np.float32), 1)


def test_other_bad_input_gets_a_clear_error() -> None:
    index = FaissIndex(4)
    one = np.ones((1, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="'a' appears more than once"):
        index.upsert(["a", "a"], np.ones((2, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="not a single string"):
        index.upsert("a", one)
    with pytest.raises(TypeError, match="position 0 is a int"):
        index.upsert([7], one)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="k must be a non-negative integer"):
        index.search(one, -1)
    with pytest.raises(ValueError, match="real numbers"):
        index.upsert(["a"], np.array([["x", "y", "z", "w"]]))
    with pytest.raises(ValueError, match="dimension must be at least 1"):
        FaissIndex(0)


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "spaced name"])
def test_unsafe_index_names_are_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="index name"):
        FaissIndex(4).save(tmp_path, name)
    with pytest.raises(ValueError, match="index name"):
        FaissIndex.load(tmp_path, name)


# --- persistence ---------------------------------------------------------------------------------------------


def filled_index(count: int = 20, dimension: int = 8, seed: int = 0, prefix: str = "v") -> FaissIndex:
    index = FaissIndex(dimension)
    index.upsert([f"{prefix}{number}" for number in range(count)], random_vectors(count, dimension, seed))
    return index


def test_save_layout(tmp_path: Path) -> None:
    filled_index().save(tmp_path, "abc123.rules")  # dotted names, as UnoMemory uses them
    version = tmp_path / "abc123.rules.v000000000001"
    assert (tmp_path / "abc123.rules.CURRENT").read_text() == f"{version.name}\n"
    assert sorted(path.name for path in version.iterdir()) == [
        "abc123.rules.ids.json",
        "abc123.rules.meta.json",
        "abc123.rules.vectors.npy",
    ]
    meta = json.loads((version / "abc123.rules.meta.json").read_text())
    assert {key: meta[key] for key in ("format", "dimension", "count", "kind")} == {
        "format": 1,
        "dimension": 8,
        "count": 20,
        "kind": "flat",
    }
    assert len(meta["checksum"]) == 64
    loaded = FaissIndex.load(tmp_path, "abc123.rules")
    assert loaded is not None and len(loaded) == 20


def test_old_versions_are_pruned(tmp_path: Path) -> None:
    for generation in range(6):
        filled_index(count=5 + generation).save(tmp_path, "rules")
    versions = sorted(path.name for path in tmp_path.glob("rules.v*"))
    assert versions == [f"rules.v{number:012d}" for number in (4, 5, 6)]
    loaded = FaissIndex.load(tmp_path, "rules")
    assert loaded is not None and len(loaded) == 10


def test_indexes_with_prefixed_names_do_not_disturb_each_other(tmp_path: Path) -> None:
    for _ in range(4):
        filled_index(count=3).save(tmp_path, "a")
        filled_index(count=4).save(tmp_path, "a.v")
    first, second = FaissIndex.load(tmp_path, "a"), FaissIndex.load(tmp_path, "a.v")
    assert first is not None and second is not None
    assert (len(first), len(second)) == (3, 4)


def test_loaded_index_takes_options_and_stays_mutable(tmp_path: Path) -> None:
    filled_index(count=20).save(tmp_path, "rules")
    loaded = FaissIndex.load(tmp_path, "rules", ann_threshold=10, use_gpu=False)
    assert loaded is not None and loaded.kind == "hnsw"
    loaded.upsert(["new"], np.ones((1, 8), dtype=np.float32))
    assert loaded.search(np.ones((1, 8), dtype=np.float32), 1)[0][0][0] == "new"


def current_version(directory: Path, name: str) -> Path:
    return directory / (directory / f"{name}.CURRENT").read_text().strip()


def test_altered_vectors_fail_the_checksum(tmp_path: Path) -> None:
    filled_index().save(tmp_path, "rules")
    vectors_path = current_version(tmp_path, "rules") / "rules.vectors.npy"
    vectors = np.load(vectors_path)
    vectors[0, 0] += 0.5
    np.save(vectors_path, vectors)
    with pytest.raises(IndexCorruptError, match="checksum mismatch"):
        FaissIndex.load(tmp_path, "rules")


def test_files_of_different_saves_do_not_mix(tmp_path: Path) -> None:
    filled_index(count=20, seed=0).save(tmp_path, "rules")
    old_ids = (current_version(tmp_path, "rules") / "rules.ids.json").read_bytes()
    filled_index(count=20, seed=1).save(tmp_path, "rules")
    (current_version(tmp_path, "rules") / "rules.ids.json").write_bytes(old_ids.replace(b"v1", b"w1"))
    with pytest.raises(IndexCorruptError, match="checksum mismatch"):
        FaissIndex.load(tmp_path, "rules")


def test_count_mismatch_is_reported(tmp_path: Path) -> None:
    filled_index(count=20).save(tmp_path, "rules")
    ids_path = current_version(tmp_path, "rules") / "rules.ids.json"
    ids_path.write_text(json.dumps(json.loads(ids_path.read_text())[:-1]))
    with pytest.raises(IndexCorruptError, match="meta says 20 vectors of dimension 8, found 19 ids"):
        FaissIndex.load(tmp_path, "rules")


@pytest.mark.parametrize(
    ("file_name", "content", "reason"),
    [
        ("rules.ids.json", b'["v0", ', "not valid JSON"),
        ("rules.ids.json", b'{"v0": 1}', "list of string ids"),
        ("rules.meta.json", b"{}", "format 1"),
        ("rules.vectors.npy", b"garbage", "not a readable .npy array"),
    ],
)
def test_unreadable_files_are_reported_by_name(tmp_path: Path, file_name: str, content: bytes, reason: str) -> None:
    filled_index().save(tmp_path, "rules")
    (current_version(tmp_path, "rules") / file_name).write_bytes(content)
    with pytest.raises(IndexCorruptError, match=reason) as caught:
        FaissIndex.load(tmp_path, "rules")
    assert "rules.v000000000001" in str(caught.value)


def test_a_pointer_to_nothing_is_reported(tmp_path: Path) -> None:
    (tmp_path / "rules.CURRENT").write_text("rules.v000000000042\n")
    with pytest.raises(IndexCorruptError, match="missing or incomplete"):
        FaissIndex.load(tmp_path, "rules")
    (tmp_path / "rules.CURRENT").write_text("../../etc\n")
    with pytest.raises(IndexCorruptError, match="does not name a version"):
        FaissIndex.load(tmp_path, "rules")


def test_nothing_saved_loads_as_none(tmp_path: Path) -> None:
    assert FaissIndex.load(tmp_path / "does-not-exist", "rules") is None
    assert FaissIndex.load(tmp_path, "rules") is None


def test_readers_never_see_a_half_written_index(tmp_path: Path) -> None:
    states = [filled_index(100, 16, seed=1, prefix="a"), filled_index(150, 16, seed=2, prefix="b")]
    expected = {
        tuple(state.ids()): random_vectors(len(state), 16, seed=seed)
        for state, seed in zip(states, (1, 2), strict=True)
    }
    states[0].save(tmp_path, "rules")
    stop = threading.Event()
    writer_failures: list[BaseException] = []

    def keep_saving() -> None:
        try:
            while not stop.is_set():
                for state in states:
                    state.save(tmp_path, "rules")
        except BaseException as error:  # reported by the main thread
            writer_failures.append(error)

    writer = threading.Thread(target=keep_saving)
    writer.start()
    seen: set[tuple[str, ...]] = set()
    loads = 0
    deadline = time.monotonic() + 1.5
    try:
        while time.monotonic() < deadline:
            loaded = FaissIndex.load(tmp_path, "rules")
            assert loaded is not None
            ids = tuple(loaded.ids())
            assert ids in expected, "a load mixed two saves"
            # Each saved vector must come back under its own id.
            hits = loaded.search(expected[ids], 1)
            assert [row[0][0] for row in hits] == list(ids)
            np.testing.assert_allclose([row[0][1] for row in hits], 1.0, atol=1e-5)
            seen.add(ids)
            loads += 1
    finally:
        stop.set()
        writer.join()
    assert writer_failures == []
    assert loads > 20
    assert seen == set(expected)


READER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from uno.index import FaissIndex

    directory, deadline, loads, sizes = Path(sys.argv[1]), time.monotonic() + float(sys.argv[2]), 0, set()
    while time.monotonic() < deadline:
        index = FaissIndex.load(directory, "rules")
        ids = index.ids()
        prefix = ids[0][0]
        assert all(label[0] == prefix for label in ids), "mixed ids"
        assert len(ids) == {"a": 100, "b": 150}[prefix], "wrong count"
        sizes.add(len(ids))
        loads += 1
    print(loads, sorted(sizes))
    """
)


@pytest.mark.slow
def test_a_reader_in_another_process_never_sees_a_half_written_index(tmp_path: Path) -> None:
    states = [filled_index(100, 16, seed=1, prefix="a"), filled_index(150, 16, seed=2, prefix="b")]
    states[0].save(tmp_path, "rules")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, str(tmp_path), "2.5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    saves = 0
    while reader.poll() is None:
        states[saves % 2].save(tmp_path, "rules")
        saves += 1
    stdout, stderr = reader.communicate()
    assert reader.returncode == 0, stderr.decode()
    loads, sizes = stdout.decode().split(" ", 1)
    assert int(loads) > 10
    assert sizes.strip() == "[100, 150]"
    assert saves > 10


def test_concurrent_writers_leave_one_complete_index(tmp_path: Path) -> None:
    states = [filled_index(30, 8, seed=1, prefix="a"), filled_index(40, 8, seed=2, prefix="b")]
    failures: list[BaseException] = []

    def save_repeatedly(state: FaissIndex) -> None:
        try:
            for _ in range(15):
                state.save(tmp_path, "rules")
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    writers = [threading.Thread(target=save_repeatedly, args=(state,)) for state in states]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    assert failures == []
    loaded = FaissIndex.load(tmp_path, "rules")
    assert loaded is not None
    assert loaded.ids() in (states[0].ids(), states[1].ids())
    assert not list(tmp_path.glob("*.partial"))
    assert len(list(tmp_path.glob("rules.v*"))) == 3


def test_a_save_waits_for_the_writer_lock_held_by_another_process(tmp_path: Path) -> None:
    # The lock is the filelock package's (flock here, msvcrt on Windows, where the old fcntl lock did nothing).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import filelock, sys; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
            "print('held', flush=True); sys.stdin.read(); lock.release()",
            str(tmp_path / "rules.lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        writer = threading.Thread(target=filled_index(5).save, args=(tmp_path, "rules"))
        writer.start()
        writer.join(timeout=0.5)
        assert writer.is_alive() and not (tmp_path / "rules.CURRENT").exists()  # blocked by the other process
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    writer.join(timeout=10)
    assert not writer.is_alive()
    loaded = FaissIndex.load(tmp_path, "rules")
    assert loaded is not None and len(loaded.ids()) == 5
    assert (tmp_path / "rules.lock").exists()  # kept, so every waiter locks the same file


# --- GPU choice ----------------------------------------------------------------------------------------------


@pytest.mark.skipif(faiss.get_num_gpus() > 0, reason="this machine has a GPU that FAISS can use")
def test_gpu_auto_resolves_to_the_cpu_here() -> None:
    index = FaissIndex(8)
    assert index.uses_gpu is False
    index.upsert(["a"], np.ones((1, 8), dtype=np.float32))
    [[(label, score)]] = index.search(np.ones((1, 8), dtype=np.float32), 1)
    assert label == "a"
    assert score == pytest.approx(1.0)


@pytest.mark.skipif(faiss.get_num_gpus() > 0, reason="this machine has a GPU that FAISS can use")
def test_asking_for_a_gpu_without_one_warns_and_uses_the_cpu(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="uno.index"):
        index = FaissIndex(8, use_gpu=True)
    assert index.uses_gpu is False
    assert "FAISS reports no GPU" in caplog.text
    index.upsert(["a"], np.ones((1, 8), dtype=np.float32))
    assert index.search(np.ones((1, 8), dtype=np.float32), 1)[0][0][0] == "a"


def test_gpu_can_be_switched_off() -> None:
    assert FaissIndex(8, use_gpu=False).uses_gpu is False


def test_a_reader_lapped_by_writers_rereads_the_pointer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Injects the rare race deterministically: between reading the pointer and the files, three saves land
    and prune the version the reader was about to open."""
    import uno.index

    filled_index(count=5).save(tmp_path, "rules")
    read_version = uno.index._read_version
    lapped = False

    def lapped_once(version_dir: Path, name: str) -> tuple[list[str], FloatMatrix]:
        nonlocal lapped
        if not lapped:
            lapped = True
            for _ in range(3):
                filled_index(count=7).save(tmp_path, "rules")
            assert not version_dir.exists()
        return read_version(version_dir, name)

    monkeypatch.setattr(uno.index, "_read_version", lapped_once)
    loaded = FaissIndex.load(tmp_path, "rules")
    assert lapped
    assert loaded is not None and len(loaded) == 7


def test_vectors_are_held_once_and_an_hnsw_graph_is_saved_and_reused(tmp_path: Path) -> None:
    index = FaissIndex(8, ann_threshold=10, use_gpu=False)
    vectors = random_vectors(40, 8, seed=9)
    index.upsert([f"v{number}" for number in range(40)], vectors)
    # No second buffer: the index holds the FAISS structure and the ids, nothing else array-shaped.
    assert not any(isinstance(value, np.ndarray) for value in vars(index).values())
    index.save(tmp_path, "logs")
    version = current_version(tmp_path, "logs")
    assert (version / "logs.hnsw.faiss").exists()
    loaded = FaissIndex.load(tmp_path, "logs", ann_threshold=10, use_gpu=False)
    assert loaded is not None and loaded.kind == "hnsw"
    assert np.array_equal(loaded.vectors(), index.vectors())
    assert loaded.search(vectors[:5], 3) == index.search(vectors[:5], 3)  # the same graph, not a rebuilt one
    (version / "logs.hnsw.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="graph was altered"):
        FaissIndex.load(tmp_path, "logs", ann_threshold=10, use_gpu=False)


def test_replacing_a_vector_in_an_hnsw_index_is_searched_at_once() -> None:
    index = FaissIndex(8, ann_threshold=5, use_gpu=False)
    vectors = random_vectors(20, 8, seed=10)
    index.upsert([f"v{number}" for number in range(20)], vectors)
    index.upsert(["v3"], -vectors[:1])
    assert index.search(-vectors[:1], 1)[0][0][0] == "v3"
    index.remove(["v3"])
    assert len(index) == 19 and "v3" not in index and index.search(-vectors[:1], 1)[0][0][0] != "v3"
