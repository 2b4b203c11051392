"""Generation with vLLM (the ``gpu`` extra, for GPUs) behind the ``Backend`` protocol.

Chat prompts (:class:`~radis.core.templates.ChatPrompt`) go to ``LLM.chat`` as messages, so vLLM
applies the model's chat template itself: rationales with ``continue_final_message=True`` and no
generation prompt, everything else with ``add_generation_prompt=True``. Plain rendered strings go
to ``LLM.generate`` as token ids. vLLM schedules its own batches, so every prompt of a call is sent
at once (one resumable shard, under :class:`~radis.generate.shards.ShardedBackend`); its outputs
are put back in prompt order by request id. vLLM's own progress bar (prompts done, input and output
tokens/s) is kept, drawn by :func:`radis.core.progress.tqdm_class` (a line every 5 % in a log). A
LoRA adapter is served with a ``LoRARequest`` on the base model, which saves merging it.
"""

import dataclasses
from pathlib import Path

from radis.core import progress
from radis.core.io import RadisError
from radis.core.params import VLLMConfig
from radis.core.templates import ChatPrompt
from radis.generate.backend import Completion, GenerationConfig, resolve_model


def sampling_params(cfg: GenerationConfig) -> dict:
    """``vllm.SamplingParams`` keyword arguments for ``cfg`` (greedy: temperature 0)."""
    sampling = dict(temperature=cfg.temperature, top_p=cfg.top_p) if cfg.do_sample else {}
    return dict(n=1, max_tokens=cfg.max_new_tokens, seed=cfg.seed, temperature=0.0) | sampling


def completion(output) -> Completion:
    """A :class:`Completion` from a ``vllm.RequestOutput``."""
    first = output.outputs[0]
    reason = "length" if first.finish_reason == "length" else "stop"
    return Completion(first.text, reason, len(output.prompt_token_ids), len(first.token_ids))


class VLLMBackend:
    """Generation with ``vllm.LLM``; see the module docstring."""

    def __init__(
        self,
        model_dir: str | Path,
        dtype: str,
        cfg: VLLMConfig,
        adapter: str | Path | None = None,
        seed: int = 0,
    ):
        """Start the engine over ``model_dir``, with LoRA enabled when ``adapter`` is given."""
        try:
            from vllm import LLM
            from vllm.lora.request import LoRARequest
        except ImportError:
            raise RadisError(
                "params.yaml: base.backend: vllm is not installed (the gpu extra: make env GPU=1)"
            ) from None
        kwargs = dataclasses.asdict(cfg)
        kwargs.pop(
            "data_parallel_size"
        )  # ours (radis.generate.parallel), not vLLM's of the same name
        lora_rank = kwargs.pop("max_lora_rank")
        if adapter:
            kwargs |= dict(enable_lora=True, max_lora_rank=lora_rank)
        self.llm = LLM(model=resolve_model(model_dir), dtype=dtype, seed=seed, **kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.lora = LoRARequest("adapter", 1, resolve_model(adapter)) if adapter else None

    def generate(self, prompts: list[str], cfg: GenerationConfig) -> list[Completion]:
        """Continue every prompt, in order; one vLLM call per kind of prompt."""
        from vllm import SamplingParams

        params = SamplingParams(**sampling_params(cfg))
        groups: dict[bool | None, list[int]] = {}
        for i, p in enumerate(prompts):
            kind = p.continue_final if isinstance(p, ChatPrompt) else None
            groups.setdefault(kind, []).append(i)
        out: list[Completion | None] = [None] * len(prompts)
        for kind, rows in groups.items():
            for i, done in zip(rows, self._call([prompts[i] for i in rows], kind, params)):
                out[i] = done
        return out

    def _call(self, prompts: list[str], kind: bool | None, params) -> list[Completion]:
        if kind is None:
            ids = [self.tokenizer.encode(p, add_special_tokens=False) for p in prompts]
            outputs = self.llm.generate(
                [{"prompt_token_ids": i} for i in ids],
                params,
                use_tqdm=progress.tqdm_class(),
                lora_request=self.lora,
            )
        else:
            outputs = self.llm.chat(
                [p.messages for p in prompts],
                params,
                use_tqdm=progress.tqdm_class(),
                lora_request=self.lora,
                add_generation_prompt=not kind,
                continue_final_message=kind,
            )
        if len(outputs) != len(prompts):
            raise RadisError(f"vllm: {len(outputs)} outputs for {len(prompts)} prompts")
        return [completion(o) for o in sorted(outputs, key=lambda o: int(o.request_id))]
