"""The backend factory: one engine over a model, by the name params ``base.backend`` give."""

from pathlib import Path

from radis.core.io import RadisError
from radis.generate.backend import Backend
from radis.generate.hf import HFBackend


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
        vllm: The :class:`~radis.core.params.VLLMConfig` engine settings (``vllm`` only).
        seed: The vLLM engine's seed.
    """
    if name == "hf":
        return HFBackend(model_dir, dtype=dtype, adapter=adapter)
    if name == "vllm":
        from radis.core.params import VLLMConfig
        from radis.generate.vllm import VLLMBackend

        return VLLMBackend(model_dir, dtype, vllm or VLLMConfig(), adapter=adapter, seed=seed)
    raise RadisError(f"params.yaml: base.backend: unknown backend {name!r}; known: ['hf', 'vllm']")
