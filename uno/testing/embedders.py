"""Embedders for tests: the model-free :class:`HashingEmbedder` and a wrapper that records every call."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from uno.embed import Embedder, HashingEmbedder

__all__ = ["CountingEmbedder", "HashingEmbedder"]


class CountingEmbedder:
    """Wraps an :class:`~uno.embed.Embedder` and records the texts of every ``embed`` call.

    ``name`` overrides the inner embedder's name, e.g. to make two different models collide in a cache.
    """

    def __init__(self, inner: Embedder, *, name: str | None = None):
        self._inner = inner
        self._name = name
        self._lock = threading.Lock()
        self.batches: list[list[str]] = []

    @property
    def name(self) -> str:
        return self._inner.name if self._name is None else self._name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    @property
    def calls(self) -> int:
        """How many times ``embed`` was called."""
        return len(self.batches)

    @property
    def texts_embedded(self) -> int:
        """How many texts all the calls together embedded."""
        return sum(len(batch) for batch in self.batches)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        with self._lock:
            self.batches.append(list(texts))
        return self._inner.embed(texts)
