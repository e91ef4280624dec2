"""The methods a benchmark run compares: uno and its baselines, behind one small protocol."""

from benchmarks.methods.base import EMPTY_CONTEXT, FitStats, InjectedContext, InjectedItem, Method, NoMemory
from benchmarks.methods.chunks import Chunk, Turn, message_chunks, message_turns, session_chunk, session_text
from benchmarks.methods.cipher import CipherStyle
from benchmarks.methods.mem0_method import Mem0Search, mem0_status
from benchmarks.methods.rag import BM25Rag, EmbeddingRag
from benchmarks.methods.uno_method import CountingLLM, UnoMethod

__all__ = [
    "EMPTY_CONTEXT",
    "BM25Rag",
    "Chunk",
    "CipherStyle",
    "CountingLLM",
    "EmbeddingRag",
    "FitStats",
    "InjectedContext",
    "InjectedItem",
    "Mem0Search",
    "Method",
    "NoMemory",
    "Turn",
    "UnoMethod",
    "mem0_status",
    "message_chunks",
    "message_turns",
    "session_chunk",
    "session_text",
]
