"""How much each kind of feedback counts: one table for the whole heuristic distiller.

``evidence.*`` entries are the weight (in [0, 1]) of the evidence a rule gets from one log; with one piece of
evidence it is also the candidate rule's confidence. A follow-up's weight depends on what else the user did to
the same assistant turn: a correction after a dislike is stronger than one after a like.

``signal.*`` entries are the sentiment each event contributes to ``LogVerdict.signal`` (the mean of the log's
events, in [-1, 1]). A rating contributes ``2 * normalised - 1`` (1/5 -> -1, 5/5 -> +1).

``rating.*`` entries are the thresholds on the normalised rating: at or below ``rating.low`` (2 of 5) a rating
strengthens the corrective rules of its turn; at or above ``rating.high`` (4 of 5) it counts as satisfied.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

FEEDBACK_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        # --- evidence weights (rule confidence when the rule has this one piece of evidence)
        "evidence.edit_style": 0.9,  # a measurable change in the user's own edit: length, lists, emojis, tone...
        "evidence.edit_content": 0.35,  # a sentence the user added or deleted: specific, may not generalise
        "evidence.edit_wording": 0.3,  # a word the user swapped
        "evidence.edit_after_terminated_dislike_bonus": 0.1,  # added to edit evidence when they disliked and left
        "evidence.followup_after_terminated_dislike": 1.0,  # disliked, corrected and left
        "evidence.followup_after_dislike": 0.9,
        "evidence.followup_after_low_rating": 0.7,
        "evidence.followup": 0.6,  # a plain corrective follow-up
        "evidence.followup_after_like": 0.45,  # they liked it and still asked for a change: a nice-to-have
        "evidence.generic_factor": 0.6,  # times the above when no template matched (rewritten from their words)
        "evidence.insistent_bonus": 0.15,  # added when the user repeats themselves ("I said", "again")
        # --- sentiment of each event (LogVerdict.signal is their mean)
        "signal.love": 0.9,
        "signal.like": 0.6,
        "signal.copy": 0.4,  # implicit: they used the answer
        "signal.dislike": -0.7,
        "signal.dislike_terminated": -0.9,  # disliked and ended the conversation
        "signal.satisfied_followup": 0.5,
        "signal.corrective_followup": -0.4,
        "signal.complaint_followup": -0.6,  # negative with nothing specific ("that's wrong")
        "signal.abusive_followup": -0.8,
        "signal.identical_edit": 0.5,  # an "edit" that changed nothing is an endorsement
        "signal.edit_min": -0.2,  # a light touch-up...
        "signal.edit_max": -0.8,  # ...to a complete rewrite, interpolated by how much of the answer changed
        # --- rating thresholds on the normalised [0, 1] scale
        "rating.low": 0.25,
        "rating.high": 0.75,
    }
)


def weight(key: str) -> float:
    """One entry of :data:`FEEDBACK_WEIGHTS` (a KeyError names a key that does not exist)."""
    return FEEDBACK_WEIGHTS[key]
