"""Serving LoRA adapters: PeftLLM on the tiny model with two real peft adapters, and vLLM's runtime LoRA endpoints
against a stand-in server in a subprocess."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.train.vllm_stub import VllmStub
from uno.ledger import Ledger, ResponseCache
from uno.llm import LLM
from uno.llm.base import Completion, LLMCallError
from uno.llm.local import TransformersLLM
from uno.train.serving import (
    AdapterServingError,
    PeftLLM,
    register_vllm_adapter,
    unregister_vllm_adapter,
    vllm_endpoint,
    vllm_load_request,
)

PROMPT = [{"role": "user", "content": "Please keep the answer short."}]
MAX_TOKENS = 6
TOP_K = 5


@dataclass(frozen=True)
class Ref:
    """An adapter record as serving sees it (rule_store's Adapter has the same attributes)."""

    name: str
    path: str | None
    base_model: str


def _make_adapter(model_dir: Path, target: Path, seed: int) -> Path:
    """A LoRA (r=4) on the tiny model with seeded random lora_B, so its outputs differ from the base and others."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    wrapped = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in wrapped.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
    wrapped.save_pretrained(str(target))
    return target


@pytest.fixture(scope="module")
def adapter_dirs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    return {name: _make_adapter(tiny_model_dir, root / name, seed) for name, seed in (("a", 1), ("b", 2))}


@pytest.fixture
def llm(tiny_model_dir: Path) -> PeftLLM:
    return PeftLLM(tiny_model_dir, max_tokens=MAX_TOKENS)


def _ref(name: str, path: Path | None, base_model: Path | str) -> Ref:
    return Ref(name=name, path=None if path is None else str(path), base_model=str(base_model))


def _ask(model: LLM) -> Completion:
    return model.complete(PROMPT, logprobs=TOP_K, cache=False)


def _signature(completion: Completion) -> tuple[str, list[tuple[str, float]]]:
    """The reply's text and its first token's candidates, rounded: what tells two models' answers apart."""
    assert completion.top_logprobs
    first = sorted((token, round(value, 4)) for token, value in completion.top_logprobs[0].items())
    return completion.text, first


def _manual_signature(model_dir: Path, adapter_dir: Path | None) -> tuple[str, list[tuple[str, float]]]:
    """The same greedy generation, with a PeftModel built by hand (or the plain model when no adapter is given)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(str(model_dir))
    network: Any = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    if adapter_dir is not None:
        network = PeftModel.from_pretrained(network, str(adapter_dir))
    network.eval()
    inputs = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        output = network.generate(
            **inputs,
            max_new_tokens=MAX_TOKENS,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            return_dict_in_generate=True,
            output_logits=True,
            pad_token_id=tokenizer.pad_token_id,
        )
    generated = output.sequences[0, inputs["input_ids"].shape[1] :]
    values, ids = torch.log_softmax(output.logits[0][0].float(), dim=-1).topk(TOP_K)
    first: dict[str, float] = {}
    for value, token_id in zip(values.tolist(), ids.tolist(), strict=True):
        first.setdefault(tokenizer.decode([token_id]), round(float(value), 4))
    return tokenizer.decode(generated, skip_special_tokens=True), sorted(first.items())


# --- PeftLLM


def test_base_and_adapters_match_plain_models_and_differ(
    llm: PeftLLM, tiny_model_dir: Path, adapter_dirs: dict[str, Path]
) -> None:
    view_a = llm.with_adapter(_ref("a", adapter_dirs["a"], tiny_model_dir))
    view_b = llm.with_adapter(_ref("b", adapter_dirs["b"], tiny_model_dir))
    assert isinstance(view_a, LLM)
    assert llm.with_adapter(None) is llm
    base, a, b = (_signature(_ask(model)) for model in (llm, view_a, view_b))

    plain = TransformersLLM(tiny_model_dir, max_tokens=MAX_TOKENS)
    assert base == _signature(_ask(plain))  # adapters loaded, but disabled for base calls
    assert base == _manual_signature(tiny_model_dir, None)
    assert a == _manual_signature(tiny_model_dir, adapter_dirs["a"])
    assert b == _manual_signature(tiny_model_dir, adapter_dirs["b"])
    assert len({str(base), str(a), str(b)}) == 3


def test_adapter_names_from_constructor_load_on_first_use(tiny_model_dir: Path, adapter_dirs: dict[str, Path]) -> None:
    adapters = {"a": adapter_dirs["a"], "expert.v2": adapter_dirs["b"]}
    llm = PeftLLM(tiny_model_dir, max_tokens=MAX_TOKENS, adapters=adapters)
    assert llm.adapter_names == ["a", "expert.v2"]
    # A '.' in the serving name is fine although peft's own adapter names may not hold one.
    view = llm.with_adapter("expert.v2")
    assert _signature(_ask(view)) == _manual_signature(tiny_model_dir, adapter_dirs["b"])
    with pytest.raises(KeyError, match="no adapter named 'missing'"):
        llm.with_adapter("missing")


def test_base_model_must_match(llm: PeftLLM, tiny_model_dir: Path, adapter_dirs: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="other/base-model") as caught:
        llm.with_adapter(_ref("a", adapter_dirs["a"], "other/base-model"))
    assert llm.base_model_id in str(caught.value)
    assert llm.adapter_names == []
    assert llm.base_model_id == str(tiny_model_dir.resolve())
    # The same base, named by its directory, its directory's name or the LLM's model name.
    for spelling in (f"{tiny_model_dir}/../{tiny_model_dir.name}", tiny_model_dir.name, llm.model):
        assert isinstance(llm.with_adapter(_ref("a", adapter_dirs["a"], spelling)), LLM)


def test_adapter_path_must_exist(llm: PeftLLM, tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no peft adapter"):
        llm.with_adapter(_ref("a", tmp_path / "missing", tiny_model_dir))
    with pytest.raises(ValueError, match="no weights"):
        llm.with_adapter(_ref("a", None, tiny_model_dir))
    with pytest.raises(FileNotFoundError):
        PeftLLM(tiny_model_dir, adapters={"a": tmp_path})


def test_cache_and_ledger_keep_base_and_adapters_apart(
    tiny_model_dir: Path, adapter_dirs: dict[str, Path], tmp_path: Path
) -> None:
    llm = PeftLLM(
        tiny_model_dir,
        max_tokens=MAX_TOKENS,
        ledger=Ledger(tmp_path / "llm.sqlite"),
        cache=ResponseCache(tmp_path / "llm.sqlite"),
    )
    models: list[LLM] = [llm] + [llm.with_adapter(_ref(n, adapter_dirs[n], tiny_model_dir)) for n in ("a", "b")]
    assert len({model.model for model in models}) == 3
    assert all(model.ledger is llm.ledger for model in models)

    first = [model.complete(PROMPT, logprobs=TOP_K) for model in models]
    again = [model.complete(PROMPT, logprobs=TOP_K) for model in models]
    assert [c.cached for c in first] == [False] * 3
    assert [c.cached for c in again] == [True] * 3
    assert [_signature(c) for c in again] == [_signature(c) for c in first]
    assert len({str(_signature(c)) for c in first}) == 3

    calls = llm.ledger.calls()
    assert sorted(call.model for call in calls) == sorted(model.model for model in models for _ in range(2))
    assert {call.model for call in calls if not call.cached} == {model.model for model in models}


def test_replacing_an_adapter_changes_its_model_name(
    llm: PeftLLM, tiny_model_dir: Path, adapter_dirs: dict[str, Path]
) -> None:
    old = llm.with_adapter(_ref("expert", adapter_dirs["a"], tiny_model_dir))
    assert llm.with_adapter(_ref("expert", adapter_dirs["a"], tiny_model_dir)) is old  # same files: a no-op
    new = llm.with_adapter(_ref("expert", adapter_dirs["b"], tiny_model_dir))
    assert new.model != old.model
    assert llm.adapter_names == ["expert"]
    assert _signature(_ask(new)) == _manual_signature(tiny_model_dir, adapter_dirs["b"])
    with pytest.raises(LLMCallError, match="unloaded or replaced"):
        _ask(old)


def test_threads_with_different_adapters_do_not_interfere(
    llm: PeftLLM, tiny_model_dir: Path, adapter_dirs: dict[str, Path]
) -> None:
    models: list[LLM] = [llm] + [llm.with_adapter(_ref(n, adapter_dirs[n], tiny_model_dir)) for n in ("a", "b")]
    expected = [_signature(_ask(model)) for model in models]
    jobs = [index % 3 for index in range(18)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda index: _signature(_ask(models[index])), jobs))
    assert results == [expected[index] for index in jobs]


def test_async_calls_use_the_adapter(llm: PeftLLM, tiny_model_dir: Path, adapter_dirs: dict[str, Path]) -> None:
    view = llm.with_adapter(_ref("a", adapter_dirs["a"], tiny_model_dir))

    async def both() -> tuple[Completion, Completion]:
        return await asyncio.gather(view.acomplete(PROMPT, logprobs=TOP_K), llm.acomplete(PROMPT, logprobs=TOP_K))

    on_adapter, on_base = asyncio.run(both())
    assert _signature(on_adapter) == _manual_signature(tiny_model_dir, adapter_dirs["a"])
    assert _signature(on_base) == _manual_signature(tiny_model_dir, None)


def test_unload(llm: PeftLLM, tiny_model_dir: Path, adapter_dirs: dict[str, Path]) -> None:
    view_a = llm.with_adapter(_ref("a", adapter_dirs["a"], tiny_model_dir))
    view_b = llm.with_adapter(_ref("b", adapter_dirs["b"], tiny_model_dir))
    llm.unload_adapter("b")
    assert llm.adapter_names == ["a"]
    with pytest.raises(LLMCallError, match="'b'"):
        _ask(view_b)
    assert _signature(_ask(view_a)) == _manual_signature(tiny_model_dir, adapter_dirs["a"])

    llm.unload_adapter("a")
    assert llm.adapter_names == []
    assert _signature(_ask(llm)) == _manual_signature(tiny_model_dir, None)
    with pytest.raises(KeyError):
        llm.unload_adapter("a")
    # Loading again after the last unload wraps the (now plain) base model afresh.
    again = llm.with_adapter(_ref("a", adapter_dirs["a"], tiny_model_dir))
    assert _signature(_ask(again)) == _manual_signature(tiny_model_dir, adapter_dirs["a"])


def test_load_adapter_same_path_is_a_no_op(llm: PeftLLM, adapter_dirs: dict[str, Path], tmp_path: Path) -> None:
    llm.load_adapter("a", adapter_dirs["a"])
    network = llm._network
    llm.load_adapter("a", adapter_dirs["a"])
    assert llm._network is network
    copy = shutil.copytree(adapter_dirs["a"], tmp_path / "copy")
    llm.load_adapter("a", copy)  # other files under the same name replace the adapter
    assert llm.adapter_names == ["a"]


# --- vLLM runtime LoRA loading


@pytest.fixture
def vllm() -> Iterator[VllmStub]:
    with VllmStub() as stub:
        yield stub


def test_vllm_load_request() -> None:
    assert vllm_load_request(Ref("expert-c1-v1", "/models/a", "base")) == {
        "lora_name": "expert-c1-v1",
        "lora_path": "/models/a",
    }
    with pytest.raises(ValueError, match="no weights"):
        vllm_load_request(Ref("expert-c1-v1", None, "base"))


def test_vllm_endpoint_accepts_base_urls_with_or_without_v1() -> None:
    expected = "http://h:8000/v1/load_lora_adapter"
    for base in ("http://h:8000", "http://h:8000/", "http://h:8000/v1", "http://h:8000/v1/"):
        assert vllm_endpoint(base, "load_lora_adapter") == expected


def test_register_and_unregister_with_vllm(vllm: VllmStub) -> None:
    adapter = Ref("expert-c1-v1", "/srv/adapters/c1-v1", "base")
    root = vllm.base_url.removesuffix("/v1")
    assert register_vllm_adapter(root, adapter, api_key="sk-test") == "expert-c1-v1"
    # vLLM answers a second load of the same name with a 400 "has already been loaded": still registered.
    assert register_vllm_adapter(vllm.base_url, adapter) == "expert-c1-v1"
    unregister_vllm_adapter(vllm.base_url, "expert-c1-v1")

    requests = vllm.requests()
    assert [r["path"] for r in requests] == ["/v1/load_lora_adapter"] * 2 + ["/v1/unload_lora_adapter"]
    assert requests[0]["body"] == {"lora_name": "expert-c1-v1", "lora_path": "/srv/adapters/c1-v1"}
    assert requests[0]["authorization"] == "Bearer sk-test"
    assert requests[1]["authorization"] is None
    assert requests[2]["body"] == {"lora_name": "expert-c1-v1"}


def test_vllm_errors_name_status_and_body(vllm: VllmStub) -> None:
    with pytest.raises(AdapterServingError, match=r"HTTP 500.*could not read adapter") as caught:
        register_vllm_adapter(vllm.base_url, Ref("broken", "/srv/explode", "base"))
    assert caught.value.status == 500
    with pytest.raises(AdapterServingError, match=r"HTTP 404.*cannot be found") as unknown:
        unregister_vllm_adapter(vllm.base_url, "never-loaded")
    assert unknown.value.status == 404


def test_vllm_unreachable_is_a_clear_error(vllm: VllmStub) -> None:
    base_url = vllm.base_url
    vllm.__exit__(None, None, None)
    with pytest.raises(AdapterServingError, match="could not reach vLLM"):
        register_vllm_adapter(base_url, Ref("a", "/srv/a", "base"), timeout=2.0)
