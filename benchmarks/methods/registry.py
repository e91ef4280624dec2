"""Methods by name, as the command line selects them."""

from __future__ import annotations

from pathlib import Path

from benchmarks.embedding import EmbedderStack
from benchmarks.methods.base import Method, NoMemory
from benchmarks.methods.cipher import CipherStyle
from benchmarks.methods.mem0_method import DEFAULT_NATIVE_LOGS, Mem0Search, mem0_status
from benchmarks.methods.rag import BM25Rag, EmbeddingRag
from benchmarks.methods.uno_method import UnoMethod

METHOD_KEYS: tuple[str, ...] = ("no-memory", "uno", "bm25-m", "bm25-s", "emb-m", "emb-s", "cipher", "mem0")


class MethodUnavailable(RuntimeError):
    """A method that cannot run in this environment (e.g. mem0 not installed); the reason is the message."""


def make_method(
    key: str, stack: EmbedderStack, workdir: Path, *, mem0_native_logs: int = DEFAULT_NATIVE_LOGS
) -> Method:
    """A fresh, unfitted method; ``workdir`` is where it may keep files. Raises ``MethodUnavailable``."""
    workdir.mkdir(parents=True, exist_ok=True)
    if key == "no-memory":
        return NoMemory()
    if key == "uno":
        return UnoMethod(stack.outer, stack.model, workdir / "uno")
    if key in ("bm25-m", "bm25-s"):
        return BM25Rag("message" if key.endswith("m") else "session")
    if key in ("emb-m", "emb-s"):
        return EmbeddingRag("message" if key.endswith("m") else "session", stack.outer, stack.model)
    if key == "cipher":
        return CipherStyle(stack.outer, stack.model)
    if key == "mem0":
        available, detail = mem0_status()
        if not available:
            raise MethodUnavailable(f"mem0ai is not importable here ({detail})")
        return Mem0Search(stack.outer, stack.model, workdir / "mem0", native_logs=mem0_native_logs)
    raise ValueError(f"unknown method {key!r}; known: {', '.join(METHOD_KEYS)}")


def parse_method_keys(text: str) -> tuple[str, ...]:
    """``"uno,bm25-s"`` -> ``("uno", "bm25-s")``; ``"all"`` -> every method. Unknown names are an error."""
    keys = METHOD_KEYS if text.strip() == "all" else tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in keys if k not in METHOD_KEYS]
    if unknown or not keys:
        raise ValueError(f"unknown method(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(METHOD_KEYS)}")
    return keys
