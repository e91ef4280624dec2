"""Nearest-neighbour search over string-keyed vectors: the :class:`VectorIndex` protocol and a FAISS backend.

Choices, and why:

- **Inner product on L2-normalised vectors.** Every vector, stored or queried, is scaled to unit length, so
  the inner product is the cosine similarity and scores mean the same whatever the index kind. FAISS's exact
  ``IndexFlatIP`` is then a single matrix product, and HNSW with ``METRIC_INNER_PRODUCT`` ranks exactly as by
  Euclidean distance (on unit vectors ``|a - b|^2 = 2 - 2 a.b``), the setting HNSW is tuned for.
- **Exact below ``ann_threshold``, HNSW at or above it.** A rule store holds thousands of vectors, not
  millions; brute force is exact and fast there, and HNSW only pays for its approximation on larger stores.
- **One copy of the vectors, kept in the FAISS structure, which is always current.** HNSW cannot delete or replace
  a vector, so :class:`FaissIndex` keeps the ids in row order (string ids map to row positions, FAISS's int64
  labels) and reads the vectors back from the structure's own flat storage (no second buffer). Appends are added
  to the structure at once, so an index is ready to search as soon as it is filled (a build pays for the graph,
  not the first query). Replacing a vector writes it in place; an HNSW graph is then rebuilt once per call, as it
  is on removal or when the size crosses ``ann_threshold``.
- **Atomic saves through a pointer file.** :meth:`FaissIndex.save` writes ``<name>.vectors.npy``,
  ``<name>.ids.json`` and ``<name>.meta.json`` (dimension, count, kind, SHA-256 checksum) into a new version
  directory ``<name>.v<generation>``, fsyncs it, then atomically replaces the one-line pointer file
  ``<name>.CURRENT``. A version directory never changes once named, so a reader in any process sees the
  previous save or the new one, never a mix. Writers are serialised by an advisory lock on ``<name>.lock``.
  The newest few versions are kept so a reader that resolved the pointer just before a save can finish; one
  that loses even that race re-reads the pointer. The loader checks counts and checksum and raises
  :class:`IndexCorruptError` naming the file and the reason. An HNSW index also saves its graph (without the
  vectors, FAISS's ``IO_FLAG_SKIP_STORAGE``) as ``<name>.hnsw.faiss`` with its own checksum, and a loader with the
  same ``hnsw_m`` reuses it instead of rebuilding the graph from the vectors.
- **GPU when there is one.** With ``use_gpu=None`` the exact index moves to the GPU when the installed FAISS
  reports one (faiss-gpu). With faiss-cpu it stays on the CPU; if the move fails it falls back to the CPU with
  a logged warning. HNSW always runs on the CPU (FAISS has no GPU HNSW).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

import filelock
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import faiss

__all__ = ["CompactIndex", "FaissIndex", "IndexCorruptError", "VectorIndex", "retire_saved"]

logger = logging.getLogger(__name__)

FloatMatrix = npt.NDArray[np.float32]
IndexKind = Literal["flat", "hnsw"]
SearchResult = list[list[tuple[str, float]]]


@runtime_checkable
class VectorIndex(Protocol):
    """A mutable set of ``id -> vector`` pairs, searchable by cosine similarity."""

    @property
    def dimension(self) -> int:
        """Width of every stored and queried vector."""
        ...

    def __len__(self) -> int: ...

    def upsert(self, ids: Sequence[str], vectors: FloatMatrix) -> None:
        """Insert or replace the vector of each id; ``vectors`` is ``(len(ids), dimension)``."""
        ...

    def remove(self, ids: Sequence[str]) -> None:
        """Forget these ids; ids that are not present are ignored."""
        ...

    def search(self, queries: FloatMatrix, k: int) -> SearchResult:
        """For each row of the ``(m, dimension)`` queries, up to ``k`` ``(id, cosine)`` pairs, best first."""
        ...

    def ids(self) -> list[str]:
        """All ids, in insertion order."""
        ...

    def save(self, directory: Path, name: str) -> None:
        """Persist under ``directory`` atomically: readers see the previous save or this one, never a mix."""
        ...


class IndexCorruptError(ValueError):
    """A saved index exists but cannot be trusted: unreadable, inconsistent or failing its checksum."""


_FORMAT_VERSION = 1
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_KEEP_VERSIONS = 3  # the current save and the two before it, for readers that resolved an older pointer
_LOAD_ATTEMPTS = 20


class FaissIndex:
    """A :class:`VectorIndex` over FAISS: exact search below ``ann_threshold`` vectors, HNSW from there on.

    Vectors are L2-normalised on the way in (the caller's arrays are never modified), so scores are cosine
    similarities. ``hnsw_m`` is the HNSW graph degree; ``ef_search`` its search breadth, raised to ``k`` when
    ``k`` is larger. ``use_gpu=None`` uses a GPU when FAISS reports one. All methods are thread-safe.
    """

    def __init__(
        self,
        dimension: int,
        *,
        ann_threshold: int = 20_000,
        hnsw_m: int = 32,
        ef_search: int = 64,
        use_gpu: bool | None = None,
    ):
        for label, value in (("dimension", dimension), ("hnsw_m", hnsw_m), ("ef_search", ef_search)):
            if value < 1:
                raise ValueError(f"{label} must be at least 1, got {value}")
        if ann_threshold < 0:
            raise ValueError(f"ann_threshold must be >= 0, got {ann_threshold}")
        self._dimension = dimension
        self._ann_threshold = ann_threshold
        self._hnsw_m = hnsw_m
        self._ef_search = ef_search
        self._use_gpu = _resolve_use_gpu(use_gpu)
        # The FAISS structure is the only copy of the vectors (row i is the id _ids[i]): exact IndexFlatIP below
        # ann_threshold, IndexHNSWFlat (whose flat storage holds them) from there on. It is kept current on every
        # change, so the first search after a build or a load pays nothing.
        self._structure: faiss.Index | None = None
        # A loaded HNSW graph borrows a flat storage that Python must keep alive.
        self._storage: faiss.Index | None = None
        # Exact search on a GPU searches a device copy, made on the first search after a change.
        self._device: faiss.Index | None = None
        self._ids: list[str] = []
        self._positions: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def kind(self) -> IndexKind:
        """What searches use at the current size: ``"flat"`` (exact) or ``"hnsw"`` (approximate)."""
        return "hnsw" if len(self._ids) >= self._ann_threshold else "flat"

    @property
    def uses_gpu(self) -> bool:
        """Whether exact search runs on a GPU (decided at construction; cleared if the move failed)."""
        return self._use_gpu

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item: object) -> bool:
        return item in self._positions

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._ids)

    def vectors(self) -> FloatMatrix:
        """A copy of every stored (unit) vector, in the order of :meth:`ids`."""
        with self._lock:
            return self._stored().copy()

    def upsert(self, ids: Sequence[str], vectors: FloatMatrix) -> None:
        labels = _check_ids(ids)
        rows = self._unit_rows(vectors, labels)
        with self._lock:
            new_rows: list[int] = []
            replaced = False
            stored = self._stored()
            for row_number, label in enumerate(labels):
                position = self._positions.get(label)
                if position is None:
                    new_rows.append(row_number)
                elif not np.array_equal(stored[position], rows[row_number]):
                    stored[position] = rows[row_number]  # in place: the structure holds the only copy
                    replaced = True
            del stored
            self._append([labels[row_number] for row_number in new_rows], rows[new_rows], replaced)

    def remove(self, ids: Sequence[str]) -> None:
        labels = _check_ids(ids, allow_duplicates=True)
        with self._lock:
            doomed = [self._positions[label] for label in labels if label in self._positions]
            if not doomed:
                return
            keep = np.ones(len(self._ids), dtype=bool)
            keep[doomed] = False
            kept = self._stored()[keep]  # a copy (boolean indexing) that outlives the old structure
            self._ids = [label for label, kept_id in zip(self._ids, keep, strict=True) if kept_id]
            self._positions = {label: position for position, label in enumerate(self._ids)}
            self._rebuild(kept)

    def search(self, queries: FloatMatrix, k: int) -> SearchResult:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise ValueError(f"k must be a non-negative integer, got {k!r}")
        rows = self._unit_rows(queries, None)
        with self._lock:
            limit = min(int(k), len(self._ids))
            if limit == 0:
                return [[] for _ in range(len(rows))]
            scores, positions = self._search_structure(rows, limit)
            # HNSW marks the slots it could not fill with position -1.
            return [
                [(self._ids[position], float(score)) for score, position in zip(*hits, strict=True) if position >= 0]
                for hits in zip(scores, positions, strict=True)
            ]

    def save(self, directory: Path, name: str) -> None:
        _check_name(name)
        with self._lock:
            vectors = self._stored().copy()
            ids = list(self._ids)
            kind = self.kind
            graph = _graph_bytes(self._structure) if kind == "hnsw" else None
        _write_version(Path(directory), name, vectors, ids, kind, graph, self._hnsw_m)

    @classmethod
    def load(
        cls,
        directory: Path,
        name: str,
        *,
        ann_threshold: int = 20_000,
        hnsw_m: int = 32,
        ef_search: int = 64,
        use_gpu: bool | None = None,
    ) -> FaissIndex | None:
        """Load what :meth:`save` wrote; ``None`` when nothing was ever saved under ``name``.

        A saved HNSW graph is reused when it was made with the same ``hnsw_m`` and the index is still HNSW at
        ``ann_threshold``, so nothing is rebuilt. Raises :class:`IndexCorruptError` when the saved files are
        unreadable or inconsistent.
        """
        _check_name(name)
        snapshot = _read_current_version(Path(directory), name)
        if snapshot is None:
            return None
        ids, vectors, graph = snapshot
        index = cls(vectors.shape[1], ann_threshold=ann_threshold, hnsw_m=hnsw_m, ef_search=ef_search, use_gpu=use_gpu)
        if graph is not None and graph.hnsw_m == hnsw_m and index._kind_for(len(ids)) == "hnsw":
            index._adopt(ids, vectors, graph)
        else:
            index.upsert(ids, vectors)
        return index

    def _kind_for(self, count: int) -> IndexKind:
        return "hnsw" if count >= self._ann_threshold else "flat"

    def _adopt(self, ids: list[str], vectors: FloatMatrix, saved: _SavedGraph) -> None:
        """Install a saved HNSW graph over a flat storage made from the saved vectors (no graph rebuild)."""
        import faiss

        try:
            graph = faiss.deserialize_index(saved.data, faiss.IO_FLAG_SKIP_STORAGE)
        except RuntimeError as error:
            raise IndexCorruptError(f"{saved.path}: not a readable FAISS HNSW graph ({error})") from error
        if not isinstance(graph, faiss.IndexHNSW) or graph.ntotal != len(ids) or graph.d != self._dimension:
            raise IndexCorruptError(f"{saved.path}: does not hold an HNSW graph over {len(ids)} vectors")
        storage = faiss.IndexFlatIP(self._dimension)
        storage.add(vectors)
        graph.storage = storage
        graph.own_fields = False
        self._structure, self._storage = graph, storage
        self._ids = list(ids)
        self._positions = {label: position for position, label in enumerate(self._ids)}

    def _stored(self, count: int | None = None) -> FloatMatrix:
        """The first ``count`` (default all) stored vectors as a writable view into the FAISS structure, no copy:
        valid until the structure changes."""
        import faiss

        count = len(self._ids) if count is None else count
        if self._structure is None or count == 0:
            return np.zeros((0, self._dimension), dtype=np.float32)
        flat: Any = self._structure
        if isinstance(flat, faiss.IndexHNSW):
            flat = faiss.downcast_index(flat.storage)
        view: FloatMatrix = faiss.rev_swig_ptr(flat.get_xb(), count * self._dimension).reshape(count, -1)
        return view

    def _append(self, labels: list[str], rows: FloatMatrix, replaced: bool) -> None:
        """Add new rows; rebuild only when the kind changes or an HNSW vector was replaced (its graph is stale)."""
        old_kind = self._kind_for(len(self._ids))
        for label in labels:
            self._positions[label] = len(self._ids)
            self._ids.append(label)
        new_kind = self._kind_for(len(self._ids))
        self._device = None
        if self._structure is None or new_kind != old_kind or (replaced and new_kind == "hnsw"):
            current = self._stored(len(self._ids) - len(labels)).copy()
            self._rebuild(np.concatenate([current, rows]) if len(labels) else current)
        elif len(labels):
            self._structure.add(rows)

    def _rebuild(self, vectors: FloatMatrix) -> None:
        self._structure = self._build(self._kind_for(len(vectors)), vectors) if len(vectors) else None
        self._storage = None
        self._device = None

    def _search_structure(self, rows: FloatMatrix, limit: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        import faiss

        assert self._structure is not None
        if isinstance(self._structure, faiss.IndexHNSW):
            # Safe to set per search: searches are serialised by self._lock.
            self._structure.hnsw.efSearch = max(self._ef_search, limit)
            return self._structure.search(rows, limit)
        if self._use_gpu:
            if self._device is None:
                self._device = self._move_to_gpu(self._structure)
            return self._device.search(rows, limit)
        return self._structure.search(rows, limit)

    def _build(self, kind: IndexKind, vectors: FloatMatrix) -> faiss.Index:
        import faiss

        structure: faiss.Index
        if kind == "hnsw":
            structure = faiss.IndexHNSWFlat(self._dimension, self._hnsw_m, faiss.METRIC_INNER_PRODUCT)
        else:
            structure = faiss.IndexFlatIP(self._dimension)
        structure.add(vectors)
        logger.debug("built a %s FAISS index over %d vectors", kind, len(vectors))
        return structure

    def _move_to_gpu(self, structure: faiss.Index) -> faiss.Index:
        import faiss

        try:
            return faiss.index_cpu_to_all_gpus(structure)
        except Exception as error:  # RuntimeError from FAISS, AttributeError from builds without GPU code
            logger.warning("could not move the FAISS index to the GPU, searching on the CPU: %s", error)
            self._use_gpu = False
            return structure

    def _unit_rows(self, vectors: FloatMatrix, labels: list[str] | None) -> FloatMatrix:
        return _unit(vectors, self._dimension, labels)


def _unit(vectors: FloatMatrix, dimension: int, labels: list[str] | None) -> FloatMatrix:
    """A float32, L2-normalised copy of ``vectors``; errors name the offending id (or query row)."""
    what = "vectors" if labels is not None else "queries"
    array = np.asarray(vectors)
    if array.ndim != 2 or array.shape[1] != dimension:
        raise ValueError(f"{what} must have shape (n, {dimension}), got {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{what} must be real numbers, got dtype {array.dtype}")
    if labels is not None and len(labels) != len(array):
        raise ValueError(f"got {len(labels)} ids but {len(array)} vectors")
    # Summed in float64 (no float32 overflow); one einsum instead of linalg.norm's checks and copies: a search
    # normalises its query on every call.
    norms = np.sqrt(np.einsum("ij,ij->i", array, array, dtype=np.float64))
    if not np.all(np.isfinite(norms) & (norms > 0)):
        for position in np.flatnonzero(~np.isfinite(norms) | (norms == 0)):
            owner = f"id {labels[position]!r}" if labels is not None else f"query row {position}"
            problem = "is all zeros" if norms[position] == 0 else "contains NaN or infinite values"
            raise ValueError(f"vector for {owner} {problem}: its cosine similarity is undefined")
    unit: FloatMatrix = (array / norms[:, None]).astype(np.float32)
    return unit


def _check_ids(ids: Sequence[str], *, allow_duplicates: bool = False) -> list[str]:
    if isinstance(ids, str | bytes):
        raise TypeError("ids must be a sequence of strings, not a single string; wrap it in a list")
    labels = list(ids)
    seen: set[str] = set()
    for position, label in enumerate(labels):
        if not isinstance(label, str):
            raise TypeError(f"id at position {position} is a {type(label).__name__}, not a str")
        if label in seen and not allow_duplicates:
            raise ValueError(f"id {label!r} appears more than once in one upsert")
        seen.add(label)
    return labels


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"index name must be letters, digits, '_', '-' or '.' (not first), got {name!r}")


def _resolve_use_gpu(use_gpu: bool | None) -> bool:
    if use_gpu is False:
        return False
    available = _gpu_count() > 0
    if use_gpu and not available:
        logger.warning("use_gpu=True but FAISS reports no GPU (is faiss-cpu installed?); searching on the CPU")
    return available


def _gpu_count() -> int:
    import faiss

    get_num_gpus = getattr(faiss, "get_num_gpus", None)
    if get_num_gpus is None:  # some CPU-only builds do not define it at all
        return 0
    try:
        return int(get_num_gpus())
    except Exception as error:  # a broken CUDA install must not stop CPU search
        logger.warning("FAISS could not count GPUs, searching on the CPU: %s", error)
        return 0


# --- persistence ------------------------------------------------------------------------------------------


def _file_names(name: str) -> tuple[str, str, str]:
    return f"{name}.vectors.npy", f"{name}.ids.json", f"{name}.meta.json"


def _graph_name(name: str) -> str:
    return f"{name}.hnsw.faiss"


@dataclass(frozen=True)
class _SavedGraph:
    """An HNSW graph saved without its vectors (they are in the ``.npy`` file), and the degree it was built with."""

    path: Path
    data: npt.NDArray[np.uint8]
    hnsw_m: int


def _graph_bytes(structure: faiss.Index | None) -> npt.NDArray[np.uint8] | None:
    """The HNSW graph alone (FAISS's ``IO_FLAG_SKIP_STORAGE``): saving it spares the next reader a rebuild."""
    import faiss

    if not isinstance(structure, faiss.IndexHNSW):
        return None
    data: npt.NDArray[np.uint8] = faiss.serialize_index(structure, faiss.IO_FLAG_SKIP_STORAGE)
    return data


def _checksum(vectors: FloatMatrix, ids_json: bytes) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(vectors, dtype="<f4").tobytes())
    digest.update(ids_json)
    return digest.hexdigest()


def _write_version(
    directory: Path,
    name: str,
    vectors: FloatMatrix,
    ids: list[str],
    kind: IndexKind,
    graph: npt.NDArray[np.uint8] | None = None,
    hnsw_m: int = 0,
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    vectors_name, ids_name, meta_name = _file_names(name)
    ids_json = json.dumps(ids, ensure_ascii=False).encode("utf-8")
    meta: dict[str, Any] = {
        "format": _FORMAT_VERSION,
        "dimension": int(vectors.shape[1]),
        "count": len(ids),
        "kind": kind,
        "checksum": _checksum(vectors, ids_json),
    }
    if graph is not None:
        meta["graph"] = {"hnsw_m": hnsw_m, "checksum": hashlib.sha256(graph.tobytes()).hexdigest()}

    def fill(staging: Path) -> None:
        with open(staging / vectors_name, "wb") as handle:
            np.save(handle, np.ascontiguousarray(vectors, dtype="<f4"), allow_pickle=False)
            _flush(handle)
        _write_bytes(staging / ids_name, ids_json)
        if graph is not None:
            _write_bytes(staging / _graph_name(name), graph.tobytes())
        _write_bytes(staging / meta_name, json.dumps(meta, indent=2).encode("utf-8"))

    _commit_version(directory, name, fill)


def _commit_version(directory: Path, name: str, fill: Callable[[Path], None]) -> None:
    """Write a new version directory of ``name`` (``fill`` writes its files), then point ``<name>.CURRENT`` at it."""
    with _exclusive_lock(directory / f"{name}.lock"):
        versions = _versions(directory, name)
        final = directory / f"{name}.v{(versions[-1][0] + 1 if versions else 1):012d}"
        staging = directory / f"{final.name}.partial"
        for _, leftover in _versions(directory, name, suffix=r"\.partial"):  # a crashed writer's; we hold the lock
            shutil.rmtree(leftover, ignore_errors=True)
        staging.mkdir()
        fill(staging)
        _fsync_directory(staging)
        os.rename(staging, final)
        pointer_tmp = directory / f"{name}.CURRENT.tmp"
        _write_bytes(pointer_tmp, f"{final.name}\n".encode())
        os.replace(pointer_tmp, directory / f"{name}.CURRENT")  # the commit point
        _fsync_directory(directory)
        for _, old in _versions(directory, name)[:-_KEEP_VERSIONS]:
            shutil.rmtree(old, ignore_errors=True)


def _versions(directory: Path, name: str, suffix: str = "") -> list[tuple[int, Path]]:
    """The version directories of ``name`` (or, with a suffix pattern, their staging dirs), oldest first."""
    pattern = re.compile(re.escape(name) + r"\.v(\d{12})" + suffix)
    found = []
    for entry in directory.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir():
            found.append((int(match.group(1)), entry))
    return sorted(found)


def _read_current_version(directory: Path, name: str) -> tuple[list[str], FloatMatrix, _SavedGraph | None] | None:
    return _read_current(directory, name, _read_version)


_T = TypeVar("_T")


def _read_current(directory: Path, name: str, read: Callable[[Path, str], _T]) -> _T | None:
    """``read`` the version directory ``<name>.CURRENT`` names; ``None`` when nothing was saved under ``name``."""
    pointer = directory / f"{name}.CURRENT"
    for _ in range(_LOAD_ATTEMPTS):
        version = _read_pointer(pointer)
        if version is None:
            return None
        if not re.fullmatch(re.escape(name) + r"\.v\d{12}", version):
            raise IndexCorruptError(f"{pointer}: does not name a version of index {name!r}: {version!r}")
        try:
            return read(directory / version, name)
        except FileNotFoundError:
            # A writer pruned this version after we read the pointer, so the pointer has moved on: read it
            # again. If it still names the same version, that version is really gone.
            if _read_pointer(pointer) == version:
                raise IndexCorruptError(f"{pointer}: names {version}, which is missing or incomplete") from None
    raise IndexCorruptError(f"{pointer}: changed during each of {_LOAD_ATTEMPTS} reads; retry later")


def _read_pointer(pointer: Path) -> str | None:
    try:
        return pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def _read_version(version_dir: Path, name: str) -> tuple[list[str], FloatMatrix, _SavedGraph | None]:
    """Read and verify one version directory; ``FileNotFoundError`` passes through for the caller's retry."""
    vectors_name, ids_name, meta_name = _file_names(name)
    meta_path, ids_path, vectors_path = (
        version_dir / meta_name,
        version_dir / ids_name,
        version_dir / vectors_name,
    )
    meta = _parse_json(meta_path, meta_path.read_bytes())
    ids_json = ids_path.read_bytes()
    try:
        vectors = np.load(vectors_path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as error:
        raise IndexCorruptError(f"{vectors_path}: not a readable .npy array ({error})") from error
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT_VERSION:
        raise IndexCorruptError(f"{meta_path}: not an index meta file of format {_FORMAT_VERSION}")
    ids = _parse_json(ids_path, ids_json)
    if not isinstance(ids, list) or not all(isinstance(label, str) for label in ids):
        raise IndexCorruptError(f"{ids_path}: expected a JSON list of string ids")
    if len(set(ids)) != len(ids):
        raise IndexCorruptError(f"{ids_path}: contains duplicate ids")
    expected_shape = (meta.get("count"), meta.get("dimension"))
    if vectors.shape != expected_shape or len(ids) != meta.get("count"):
        raise IndexCorruptError(
            f"{version_dir}: meta says {expected_shape[0]} vectors of dimension {expected_shape[1]}, "
            f"found {len(ids)} ids and vectors of shape {vectors.shape}"
        )
    if vectors.dtype != np.dtype("<f4") or _checksum(vectors, ids_json) != meta.get("checksum"):
        raise IndexCorruptError(f"{version_dir}: checksum mismatch, the files were altered or do not belong together")
    return ids, vectors.astype(np.float32, copy=False), _read_graph(version_dir / _graph_name(name), meta.get("graph"))


def _read_graph(path: Path, described: Any) -> _SavedGraph | None:
    """The saved HNSW graph the meta file describes, verified; ``None`` when none was saved."""
    if described is None:
        return None
    if not isinstance(described, dict) or not isinstance(described.get("hnsw_m"), int):
        raise IndexCorruptError(f"{path}: the meta file describes the graph wrongly: {described!r}")
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    if hashlib.sha256(data.tobytes()).hexdigest() != described.get("checksum"):
        raise IndexCorruptError(f"{path}: checksum mismatch, the graph was altered or belongs to another save")
    return _SavedGraph(path, data, described["hnsw_m"])


def _parse_json(path: Path, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexCorruptError(f"{path}: not valid JSON ({error})") from error


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        _flush(handle)


def _flush(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make renames inside ``directory`` durable (POSIX only: Windows cannot open a directory like this)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _exclusive_lock(path: Path) -> filelock.BaseFileLock:
    """Serialise writers of one index across threads and processes: ``flock`` on POSIX, ``msvcrt`` locking on
    Windows (the hand-written ``fcntl`` lock did nothing there). Blocks until free; the lock file stays in place so
    that every waiter locks the same inode."""
    return filelock.FileLock(path)


# --- compact (quantised) indexes ---------------------------------------------------------------------------

_COMPACT_FORMAT = 1


class CompactIndex:
    """A read-only index of many vectors held as 4-bit scalar-quantised codes in an inverted file (FAISS
    ``IVF,SQ4``).

    Why: uno's log index holds one vector per learnt log, by far the largest structure of a big store. A float32
    vector of MiniLM's 384 dimensions takes 1,536 bytes (and HNSW adds its graph); 4 bits per dimension plus an
    8-byte label take 200. Scalar quantisation needs no codebook training (product quantisation's k-means over
    every sub-space took minutes on 30k vectors here; the inverted file's coarse k-means, on a sample, takes
    seconds). Scores are approximate (the query is compared with each vector's codes, not the vector): recall of
    the neighbour step against exact search is in the pull request's figures. Built whole from its vectors
    (``build``, at build time), saved atomically like :class:`FaissIndex` (version directory and pointer file)
    as one FAISS file, and loaded memory-mapped (``IO_FLAG_MMAP``): the codes stay in the page cache, shared by
    every process that serves the store, not in each one's private memory. Searches are thread-safe (read-only
    structure).
    """

    # Fewer vectors cannot train the coarse quantiser.
    MIN_VECTORS = 256

    def __init__(self, structure: faiss.Index, ids: list[str], nprobe: int) -> None:
        import faiss

        self._structure = structure
        self._ids = ids
        self._positions = {label: position for position, label in enumerate(ids)}
        self._nprobe = nprobe
        faiss.extract_index_ivf(structure).nprobe = nprobe

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: FloatMatrix,
        *,
        nprobe: int = 32,
        train_size: int = 30_000,
        seed: int = 0,
    ) -> CompactIndex:
        """Train the coarse quantiser (``sqrt(n)`` lists, at least 39 training vectors each) and the per-dimension
        ranges on up to ``train_size`` of the vectors (a fixed sample), then add them all; a query searches the
        ``nprobe`` nearest lists."""
        import faiss

        labels = _check_ids(ids)
        dimension = int(np.asarray(vectors).shape[1]) if np.asarray(vectors).ndim == 2 else 0
        rows = _unit(vectors, dimension, labels)
        if len(rows) < cls.MIN_VECTORS:
            raise ValueError(f"a compact index needs at least 256 vectors to train on, got {len(rows)}")
        sampled = min(len(rows), train_size)
        lists = max(1, min(int(np.sqrt(len(rows))), sampled // 39))
        structure = faiss.index_factory(dimension, f"IVF{lists},SQ4", faiss.METRIC_INNER_PRODUCT)
        sample = rows
        if len(rows) > train_size:
            chosen = np.random.default_rng(seed).choice(len(rows), train_size, replace=False)
            sample = rows[np.sort(chosen)]
        structure.train(sample)
        structure.add(rows)
        return cls(structure, labels, nprobe)

    @property
    def dimension(self) -> int:
        return int(self._structure.d)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item: object) -> bool:
        return item in self._positions

    def ids(self) -> list[str]:
        return list(self._ids)

    def search(self, queries: FloatMatrix, k: int) -> SearchResult:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise ValueError(f"k must be a non-negative integer, got {k!r}")
        rows = _unit(queries, self.dimension, None)
        limit = min(int(k), len(self._ids))
        if limit == 0:
            return [[] for _ in range(len(rows))]
        scores, positions = self._structure.search(rows, limit)
        return [
            [(self._ids[position], float(score)) for score, position in zip(*hits, strict=True) if position >= 0]
            for hits in zip(scores, positions, strict=True)
        ]

    def save(self, directory: Path, name: str) -> None:
        """Atomically, as ``<name>.compact``: the FAISS file, the ids and a meta file with their checksum."""
        import faiss

        _check_name(name)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        ids_json = json.dumps(self._ids, ensure_ascii=False).encode("utf-8")

        def fill(staging: Path) -> None:
            faiss.write_index(self._structure, str(staging / "index.faiss"))
            _write_bytes(staging / "ids.json", ids_json)
            meta = {
                "format": _COMPACT_FORMAT,
                "dimension": self.dimension,
                "count": len(self._ids),
                "nprobe": self._nprobe,
                "checksum": _file_checksum(staging / "index.faiss", ids_json),
            }
            _write_bytes(staging / "meta.json", json.dumps(meta, indent=2).encode("utf-8"))

        _commit_version(directory, _compact_name(name), fill)

    @classmethod
    def load(cls, directory: Path, name: str, *, mmap: bool = True) -> CompactIndex | None:
        """What :meth:`save` wrote (memory-mapped unless ``mmap=False``); ``None`` when nothing was saved."""
        _check_name(name)
        return _read_current(Path(directory), _compact_name(name), lambda version, _: _read_compact(version, mmap))


def retire_saved(directory: Path, name: str, *, compact: bool) -> None:
    """Remove the pointer of the compact (``compact=True``) or the exact save of ``name``: it loads as nothing.

    The version directories stay until pruned, so a reader that resolved the pointer already can finish."""
    pointer = Path(directory) / f"{_compact_name(name) if compact else name}.CURRENT"
    pointer.unlink(missing_ok=True)


def _compact_name(name: str) -> str:
    return f"{name}.compact"


def _file_checksum(path: Path, ids_json: bytes) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(ids_json)
    return digest.hexdigest()


def _read_compact(version_dir: Path, mmap: bool) -> CompactIndex:
    import faiss

    meta_path, ids_path, index_path = version_dir / "meta.json", version_dir / "ids.json", version_dir / "index.faiss"
    meta = _parse_json(meta_path, meta_path.read_bytes())
    ids_json = ids_path.read_bytes()
    if not isinstance(meta, dict) or meta.get("format") != _COMPACT_FORMAT:
        raise IndexCorruptError(f"{meta_path}: not a compact index meta file of format {_COMPACT_FORMAT}")
    ids = _parse_json(ids_path, ids_json)
    if not isinstance(ids, list) or not all(isinstance(label, str) for label in ids) or len(set(ids)) != len(ids):
        raise IndexCorruptError(f"{ids_path}: expected a JSON list of distinct string ids")
    if _file_checksum(index_path, ids_json) != meta.get("checksum"):
        raise IndexCorruptError(f"{version_dir}: checksum mismatch, the files were altered or do not belong together")
    flags = (faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY) if mmap else 0
    try:
        structure = faiss.read_index(str(index_path), flags)
    except RuntimeError as error:
        raise IndexCorruptError(f"{index_path}: not a readable FAISS index ({error})") from error
    if structure.ntotal != len(ids) or structure.d != meta.get("dimension") or len(ids) != meta.get("count"):
        raise IndexCorruptError(f"{version_dir}: meta, ids and index disagree on the count or the dimension")
    nprobe = meta.get("nprobe")
    return CompactIndex(structure, ids, nprobe if isinstance(nprobe, int) and nprobe > 0 else 32)
