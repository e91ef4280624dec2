"""Logs that teach uno three rules (short answers on roasting, yes/no on subscriptions, bullet points on
packing lists), and the fast memory the integration tests use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uno import UnoMemory
from uno.cluster import ClusteringConfig
from uno.embed import HashingEmbedder

ROASTING = [
    "How long should I roast a whole chicken in the oven?",
    "How long should I roast a chicken breast in the oven?",
    "How long do I roast chicken thighs in the oven?",
    "How long should I roast a small chicken in the oven at 200C?",
    "How long to roast a stuffed chicken in the oven?",
    "How long should I roast chicken legs in the oven?",
]
SUBSCRIPTION = [
    "Can I cancel my subscription plan at any time?",
    "Can I pause my subscription plan at any time?",
    "Can I change my subscription plan at any time?",
    "Can I downgrade my subscription plan at any time?",
    "Can I upgrade my subscription plan at any time?",
    "Can I transfer my subscription plan at any time?",
]
PACKING = [
    "What should I pack for a weekend hiking trip in the mountains?",
    "What should I pack for a week long hiking trip in the mountains?",
    "What should I pack for a day hiking trip in the mountains?",
]
LONG_ANSWER = (
    "Great question! Roasting times depend on many things. First, preheat the oven. Then season the bird well. "
    "Cook it until the juices run clear and the thermometer reads the right temperature. " * 4
)
PLAN_ANSWER = "Sure! There are several things to consider about your plan, billing cycles and refunds. " * 3
PACKING_ANSWER = "You will want good boots, a rain jacket, water, snacks, a map and a first aid kit, and more."
ROAST_QUERY = "How long should I roast a duck in the oven?"
PLAN_QUERY = "Can I cancel my subscription plan today?"
UNRELATED_QUERY = "Explain quantum entanglement to a physicist"


def plain(user: str, query: str, response: str, followup: str) -> dict[str, Any]:
    return {"user_id": user, "query": query, "response": response, "feedback": [{"kind": "followup", "text": followup}]}


def training_logs(prefix: str = "") -> list[dict[str, Any]]:
    """15 logs from 15 users: each group's follow-ups say the same thing in different words."""
    shorter = ["too long, keep it short", "way too long. shorter please", "can you keep it brief?"]
    yes_no = ["no, only YES or NO", "just say yes or no", "I only want a yes or no answer"]
    logs = [plain(f"{prefix}cook{n}", q, LONG_ANSWER, shorter[n % 3]) for n, q in enumerate(ROASTING)]
    logs += [plain(f"{prefix}sub{n}", q, PLAN_ANSWER, yes_no[n % 3]) for n, q in enumerate(SUBSCRIPTION)]
    logs += [plain(f"{prefix}hike{n}", q, PACKING_ANSWER, "please use bullet points") for n, q in enumerate(PACKING)]
    return logs


def fast_memory(path: Path, **kwargs: Any) -> UnoMemory:
    """A real store (SQLite, FAISS) with the model-free hashing embedder: quick and deterministic."""
    return UnoMemory(
        path,
        embedder=HashingEmbedder(256),
        clustering=ClusteringConfig(similarity_floor=0.25, min_cluster_size=3),
        **kwargs,
    )


def trained_memory(path: Path, **kwargs: Any) -> UnoMemory:
    memory = fast_memory(path, **kwargs)
    memory.add_many(training_logs())
    memory.build()
    return memory
