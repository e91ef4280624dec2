"""A judge for the training tests: uno's LLM protocol over a code checker instead of a remote model.

A remote judge cannot run here, so it is replaced — behind the same :class:`uno.llm.base.BaseLLM` the real ones
use (ledger, cache, structured parsing) — by one that reads the answer out of the judge prompt and scores it with
a checker for the preference the test logs teach ("answer with only YES or NO").
"""

from __future__ import annotations

import json
import re
import threading

from uno.llm.base import BaseLLM, Completion, Request

_ANSWER = re.compile(r"<answer>\n(.*)\n</answer>", re.S)


def yes_no_score(answer: str) -> int:
    """10: only YES/NO; 6: says YES or NO somewhere; 1: neither."""
    words = re.findall(r"[A-Za-z]+", answer)
    if words and all(w.upper() in ("YES", "NO") for w in words):
        return 10
    return 6 if any(w.upper() in ("YES", "NO") for w in words) else 1


class CheckerJudge(BaseLLM):
    """Scores every answer with ``yes_no_score``; ``fail_on`` makes matching answers fail like a dead endpoint."""

    def __init__(self, *, fail_on: str | None = None) -> None:
        super().__init__("checker-judge", max_retries=1, backoff_base=0.0, use_cache=False)
        self.fail_on = fail_on
        self.calls = 0
        self._lock = threading.Lock()

    def _request(self, request: Request) -> Completion:
        with self._lock:
            self.calls += 1
        found = _ANSWER.search(request.chat()[-1]["content"])
        answer = found.group(1) if found else ""
        if self.fail_on is not None and self.fail_on in answer:
            raise TimeoutError("judge endpoint timed out")
        score = yes_no_score(answer)
        return Completion(text=json.dumps({"score": score, "reason": "checked"}), model=self.model)

    async def _arequest(self, request: Request) -> Completion:
        return self._request(request)

    def _retryable(self, error: BaseException) -> bool:
        return isinstance(error, TimeoutError)
