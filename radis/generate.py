"""Batched generation behind a small backend interface.

A backend turns prompts into :class:`Completion` records, in the order given. A prompt is a
rendered string; one rendered by :func:`radis.templates.render` is a
:class:`~radis.templates.ChatPrompt` that also carries its chat, which a backend that applies the
chat template itself (vLLM's ``LLM.chat``) sends instead. The HF transformers backend is the CPU
default; the vLLM backend (:mod:`radis.vllm_backend`, the ``gpu`` extra) serves GPUs.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from radis import progress
from radis.config import positive
from radis.io import RadisError


@dataclass
class GenerationConfig:
    """Decoding params (sections ``rationales.generation``, ``evaluate.generation``).

    Attributes:
        max_new_tokens: Generation stops after this many tokens (finish reason ``length``).
        do_sample: Sample with ``temperature``/``top_p``; greedy when false.
        temperature: Sampling temperature (ignored when greedy).
        top_p: Nucleus sampling mass (ignored when greedy).
        batch_tokens: Token budget of one batch: rows × (longest prompt + max_new_tokens).
            Larger is faster until memory runs out.
        seed: Sampling seed.
    """

    max_new_tokens: int = 256
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    batch_tokens: int = 16384
    seed: int = 0

    def __post_init__(self):
        positive(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            batch_tokens=self.batch_tokens,
        )


@dataclass
class Completion:
    """One generated continuation."""

    text: str
    finish_reason: Literal["stop", "length"]
    prompt_tokens: int
    completion_tokens: int


class Backend(Protocol):
    """Anything that continues prompts: rendered strings or :class:`~radis.templates.ChatPrompt`."""

    tokenizer: object

    def generate(self, prompts: list[str], cfg: GenerationConfig) -> list[Completion]:
        """Continue every prompt; the result is in the order of ``prompts``."""
        ...


def token_batches(lengths: list[int], budget: int, max_new_tokens: int) -> list[list[int]]:
    """Group prompt indices by length (longest first) into batches within a token budget.

    A batch's cost is its row count times (its longest prompt + ``max_new_tokens``), the size of
    its key/value cache at the end of generation.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches, current, width = [], [], 0
    for i in order:
        w = max(width, lengths[i]) + max_new_tokens
        if current and (len(current) + 1) * w > budget:
            batches.append(current)
            current, width = [], 0
        current.append(i)
        width = max(width, lengths[i])
    if current:
        batches.append(current)
    return batches


def resolve_model(model: str | Path) -> str:
    """Check that ``model`` is an existing folder or looks like a hub id (``org/name``).

    A hub id's commit is recorded in :data:`radis.hub.COMMITS` (the stage writes it out, so
    ``dvc.lock`` says which weights a result came from).

    Raises:
        RadisError: For a local-looking path that does not exist.
    """
    path = Path(model)
    if path.is_dir():
        return str(model)
    if str(model).startswith((".", "/")) or len(path.parts) != 2 or Path(path.parts[0]).is_dir():
        raise RadisError(f"{model}: model directory not found (run the stage that makes it)")
    from radis.hub import model_commit

    model_commit(str(model))
    return str(model)


class HFBackend:
    """Generation with ``transformers``: left padding, length-sorted token-budget batches."""

    def __init__(
        self,
        model_dir: str | Path,
        dtype: str = "float32",
        device: str | None = None,
        adapter: str | Path | None = None,
    ):
        """Load tokenizer and model from ``model_dir`` (a local folder or a hub id).

        A LoRA ``adapter`` folder is merged into the model in memory.
        """
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model_dir = resolve_model(model_dir)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.tokenizer.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
        if adapter:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, resolve_model(adapter))
            self.model = self.model.merge_and_unload()
        self.model.to(self.device).eval()
        eos = self.model.generation_config.eos_token_id
        eos = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        self.eos_ids = sorted(i for i in eos if i is not None)
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.eos_ids[0]

    def generate(self, prompts: list[str], cfg: GenerationConfig) -> list[Completion]:
        """Continue every prompt; see :class:`Backend`."""
        import torch

        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        out: list[Completion | None] = [None] * len(prompts)
        torch.manual_seed(cfg.seed)
        batches = token_batches([len(e) for e in encoded], cfg.batch_tokens, cfg.max_new_tokens)
        with torch.inference_mode(), progress.shared(len(prompts), "generate", "prompt") as bar:
            for batch in batches:
                done = self._batch([encoded[i] for i in batch], cfg)
                for i, completion in zip(batch, done):
                    out[i] = completion
                bar.update(len(batch), tokens=sum(c.completion_tokens for c in done))
        return out

    def _batch(self, encoded: list[list[int]], cfg: GenerationConfig) -> list[Completion]:
        import torch

        width = max(len(e) for e in encoded)
        ids = torch.full((len(encoded), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, width - len(e) :] = torch.tensor(e)
            mask[row, width - len(e) :] = 1
        sampling = dict(temperature=cfg.temperature, top_p=cfg.top_p) if cfg.do_sample else {}
        seqs = self.model.generate(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            max_new_tokens=cfg.max_new_tokens,
            do_sample=cfg.do_sample,
            eos_token_id=self.eos_ids,
            pad_token_id=self.pad_id,
            **sampling,
        )[:, width:].tolist()
        results = []
        for e, new in zip(encoded, seqs):
            stop = next((k for k, t in enumerate(new) if t in self.eos_ids), None)
            kept = new if stop is None else new[:stop]
            text = self.tokenizer.decode(kept, skip_special_tokens=True)
            reason = "length" if stop is None else "stop"
            results.append(Completion(text, reason, len(e), len(kept) + (stop is not None)))
        return results


def load_backend(
    name: str,
    model_dir: str | Path,
    dtype: str = "float32",
    adapter: str | Path | None = None,
    vllm=None,
    seed: int = 0,
) -> Backend:
    """The generation backend called ``name`` over the model in ``model_dir``.

    Args:
        name: ``hf`` (transformers, the CPU default) or ``vllm`` (the ``gpu`` extra).
        model_dir: A local folder or a hub id.
        dtype: Weights dtype.
        adapter: A LoRA adapter folder: merged in memory (``hf``) or served as a
            ``LoRARequest`` (``vllm``), so no merged copy of the model is written.
        vllm: The :class:`~radis.vllm_backend.VLLMConfig` engine settings (``vllm`` only).
        seed: The vLLM engine's seed.
    """
    if name == "hf":
        return HFBackend(model_dir, dtype=dtype, adapter=adapter)
    if name == "vllm":
        from radis.vllm_backend import VLLMBackend, VLLMConfig

        return VLLMBackend(model_dir, dtype, vllm or VLLMConfig(), adapter=adapter, seed=seed)
    raise RadisError(f"params.yaml: base.backend: unknown backend {name!r}; known: ['hf', 'vllm']")
