"""Peak resident memory of a phase of the run, sampled from ``/proc/self/statm`` (Linux).

tracemalloc would miss FAISS's and torch's native allocations and slow Python code down severalfold, which would
distort the timings taken in the same phase. Instead a thread samples the process's resident set size every few
milliseconds; a phase's figure is its peak minus the resident size when it started, after a garbage collection
and ``malloc_trim`` have handed freed memory back to the system. Methods run one after another, so the increase is
theirs; short spikes between two samples can be missed. Where ``/proc`` is unavailable the figures are None.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
from pathlib import Path
from types import TracebackType

_STATM = Path("/proc/self/statm")
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """The process's current resident set size, or None where ``/proc/self/statm`` is missing."""
    try:
        return int(_STATM.read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def release_free_memory() -> None:
    """Collect garbage and ask glibc to return freed heap pages to the system (no-op elsewhere)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


class PeakRSS:
    """Context manager: ``with PeakRSS() as peak: ...``, then ``peak.increase_mb`` and ``peak.peak_mb``."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.start_bytes: int | None = None
        self.peak_bytes: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRSS:
        release_free_memory()
        self.start_bytes = self.peak_bytes = resident_bytes()
        if self.start_bytes is not None:
            self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._record()

    def _record(self) -> None:
        current = resident_bytes()
        if current is not None and (self.peak_bytes is None or current > self.peak_bytes):
            self.peak_bytes = current

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._record()

    @property
    def peak_mb(self) -> float | None:
        return None if self.peak_bytes is None else self.peak_bytes / 2**20

    @property
    def increase_mb(self) -> float | None:
        if self.peak_bytes is None or self.start_bytes is None:
            return None
        return (self.peak_bytes - self.start_bytes) / 2**20
