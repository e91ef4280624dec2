"""The gold set: feedback turns of the real logs, labelled by hand (``gold/GUIDE.md`` says how).

Each item was read and labelled individually by an annotator following the guide; a second annotator labelled every
item again without seeing the first labels (``labels_second.jsonl``). Both annotators were AI agents of the
development team working item by item, not the logs' users or crowd workers: the labels are a careful reading of the
guide, and the agreement figures in the report say how stable that reading is.

An item is one user turn that replies to an assistant answer, with the conversation before it. Items are split into
``dev`` and ``test`` **by session** (a hash of the session id), so no user's turns straddle the split. Thresholds and
rules are tuned on ``dev`` only; ``test`` is read only by ``python -m benchmarks.real``.

``python -m benchmarks.real.gold select`` writes ``gold/items.jsonl`` (all oasst follow-ups plus a seeded sample of
HH follow-ups); the labels live in ``gold/labels.jsonl``, one JSON object per item.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from benchmarks.real.sources import Session, Source, Turn, load_sessions, short_hash
from uno.distill.turns import TurnKind

GOLD_DIR = Path(__file__).resolve().parent / "gold"
ITEMS_FILE = GOLD_DIR / "items.jsonl"
LABELS_FILE = GOLD_DIR / "labels.jsonl"
# A second, independent annotator's labels of the same items (written without seeing the first ones).
SECOND_LABELS_FILE = GOLD_DIR / "labels_second.jsonl"
HH_SAMPLE = 340
CONTEXT_TURNS = 4  # earlier messages shown to the annotator besides the answer and its question
Split = Literal["dev", "test"]


# The guide's kinds are uno's own (uno.distill.turns classifies into exactly these).
Kind = TurnKind


ON_ANSWER_KINDS = frozenset({Kind.PREFERENCE, Kind.CORRECTION, Kind.COMPLAINT, Kind.PRAISE})


def split_of(session_id: str) -> Split:
    """dev or test, fixed by the session id alone."""
    return "test" if int(short_hash(session_id, 8), 16) % 2 else "dev"


@dataclass(frozen=True)
class GoldItem:
    item_id: str
    source: Source
    session_id: str
    split: Split
    context: list[dict[str, str]]  # earlier messages on the branch, oldest first: {"role", "text"}
    query: str  # the user message the answer replied to
    response: str
    followup: str
    reactions: dict[str, int]  # oasst emoji counts on the answer

    @classmethod
    def from_turns(cls, session: Session, answer: Turn, reply: Turn) -> GoldItem:
        path = answer.path()
        before = path[:-2] if len(path) >= 2 else []
        query = path[-2].text if len(path) >= 2 else ""
        return cls(
            item_id=f"{session.session_id}:{reply.turn_id.split('/', 1)[1]}",
            source=session.source,
            session_id=session.session_id,
            split=split_of(session.session_id),
            context=[{"role": t.role, "text": t.text} for t in before[-CONTEXT_TURNS:]],
            query=query,
            response=answer.text,
            followup=reply.text,
            reactions=dict(answer.reactions),
        )


@dataclass(frozen=True)
class GoldLabel:
    item_id: str
    kind: Kind
    on_answer: bool
    rule: str  # the reusable preference as one imperative sentence; "" unless kind is preference
    harmful_request: bool  # the conversation seeks help with harm
    note: str = ""

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> GoldLabel:
        kind = Kind(str(raw["kind"]))
        rule = str(raw.get("rule") or "").strip()
        if kind is Kind.PREFERENCE and not rule:
            raise ValueError(f"{raw['item_id']}: a preference needs its rule")
        return cls(
            item_id=str(raw["item_id"]),
            kind=kind,
            on_answer=bool(raw.get("on_answer", kind in ON_ANSWER_KINDS)),
            rule=rule if kind is Kind.PREFERENCE else "",
            harmful_request=bool(raw.get("harmful_request", False)),
            note=str(raw.get("note") or ""),
        )


def all_items() -> list[GoldItem]:
    """Every follow-up of both sources, in a stable order."""
    items: list[GoldItem] = []
    sources: tuple[Source, ...] = ("hh", "oasst")
    for source in sources:
        for session in load_sessions(source):
            items.extend(GoldItem.from_turns(session, answer, reply) for answer, reply in session.followups())
    return items


def select_items() -> list[GoldItem]:
    """All oasst follow-ups and a seeded sample of HH follow-ups (sorted by a hash of the item id)."""
    items = all_items()
    oasst = [item for item in items if item.source == "oasst"]
    hh = sorted((item for item in items if item.source == "hh"), key=lambda i: short_hash("gold-v1:" + i.item_id))
    return oasst + hh[:HH_SAMPLE]


def write_items(path: Path = ITEMS_FILE) -> list[GoldItem]:
    items = select_items()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
    return items


def load_items(path: Path = ITEMS_FILE) -> list[GoldItem]:
    with path.open(encoding="utf-8") as handle:
        return [GoldItem(**json.loads(line)) for line in handle if line.strip()]


def load_labels(path: Path = LABELS_FILE) -> dict[str, GoldLabel]:
    labels: dict[str, GoldLabel] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                label = GoldLabel.parse(json.loads(line))
            except (ValueError, KeyError) as error:
                raise ValueError(f"{path}:{number}: {error}") from error
            labels[label.item_id] = label
    return labels


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["select", "summary"])
    args = parser.parse_args()
    if args.command == "select":
        items = write_items()
        print(f"{len(items)} items -> {ITEMS_FILE}", Counter((i.source, i.split) for i in items))
        return
    by_id = {item.item_id: item for item in load_items()}
    labels = load_labels()
    print(Counter((by_id[i].source, by_id[i].split, label.kind.value) for i, label in labels.items()))


if __name__ == "__main__":
    _main()
