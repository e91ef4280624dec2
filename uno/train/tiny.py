"""A tiny random-init causal LM built on the fly: the stand-in model for training tests and CPU smoke runs.

Nothing is downloaded: a byte-level BPE tokenizer is trained with ``tokenizers`` on a small built-in corpus (or the
caller's), given chat-role special tokens and a Jinja chat template, and paired with a freshly initialised
``LlamaForCausalLM`` of ~140K parameters. Its output is gibberish; it exercises the chat template, ``generate``,
peft and the training losses exactly as a real model would, in milliseconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ["<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# ChatML, as SmolLM2 uses: the same template shape the real local model has.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_CORPUS = [
    "Answer with only YES or NO.",
    "Please keep the answer short and use bullet points.",
    "Write the reply in a formal tone, without emoji.",
    "The capital of France is Paris. The capital of Italy is Rome.",
    "Summarise the email in two sentences and end with a question.",
    "def add(a, b):\n    return a + b\n",
    "No, that is too long. Only give me the number.",
    "Thanks, that was helpful! Could you also translate it into German?",
]


def build_tiny_model(
    directory: str | os.PathLike[str],
    *,
    seed: int = 0,
    vocab_size: int = 512,
    hidden_size: int = 64,
    layers: int = 2,
    corpus: Iterable[str] | None = None,
) -> Path:
    """Write a tokenizer and a random-init Llama model to ``directory`` (created) and return it."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(list(corpus or _CORPUS) * 4, vocab_size)
    tokenizer.save_pretrained(str(target))
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    model: Any = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(target))
    return target


def _train_tokenizer(texts: list[str], vocab_size: int) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    fast: Any = PreTrainedTokenizerFast
    tokenizer = fast(
        tokenizer_object=core,
        pad_token="<|pad|>",
        eos_token="<|im_end|>",
        unk_token=None,
        bos_token=None,
        additional_special_tokens=["<|im_start|>", "<|endoftext|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


__all__ = ["CHAT_TEMPLATE", "build_tiny_model"]
