"""Progress bars for long work (the stages of ``build``, ``train``): tqdm on a terminal, nothing elsewhere.

A bar is drawn only when the caller asked for progress; the CLI asks when standard error is a terminal and
``--quiet`` was not given (see :func:`progress_wanted`), so logs and pipes stay clean. The bars that libraries draw
while loading models or mapping data sets (huggingface_hub, transformers, datasets) are switched off by
:func:`silence_library_bars`: they would interleave with ours and say nothing about uno's work.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from uno.embed import Embedder, FloatMatrix

# The order a build runs its stages in (each gets its own bar), and the one that follows when the reaction model
# (uno.reward) is due for retraining: it embeds every rated answer.
BUILD_STAGES = ("distil", "embed", "cluster", "gate", "index")
REWARD_STAGE = "reward"
_LIBRARY_SWITCHES = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}
# (module, function) that turns a library's bars off once it is imported.
_LIBRARY_OFF_SWITCHES = (
    ("huggingface_hub.utils", "disable_progress_bars"),
    ("transformers.utils.logging", "disable_progress_bar"),
    ("datasets.utils.logging", "disable_progress_bar"),
)

_FALLBACK_SIZE = os.terminal_size((80, 24))

Advance = Callable[[int], object]


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (a closed or odd stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_wanted(*, quiet: bool = False, stream: TextIO | None = None) -> bool:
    """Draw bars? Only on a terminal (standard error by default), and never when asked to be quiet."""
    return not quiet and is_terminal(sys.stderr if stream is None else stream)


def silence_library_bars() -> None:
    """Switch off the loading and mapping bars of huggingface_hub, transformers and datasets.

    The environment variables reach modules imported later (a variable the user set already is kept); modules
    already imported read them at import time, so they are told directly.
    """
    for name, value in _LIBRARY_SWITCHES.items():
        os.environ.setdefault(name, value)
    if os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] != "1":
        return
    for module, switch in _LIBRARY_OFF_SWITCHES:
        if module.partition(".")[0] in sys.modules:
            getattr(importlib.import_module(module), switch)()


def _bar_shape(stream: TextIO) -> dict[str, Any]:
    """tqdm's size arguments: follow the terminal's size, or a fixed 80x24 when the terminal reports none.

    A pseudo-terminal opened without a size (``script`` outside a terminal, CI runners, some containers) reports
    0 x 0, which tqdm reads as -1 rows and then draws nothing at all; it also sizes itself that way when asked for
    no size, so a fixed one is passed.
    """
    try:
        columns, lines = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        columns = lines = 0
    if columns > 0 and lines > 0:
        return {"dynamic_ncols": True}
    return {"ncols": _FALLBACK_SIZE.columns, "nrows": _FALLBACK_SIZE.lines}


def _ignore(n: int) -> None:
    return None


def _bar(name: str, total: int, unit: str) -> Any:
    from tqdm import tqdm

    shape = _bar_shape(sys.stderr)
    return tqdm(total=total, desc=f"{name:<7}", unit=unit, file=sys.stderr, mininterval=0.2, **shape)


@contextmanager
def stage(name: str, total: int, *, enabled: bool, unit: str = "item") -> Iterator[Advance]:
    """A bar for one stage of ``total`` units; yields the function that advances it (a no-op when disabled)."""
    if not enabled:
        yield _ignore
        return
    bar = _bar(name, total, unit)
    try:
        yield bar.update
    finally:
        bar.close()


class _EmbeddingBar:
    """An embedder that embeds in chunks and counts them on a bar, opened at its first call: work that may
    embed nothing (a model not due for retraining) draws no bar."""

    def __init__(self, embedder: Embedder, name: str, total: int, batch: int) -> None:
        self._embedder, self._name, self._total, self._batch = embedder, name, total, batch
        self._bar: Any = None

    @property
    def name(self) -> str:
        return self._embedder.name

    @property
    def dimension(self) -> int:
        return self._embedder.dimension

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        import numpy as np

        if self._bar is None:
            self._bar = _bar(self._name, self._total, "text")
        parts = []
        for start in range(0, len(texts), self._batch):
            chunk = list(texts[start : start + self._batch])
            parts.append(self._embedder.embed(chunk))
            self._bar.update(len(chunk))
        return np.concatenate(parts) if parts else self._embedder.embed(texts)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@contextmanager
def embedding_stage(
    name: str, embedder: Embedder, total: int, *, enabled: bool, batch: int = 500
) -> Iterator[Embedder]:
    """``embedder``, or (when enabled) one that draws a bar of ``total`` texts once it is first used."""
    if not enabled:
        yield embedder
        return
    counted = _EmbeddingBar(embedder, name, total, batch)
    try:
        yield counted
    finally:
        counted.close()


__all__ = [
    "BUILD_STAGES",
    "REWARD_STAGE",
    "embedding_stage",
    "is_terminal",
    "progress_wanted",
    "silence_library_bars",
    "stage",
]
