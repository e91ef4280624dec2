"""Distillation: from logs with feedback to candidate rules, experiences, preference pairs and hindsight examples.

The default :class:`HeuristicDistiller` needs no LLM: it reads follow-ups, edits, reactions and ratings with
regular expressions and ``difflib`` (see :mod:`uno.distill.heuristic`). ``classify_noise`` is shared with the gap
filter, which uses it to retire rules that read as attacks.
"""

from uno.distill.base import Distillation, Distiller
from uno.distill.catalog import CATALOG, Instruction
from uno.distill.edits import EditReading, pasted_revision, read_edit
from uno.distill.followups import FollowupKind, FollowupReading, read_followup
from uno.distill.heuristic import HeuristicDistiller
from uno.distill.noise import NoiseCategory, NoiseLabel, classify_noise, find_noise
from uno.distill.weights import FEEDBACK_WEIGHTS

__all__ = [
    "CATALOG",
    "FEEDBACK_WEIGHTS",
    "Distillation",
    "Distiller",
    "EditReading",
    "FollowupKind",
    "FollowupReading",
    "HeuristicDistiller",
    "Instruction",
    "NoiseCategory",
    "NoiseLabel",
    "classify_noise",
    "find_noise",
    "pasted_revision",
    "read_edit",
    "read_followup",
]
