"""Shared by the ingest tests: fixture files, and a generator of large plain JSONL files with known defects."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rule_store.records import LogRecord

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True)
class Expected:
    """What a valid generated line must become."""

    query: str
    response: str
    user_id: str
    feedback_kinds: tuple[str, ...]

    def matches(self, log: LogRecord) -> bool:
        return (log.query, log.response, log.user_id, tuple(f.kind.value for f in log.feedback)) == (
            self.query,
            self.response,
            self.user_id,
            self.feedback_kinds,
        )


@dataclass
class GeneratedFile:
    path: Path
    valid: dict[int, Expected] = field(default_factory=dict)
    # line -> a fragment its quarantine reason must contain
    bad: dict[int, str] = field(default_factory=dict)
    blank: set[int] = field(default_factory=set)

    @property
    def lines(self) -> int:
        return len(self.valid) + len(self.bad) + len(self.blank)


def _record(n: int) -> dict[str, Any]:
    variants: list[list[Any]] = [
        [f"Shorter please (log {n})."],
        [{"kind": "reaction", "value": "dislike"}, {"kind": "followup", "text": "Use bullet points."}],
        [{"kind": "rating", "value": n % 5 + 1}],
        [{"kind": "edit", "text": f"Corrected answer {n}."}],
    ]
    feedback = variants[n % 4]
    record: dict[str, Any] = {
        "user_id": f"user-{n % 7}",
        "query": f"Question {n}: how do I sort a list of {n} items?",
        "response": f"Use sorted() on the {n} items.",
        "feedback": feedback,
    }
    if n % 2 == 0:
        record["id"] = f"gen-{n}"
    return record


def _line(record: object) -> bytes:
    return json.dumps(record).encode() + b"\n"


# Each malformation: how to write line n, and what its quarantine reason must say.
MALFORMATIONS: list[tuple[Callable[[int], bytes], str]] = [
    (lambda n: _line(_record(n))[:-12] + b"\n", "invalid JSON at column"),
    (lambda n: _line({k: v for k, v in _record(n).items() if k != "response"}), "missing field `response`"),
    (lambda n: _line({**_record(n), "query": n}), "`query`: Input should be a valid string (got number)"),
    (
        lambda n: _line({**_record(n), "feedback": [{"kind": "rating", "value": 7}]}),
        "`feedback[0].value`: rating 7 is outside its scale [1, 5]",
    ),
    (
        lambda n: _line({**_record(n), "feedback": [{"kind": "smile"}]}),
        "`feedback[0].kind`: unknown feedback kind 'smile'",
    ),
    (lambda n: _line([_record(n)]), "expected a JSON object, got array"),
    (lambda n: b'{"query": "caf\xe9", "response": "r"}\n', "line is not valid UTF-8"),
    (lambda n: _line({**_record(n), "respnse": "typo"}), "unknown field `respnse`"),
    (lambda n: _line({**_record(n), "feedback": 5}), "`feedback`: Input should be a valid list (got number)"),
]


def write_plain_logs(path: Path, count: int, *, bad_every: int = 20, blank_every: int = 97) -> GeneratedFile:
    """``count`` lines of plain JSONL: every ``bad_every``-th line malformed (cycling through every kind of
    defect), every ``blank_every``-th line blank, the rest valid and distinct."""
    generated = GeneratedFile(path)
    with path.open("wb") as out:
        for n in range(1, count + 1):
            if n % blank_every == 0:
                out.write(b"   \n")
                generated.blank.add(n)
            elif n % bad_every == 0:
                write, fragment = MALFORMATIONS[(n // bad_every) % len(MALFORMATIONS)]
                out.write(write(n))
                generated.bad[n] = fragment
            else:
                record = _record(n)
                out.write(_line(record))
                kinds = tuple("followup" if isinstance(f, str) else f["kind"] for f in record["feedback"])
                generated.valid[n] = Expected(record["query"], record["response"], record["user_id"], kinds)
    return generated
