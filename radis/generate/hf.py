"""The transformers backend: the CPU default, and the reference vLLM is tested against."""

from pathlib import Path

from radis.core import progress
from radis.generate.backend import Completion, GenerationConfig, resolve_model, token_batches


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
