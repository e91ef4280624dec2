"""Where the parallel stages of a build run: in this process (the default) or on a Ray cluster.

``UnoMemory.build(executor=...)`` and ``uno build --executor`` take a spec:

- ``"local"``: in this process, as always (the default).
- ``"ray"``: a Ray instance started on this machine for the build (one worker per CPU), shut down after it.
- ``"ray://HOST:PORT"``: a running Ray cluster, through Ray Client (``ray start --head`` serves it on port 10001).

An :class:`Executor` object may be passed instead (e.g. ``RayExecutor(workers=2)``, reused across builds); a Ray
session already initialised in this process is used as it is, and left running.

What runs on the workers, and why only that:

- distillation of the pending logs, in batches; the distiller is sent once (``ray.put``) and shared by every
  worker. A distiller that calls an LLM stays in the driver: it waits on the network, not the CPU, its calls
  already run concurrently there, and its ledger and response cache are the store's own ``llm.sqlite``, which a
  worker on another machine cannot reach (see :func:`runs_on_workers`).
- embedding of the logs' queries and the rules: each worker holds a copy of the embedder, so a model loads once
  per worker and stays loaded for the rest of the build (and the next ones, while the executor is open). The
  store's embedding cache stays in the driver: only its misses are sent out.

The workers are a pool of Ray actors (``ray.util.ActorPool``), one per CPU, which take the next batch as they
finish one (see :class:`RayExecutor` for why actors rather than tasks).

Clustering is not split: :func:`uno.cluster.fit_clusters` fits one HDBSCAN over one k-NN graph of all the
namespace's learnt logs, with no partitions to spread. Gating, routing and indexing are cheap next to those two.
The store is written by the driver alone, after the workers answered, exactly as in a local build; results come
back in the order of their inputs, so a build on Ray gives the rules and clusters an in-process build gives. (A
transformer's vectors differ by ~1e-7 with the other texts of the batch they are encoded in, padding changing the
float rounding: the same noise as between an in-process build with progress bars, in chunks of 500, and one
without. The hashing embedder gives a text the same vector in any batch: builds are then equal to the bit.)

``ray`` is an optional extra (``pip install 'uno-memory[ray]'``), imported only when a Ray executor starts.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from uno.extras import require
from uno.progress import Advance, stage

if TYPE_CHECKING:
    from rule_store.records import LogRecord
    from uno.distill.base import Distillation, Distiller
    from uno.embed import Embedder

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")
Vectors = npt.NDArray[np.float32]

EXECUTOR_SPECS = "local, ray, or ray://HOST:PORT"
# Batches per worker when the caller names no batch size: enough to even out slow batches, few enough that a
# batch's round trip stays small next to its work.
_BATCHES_PER_WORKER = 4
_MAX_BATCH = 500
# Ray Client's port when a ray:// address names none (`ray start --head` serves it there).
_RAY_CLIENT_PORT = 10001


def _ignore(n: int) -> None:
    return None


class UnsendableError(TypeError):
    """An object (a distiller, an embedder) cannot be pickled, so it cannot be sent to another process."""


@runtime_checkable
class Executor(Protocol):
    """Runs a function over batches of items, somewhere, and gives back one result per batch, in order."""

    @property
    def name(self) -> str:
        """``local`` or ``ray``: what the build report and errors call it."""
        ...

    @property
    def in_process(self) -> bool:
        """True when everything runs in this process (a build then takes its usual, unchanged path)."""
        ...

    def map_batches(
        self, fn: Callable[[list[T]], R], items: Sequence[T], *, batch_size: int | None = None, advance: Advance = ...
    ) -> list[R]:
        """``fn`` over consecutive batches of ``items`` (the executor picks the size when ``None``)."""
        ...

    def map_batches_with(
        self,
        fn: Callable[[S, list[T]], R],
        state: S,
        items: Sequence[T],
        *,
        key: str,
        batch_size: int | None = None,
        advance: Advance = ...,
    ) -> list[R]:
        """``fn(state, batch)`` over batches, where ``state`` (a model) is sent once to each worker and kept there
        under ``key``: a later call with the same key reuses it, until :meth:`close`."""
        ...

    def close(self) -> None:
        """Stop what this executor started (workers, a Ray instance) and drop the states they held."""
        ...


def _batches(items: Sequence[T], size: int) -> list[list[T]]:
    if size < 1:
        raise ValueError(f"batch_size must be at least 1, got {size}")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


class InProcessExecutor:
    """Runs every batch here, one after the other: the default, and what a build did before executors."""

    name = "local"
    in_process = True

    def __init__(self) -> None:
        self._states: dict[str, Any] = {}

    def map_batches(
        self,
        fn: Callable[[list[T]], R],
        items: Sequence[T],
        *,
        batch_size: int | None = None,
        advance: Advance = _ignore,
    ) -> list[R]:
        out: list[R] = []
        for batch in _batches(items, batch_size or max(1, len(items))):
            out.append(fn(batch))
            advance(len(batch))
        return out

    def map_batches_with(
        self,
        fn: Callable[[S, list[T]], R],
        state: S,
        items: Sequence[T],
        *,
        key: str,
        batch_size: int | None = None,
        advance: Advance = _ignore,
    ) -> list[R]:
        held: S = self._states.setdefault(key, state)
        return self.map_batches(lambda batch: fn(held, batch), items, batch_size=batch_size, advance=advance)

    def close(self) -> None:
        self._states.clear()


IN_PROCESS: Executor = InProcessExecutor()


class _Worker:
    """The body of a Ray actor: runs batches, and keeps states (a model) across them under their keys."""

    def __init__(self) -> None:
        self.states: dict[str, Any] = {}

    def hold(self, key: str, state: Any) -> None:
        self.states.setdefault(key, state)

    def run(self, fn: Callable[[list[Any]], Any], batch: list[Any]) -> Any:
        return fn(batch)

    def run_with(self, key: str, fn: Callable[[Any, list[Any]], Any], batch: list[Any]) -> Any:
        return fn(self.states[key], batch)


class RayExecutor:
    """Runs batches on a pool of Ray actors, one per worker CPU, kept until :meth:`close`.

    Actors rather than tasks: a worker process imports uno (scikit-learn, the distillers' lexicons) and loads the
    embedding model once, then serves every batch of every stage, and of every build made with this executor.
    Tasks would start fresh worker processes whenever the pool of idle ones had been trimmed (e.g. after the
    embedding stage), paying those imports again.

    Args:
        address: a Ray cluster to join (``ray://HOST:PORT`` for Ray Client, or what ``ray.init`` accepts);
            ``None`` starts a Ray instance on this machine with ``workers`` CPUs.
        workers: CPUs of the local instance (default: this machine's); ignored when joining a cluster, whose
            CPUs are all used.

    Ray starts on first use (:meth:`start` starts it now); :meth:`close` kills the actors, and shuts Ray down if
    this executor started it.
    """

    name = "ray"
    in_process = False

    def __init__(self, address: str | None = None, *, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.address = address
        self.workers = workers
        # Seconds ``start`` took to start or join Ray (0 when a session was already running).
        self.startup_seconds = 0.0
        # How many actors this executor created: each imports uno and loads a model once.
        self.actors_created = 0
        self._ray: ModuleType | None = None
        self._started = False
        self._actors: list[Any] = []
        self._held: dict[str, int] = {}  # state key -> how many of the actors (the first ones) hold it

    def start(self) -> ModuleType:
        """Start (or join) Ray unless this process already has a session; return the ``ray`` module."""
        if self._ray is not None:
            return self._ray
        ray = require("ray", extra="ray", feature="building on Ray (executor='ray')")
        if not ray.is_initialized():
            started = time.perf_counter()
            if self.address is None:
                ray.init(address="local", num_cpus=self.workers or os.cpu_count() or 1, include_dashboard=False)
            else:
                try:
                    ray.init(address=self.address)
                except (ConnectionError, RuntimeError, ValueError) as error:
                    raise ConnectionError(f"cannot reach the Ray cluster at {self.address}: {error}") from error
            self._started = True
            self.startup_seconds = time.perf_counter() - started
        self._ray = ray
        return ray

    def worker_count(self) -> int:
        """The CPUs of the Ray session: how many batches run at once."""
        ray = self.start()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def _batch_size(self, n: int, asked: int | None) -> int:
        if asked is not None:
            return asked
        return max(1, min(_MAX_BATCH, math.ceil(n / (self.worker_count() * _BATCHES_PER_WORKER))))

    def _pool(self, ray: ModuleType, batches: int) -> Any:
        """An ActorPool over as many actors as there are batches, up to one per CPU (created on demand)."""
        from ray.util import ActorPool

        wanted = min(batches, self.worker_count())
        if len(self._actors) < wanted:
            # An actor holds its CPU for as long as it lives: never more actors than CPUs.
            worker = ray.remote(num_cpus=1)(_Worker)
            new = [worker.remote() for _ in range(wanted - len(self._actors))]
            self._actors.extend(new)
            self.actors_created += len(new)
        return ActorPool(self._actors[:wanted])

    def map_batches(
        self,
        fn: Callable[[list[T]], R],
        items: Sequence[T],
        *,
        batch_size: int | None = None,
        advance: Advance = _ignore,
    ) -> list[R]:
        if not items:
            return []
        ray = self.start()
        batches = _batches(items, self._batch_size(len(items), batch_size))
        pool = self._pool(ray, len(batches))
        shared = self._put(ray, fn)  # sent once; every actor reads the same copy from the object store
        return _ordered(pool.map(lambda actor, batch: actor.run.remote(shared, batch), batches), batches, advance)

    def map_batches_with(
        self,
        fn: Callable[[S, list[T]], R],
        state: S,
        items: Sequence[T],
        *,
        key: str,
        batch_size: int | None = None,
        advance: Advance = _ignore,
    ) -> list[R]:
        if not items:
            return []
        ray = self.start()
        batches = _batches(items, self._batch_size(len(items), batch_size))
        pool = self._pool(ray, len(batches))
        holding = self._held.get(key, 0)
        if holding < len(self._actors):
            shared = self._put(ray, state)
            ray.get([actor.hold.remote(key, shared) for actor in self._actors[holding:]])
            self._held[key] = len(self._actors)
        return _ordered(pool.map(lambda actor, batch: actor.run_with.remote(key, fn, batch), batches), batches, advance)

    def _put(self, ray: ModuleType, value: Any) -> Any:
        """``ray.put`` with a one-line reason when ``value`` does not pickle (Ray's own report is a page long)."""
        try:
            return ray.put(value)
        except TypeError as error:
            try:
                ray.cloudpickle.dumps(value)
            except Exception as root:
                raise UnsendableError(str(root)) from error
            raise

    def close(self) -> None:
        """Kill the actors (their CPUs go back to the cluster); shut Ray down if this executor started it."""
        actors, self._actors, self._held = self._actors, [], {}
        if self._ray is None:
            return
        for actor in actors:
            self._ray.kill(actor)
        if self._started:
            self._ray.shutdown()
        self._ray, self._started = None, False


def _ordered(results: Iterator[R], batches: list[list[Any]], advance: Advance) -> list[R]:
    """Collect an ActorPool's results (it yields them in the batches' order), advancing the bar per batch."""
    out: list[R] = []
    for batch, result in zip(batches, results, strict=True):
        out.append(result)
        advance(len(batch))
    return out


def parse_executor(spec: str) -> Executor:
    """The executor a spec names (``local``, ``ray``, ``ray://HOST:PORT``); a clear ``ValueError`` otherwise."""
    text = spec.strip()
    if text in ("", "local"):
        return InProcessExecutor()
    if text == "ray":
        return RayExecutor()
    if text.startswith("ray://"):
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"executor {spec!r}: a Ray address is ray://HOST:PORT, e.g. ray://127.0.0.1:10001")
        return RayExecutor(f"ray://{parts.hostname}:{port or _RAY_CLIENT_PORT}")
    raise ValueError(f"unknown executor {spec!r}: expected {EXECUTOR_SPECS}")


@contextmanager
def executor_for(executor: str | Executor) -> Iterator[Executor]:
    """The executor of one build: parsed from a spec (and closed after it), or the caller's own (left open: its
    workers, with their imports and models, serve the next build too)."""
    if isinstance(executor, str):
        runner = parse_executor(executor)
        try:
            yield runner
        finally:
            runner.close()
        return
    if not isinstance(executor, Executor):
        raise TypeError(f"executor must be a spec ({EXECUTOR_SPECS}) or an Executor, got {type(executor).__name__}")
    yield executor


# --- the build's stages


def runs_on_workers(executor: Executor, distiller: Distiller) -> bool:
    """Whether ``distiller`` is sent to the executor's workers: not for an in-process executor, and not for a
    distiller that calls an LLM (network-bound, concurrent already, and tied to the store's ledger and cache)."""
    return not executor.in_process and getattr(distiller, "llm", None) is None


def distill_on(
    executor: Executor, distiller: Distiller, logs: Sequence[LogRecord], *, progress: bool
) -> list[Distillation]:
    """Distil ``logs`` in batches on the executor's workers; the distillations come back in the logs' order."""
    with stage("distil", len(logs), enabled=progress, unit="log") as advance:
        try:
            parts = executor.map_batches(distiller.distill_many, logs, advance=advance)
        except UnsendableError as error:
            raise UnsendableError(
                f"the distiller {getattr(distiller, 'name', type(distiller).__name__)!r} cannot be sent to "
                f"{executor.name} workers ({error}): build with executor='local', or give it state that pickles"
            ) from error
    return [d for part in parts for d in part]


def _embed_batch(embedder: Embedder, texts: list[str]) -> Vectors:
    return embedder.embed(texts)


def embed_on(
    executor: Executor,
    embedder: Embedder,
    texts: Sequence[str],
    advance: Advance = _ignore,
    *,
    batch_size: int | None = None,
) -> Vectors:
    """Embed ``texts`` on the executor's workers, each holding a copy of the model; a
    :class:`uno.embed.CachedEmbedder` answers what it holds first, and caches what the workers computed."""
    from uno.embed import CachedEmbedder

    model = embedder.inner if isinstance(embedder, CachedEmbedder) else embedder
    sent = 0

    def compute(missing: list[str]) -> Vectors:
        nonlocal sent
        try:
            parts = executor.map_batches_with(
                _embed_batch, model, missing, key=f"embedder:{model.name}", batch_size=batch_size, advance=advance
            )
        except UnsendableError as error:
            raise UnsendableError(
                f"the embedder {model.name!r} cannot be sent to {executor.name} workers ({error}): build with "
                "executor='local', or give it state that pickles"
            ) from error
        sent += len(missing)
        return np.concatenate(parts) if parts else np.zeros((0, model.dimension), dtype=np.float32)

    vectors = embedder.embed_via(texts, compute) if isinstance(embedder, CachedEmbedder) else compute(list(texts))
    advance(len(texts) - sent)  # the cache hits
    return vectors


__all__ = [
    "EXECUTOR_SPECS",
    "IN_PROCESS",
    "Executor",
    "InProcessExecutor",
    "RayExecutor",
    "UnsendableError",
    "distill_on",
    "embed_on",
    "executor_for",
    "parse_executor",
    "runs_on_workers",
]
