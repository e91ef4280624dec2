"""Serving LoRA adapters: in-process with transformers + peft, or on a vLLM server that loads them at runtime.

:class:`PeftLLM` is a :class:`~uno.llm.local.TransformersLLM` that keeps one copy of the base weights and any number
of peft LoRA adapters beside them; :meth:`PeftLLM.with_adapter` gives an :class:`~uno.llm.LLM` whose calls run with
one adapter active (or with none). Each adapter view has its own model name, so the response cache and the ledger
never mix an adapter's answers with the base model's, or with another version's.

:func:`register_vllm_adapter` / :func:`unregister_vllm_adapter` drive vLLM's runtime LoRA endpoints (a server started
with ``--enable-lora`` and ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``); the adapter is then called by its name, like
any other model the server serves.

Adapters are described by anything with ``name``, ``path`` and ``base_model`` (:class:`AdapterRef`), such as
``rule_store.records.Adapter``. torch, peft and httpx are imported only when used.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rule_store.records import stable_hash
from uno.ledger import Ledger, ResponseCache
from uno.llm.base import LLM, LLMError
from uno.llm.local import TransformersLLM

if TYPE_CHECKING:
    import httpx

ADAPTER_CONFIG = "adapter_config.json"
_ERROR_BODY_CHARS = 500


class AdapterRef(Protocol):
    """What serving needs to know of an adapter (``rule_store.records.Adapter`` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str | None: ...

    @property
    def base_model(self) -> str: ...


class AdapterServingError(RuntimeError):
    """A server refused, or could not be asked, to load or unload an adapter."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class _Registered:
    """An adapter known to a :class:`PeftLLM`: its files and a digest of their content."""

    name: str
    path: Path
    digest: str
    # (file name, size, mtime) of the adapter files: unchanged files are not hashed again.
    stamp: tuple[tuple[str, int, int], ...] = ()

    @property
    def key(self) -> str:
        # peft keeps adapters in ModuleDicts, whose keys may not contain '.', which serving names may.
        return "uno_" + stable_hash(self.name, length=16)


def _adapter_files(directory: Path) -> list[Path]:
    return [file for file in sorted(directory.glob("adapter_*")) if file.is_file()]


def adapter_digest(path: str | os.PathLike[str]) -> str:
    """A short content hash of the peft adapter in directory ``path`` (its config and weight files)."""
    hasher = hashlib.sha256()
    for file in _adapter_files(Path(path)):
        hasher.update(file.name.encode())
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(chunk)
    return hasher.hexdigest()[:12]


def _registration(name: str, path: str | os.PathLike[str], known: _Registered | None = None) -> _Registered:
    """``name`` served from ``path``, after checking it holds an adapter; ``known`` is reused if its files are."""
    if not name:
        raise ValueError("an adapter needs a non-empty name to be served")
    source = Path(path).expanduser().resolve()
    if not (source / ADAPTER_CONFIG).is_file():
        raise FileNotFoundError(f"no peft adapter for {name!r} at {source} (no {ADAPTER_CONFIG})")
    stamp = tuple((file.name, file.stat().st_size, file.stat().st_mtime_ns) for file in _adapter_files(source))
    if known is not None and known.name == name and known.path == source and known.stamp == stamp:
        return known
    return _Registered(name=name, path=source, digest=adapter_digest(source), stamp=stamp)


class PeftLLM(TransformersLLM):
    """A local transformers model that applies peft LoRA adapters per call.

    The base model loads on the first call; it is wrapped with peft only once an adapter is loaded, and unwrapped
    again when the last one is unloaded. Calls on this object itself run the base model (adapters disabled);
    :meth:`with_adapter` gives views that run one adapter. All views share this object's weights, generation lock,
    ledger and cache. Adapters passed to the constructor are checked at once but loaded on first use.

    An adapter applies to this model when its ``base_model`` is this model's directory (any spelling of the path
    that resolves to it), the directory's name, or this LLM's :attr:`model` name.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        *,
        adapters: Mapping[str, str | os.PathLike[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model_dir, **kwargs)
        self._registry: dict[str, _Registered] = {
            name: _registration(name, path) for name, path in (adapters or {}).items()
        }
        self._attached: set[str] = set()  # names whose weights are in the peft model now
        self._views: dict[_Registered, _AdapterView] = {}
        self._views_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PeftLLM(model_dir={str(self.model_dir)!r}, adapters={self.adapter_names!r})"

    # --- identity

    @property
    def base_model_id(self) -> str:
        """The identity adapters trained on this model record as ``base_model``: the resolved model directory."""
        return str(self.model_dir.resolve())

    def matches_base(self, base_model: str) -> bool:
        """Whether an adapter trained on ``base_model`` applies here (see the class docstring for the rule)."""
        if base_model in (self.model, self.model_dir.name):
            return True
        return Path(base_model).expanduser().resolve() == self.model_dir.resolve()

    # --- adapters

    @property
    def adapter_names(self) -> list[str]:
        """The adapters this model knows (loaded, or given to the constructor and not yet used), sorted."""
        return sorted(self._registry)

    def load_adapter(self, name: str, path: str | os.PathLike[str]) -> None:
        """Load the peft adapter in ``path`` under ``name``.

        A no-op when ``name`` is loaded from the same files already; other files under a known name replace it.
        """
        entry = _registration(name, path, self._registry.get(name))
        self._loaded()
        with self._generate_lock:
            if self._registry.get(name) == entry and name in self._attached:
                return
            if name in self._attached:
                self._detach(name)
                self._forget_views(name)
            self._attach(entry)
            self._registry[name] = entry

    def unload_adapter(self, name: str) -> None:
        """Forget adapter ``name`` and free its weights; views made for it fail from then on."""
        with self._generate_lock:
            if name not in self._registry:
                raise KeyError(f"no adapter named {name!r} (known: {self.adapter_names})")
            if name in self._attached:
                self._detach(name)
            del self._registry[name]
        self._forget_views(name)

    def with_adapter(self, adapter: AdapterRef | str | None) -> LLM:
        """An LLM whose calls run with ``adapter`` active: a known adapter's name, or a record to load (checked
        against this base model first). ``None`` gives the base model (this object)."""
        if adapter is None:
            return self
        if isinstance(adapter, str):
            entry = self._registry.get(adapter)
            if entry is None:
                raise KeyError(f"no adapter named {adapter!r} (known: {self.adapter_names})")
            self.load_adapter(entry.name, entry.path)
            return self._view(adapter)
        if not self.matches_base(adapter.base_model):
            raise ValueError(
                f"adapter {adapter.name!r} was trained on {adapter.base_model!r}, not on this model "
                f"({self.base_model_id!r}, served as {self.model!r})"
            )
        if adapter.path is None:
            raise ValueError(f"adapter {adapter.name!r} has no weights (its path is None)")
        self.load_adapter(adapter.name, adapter.path)
        return self._view(adapter.name)

    def _view(self, name: str) -> _AdapterView:
        entry = self._registry[name]
        with self._views_lock:
            view = self._views.get(entry)
            if view is None:
                view = self._views[entry] = _AdapterView(self, entry)
            return view

    def _forget_views(self, name: str) -> None:
        with self._views_lock:
            for entry in [entry for entry in self._views if entry.name == name]:
                del self._views[entry]

    # --- the peft model (callers hold the generation lock)

    def _attach(self, entry: _Registered) -> None:
        if self._attached:
            self._network.load_adapter(str(entry.path), adapter_name=entry.key)
        else:
            from peft import PeftModel

            self._network = PeftModel.from_pretrained(self._network, str(entry.path), adapter_name=entry.key)
        self._network.eval()
        self._attached.add(entry.name)

    def _detach(self, name: str) -> None:
        if self._attached == {name}:
            # peft keeps empty LoRA layers after deleting the last adapter: unwrap to the plain base model instead.
            self._network = self._network.unload()
        else:
            self._network.delete_adapter(self._registry[name].key)
        self._attached.discard(name)

    def _generation_context(self, model: Any) -> AbstractContextManager[Any]:
        return self._base_context()

    @contextmanager
    def _base_context(self) -> Iterator[Any]:
        network = self._network
        if not self._attached:
            yield network
            return
        with network.disable_adapter():
            yield network

    @contextmanager
    def _adapter_context(self, entry: _Registered) -> Iterator[Any]:
        if self._registry.get(entry.name) != entry or entry.name not in self._attached:
            raise LLMError(
                f"adapter {entry.name!r} ({entry.path}) was unloaded or replaced since this view was made; "
                "call with_adapter again"
            )
        self._network.set_adapter(entry.key, inference_mode=True)
        yield self._network


class _AdapterView(TransformersLLM):
    """A :class:`PeftLLM` with one adapter active: its weights, lock, ledger and cache, under its own model name.

    The name carries the adapter's content digest, so replacing an adapter's files under the same name never
    serves cached answers of the old weights.
    """

    def __init__(self, owner: PeftLLM, entry: _Registered) -> None:
        super().__init__(
            owner.model_dir,
            name=f"{owner.model}+lora:{entry.name}@{entry.digest[:8]}",
            temperature=owner.temperature,
            max_tokens=owner.max_tokens,
            ledger=owner.ledger,
            use_cache=owner.use_cache,
            seed=owner.seed,
        )
        self._owner = owner
        self._entry = entry
        # One generate at a time across the base and all views: the active adapter is model-wide state.
        self._generate_lock = owner._generate_lock

    def __repr__(self) -> str:
        return f"PeftLLM adapter view(model={self.model!r}, path={str(self._entry.path)!r})"

    @property
    def adapter_name(self) -> str:
        return self._entry.name

    @property
    def ledger(self) -> Ledger:
        return self._owner.ledger

    @property
    def cache(self) -> ResponseCache | None:
        return self._owner.cache

    def bind_store(self, root: str | os.PathLike[str]) -> None:
        self._owner.bind_store(root)

    def _loaded(self) -> tuple[Any, Any]:
        return self._owner._loaded()

    def _generation_context(self, model: Any) -> AbstractContextManager[Any]:
        return self._owner._adapter_context(self._entry)


# --- vLLM runtime LoRA loading


def vllm_load_request(adapter: AdapterRef) -> dict[str, str]:
    """The body of vLLM's ``/v1/load_lora_adapter`` for ``adapter`` (its path as the server will read it)."""
    if not adapter.name:
        raise ValueError("an adapter needs a non-empty name to be served")
    if adapter.path is None:
        raise ValueError(f"adapter {adapter.name!r} has no weights (its path is None)")
    return {"lora_name": adapter.name, "lora_path": str(adapter.path)}


def register_vllm_adapter(
    base_url: str, adapter: AdapterRef, *, api_key: str | None = None, timeout: float = 30.0
) -> str:
    """Load ``adapter`` into the vLLM server at ``base_url`` and return the model name to call it by.

    An adapter of that name already loaded counts as success: vLLM keeps the weights it loaded first, so give
    each adapter version its own name. Raises :class:`AdapterServingError` on any other failure.
    """
    body = vllm_load_request(adapter)
    response = _post_to_vllm(base_url, "load_lora_adapter", body, api_key, timeout)
    if response.status_code == 200:
        return adapter.name
    if response.status_code == 400 and "already been loaded" in response.text.lower():
        return adapter.name
    raise _refused(f"vLLM refused to load LoRA adapter {adapter.name!r} from {body['lora_path']}", response)


def unregister_vllm_adapter(base_url: str, name: str, *, api_key: str | None = None, timeout: float = 30.0) -> None:
    """Unload adapter ``name`` from the vLLM server at ``base_url``; raises :class:`AdapterServingError` on failure."""
    response = _post_to_vllm(base_url, "unload_lora_adapter", {"lora_name": name}, api_key, timeout)
    if response.status_code != 200:
        raise _refused(f"vLLM refused to unload LoRA adapter {name!r}", response)


def vllm_endpoint(base_url: str, route: str) -> str:
    """``<server>/v1/<route>`` for a base URL given with or without its ``/v1`` suffix."""
    root = base_url.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    return f"{root}/v1/{route}"


def _post_to_vllm(
    base_url: str, route: str, body: dict[str, str], api_key: str | None, timeout: float
) -> httpx.Response:
    import httpx

    url = vllm_endpoint(base_url, route)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        return httpx.post(url, json=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise AdapterServingError(f"could not reach vLLM at {url}: {type(exc).__name__}: {exc}") from exc


def _refused(what: str, response: httpx.Response) -> AdapterServingError:
    text = response.text
    clipped = text if len(text) <= _ERROR_BODY_CHARS else text[:_ERROR_BODY_CHARS] + "..."
    status = response.status_code
    return AdapterServingError(f"{what}: HTTP {status}: {clipped}", status=status, body=text)


__all__ = [
    "AdapterRef",
    "AdapterServingError",
    "PeftLLM",
    "adapter_digest",
    "register_vllm_adapter",
    "unregister_vllm_adapter",
    "vllm_endpoint",
    "vllm_load_request",
]
