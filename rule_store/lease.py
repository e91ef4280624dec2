"""Build leases: "one build of a namespace at a time", across every process that shares a store.

A lease is non-blocking (a second holder is refused with :class:`~rule_store.protocol.LeaseHeld` at once: a
build that waited for another would redo its work) and not re-entrant. Two kinds live here:

* :func:`file_lease`, for stores in a file: an OS lock (``flock``, ``msvcrt`` on Windows, through the
  ``filelock`` package the index already uses) on a lock file beside the database. The OS drops it when its
  holder dies, so a crashed build never leaves a stale lease behind.
* :class:`LocalLeases`, for stores only one process can see (``:memory:``): a set of held names under a lock.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import filelock

from rule_store.protocol import LeaseHeld

# What the holder file says when it cannot be read (written a moment after the lock is taken).
_UNKNOWN_HOLDER = "holder unknown"


def describe_holder() -> str:
    """Who holds a lease, for the message a refused holder reads: process, host and since when."""
    return f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC).isoformat(timespec='seconds')}"


def lease_files(database: str | os.PathLike[str], name: str) -> tuple[Path, Path]:
    """The lock file and the holder file of lease ``name`` beside ``database`` (the name is hashed: it may
    hold any character a namespace does)."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    base = Path(database)
    return base.with_name(f"{base.name}.lease-{digest}.lock"), base.with_name(f"{base.name}.lease-{digest}.holder")


@contextmanager
def file_lease(database: str | os.PathLike[str], name: str) -> Iterator[None]:
    """Hold lease ``name`` of the store in ``database``; :class:`LeaseHeld` at once if anyone else holds it.

    A fresh ``FileLock`` per call: filelock's lock objects are re-entrant, a lease must not be. The holder is
    written to a file of its own (taking the lock truncates the lock file, even when the lock is refused).
    """
    lock_path, holder_path = lease_files(database, name)
    lock = filelock.FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LeaseHeld(name, _read_holder(holder_path)) from None
    try:
        holder_path.write_text(describe_holder(), encoding="utf-8")
        yield
    finally:
        holder_path.unlink(missing_ok=True)
        lock.release()


def _read_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or _UNKNOWN_HOLDER
    except OSError:
        return _UNKNOWN_HOLDER


class LocalLeases:
    """Leases seen by one process only (an in-memory store): held names and their holders, under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, str] = {}

    @contextmanager
    def lease(self, name: str) -> Iterator[None]:
        with self._lock:
            holder = self._held.get(name)
            if holder is not None:
                raise LeaseHeld(name, holder)
            self._held[name] = f"thread {threading.current_thread().name}, {describe_holder()}"
        try:
            yield
        finally:
            with self._lock:
                del self._held[name]
