"""The params every stage shares: ``base`` and its engine settings, a section by name, names.

:func:`params` reads one section of ``params.yaml`` (parsed into a dataclass when given one);
:class:`BaseConfig` is ``base``; :func:`model_name` and :func:`method_name` check a stage's
argument against ``methods`` before any path is built from it.

Seeds travel one way: ``base.seed`` is the only seed in ``params.yaml``. A stage passes it as
the ``seed`` argument of the library function it calls (``translate(backend, test, cfg,
b.seed)``, ``build_world(cfg, b.seed)``), and that function derives every seeded config from it
(``dataclasses.replace(cfg.generation, seed=seed)``, a training config's ``seed``). No stage
sets a config's ``seed``; the ``seed`` of a :class:`~radis.generate.backend.GenerationConfig`
read from params is never used.
"""

from dataclasses import dataclass, field
from typing import Literal

from radis.core.config import PARAMS, load_params, parse, positive, section
from radis.core.io import RadisError


@dataclass
class VLLMConfig:
    """Params ``base.vllm``: engine settings, passed to ``vllm.LLM`` (all but the engine count).

    Attributes:
        tensor_parallel_size: GPUs one model is split over.
        data_parallel_size: Engines generating at once, each in its own process on its own
            ``tensor_parallel_size`` GPUs, each on a share of the shards
            (:mod:`radis.generate.parallel`); the results are those of one engine. Not a
            ``vllm.LLM`` argument here (vLLM's own data parallelism is not used); it also applies
            to the ``hf`` backend, one GPU per model.
        gpu_memory_utilization: Share of GPU memory for weights, activations and the KV cache.
        max_model_len: Longest prompt + completion in tokens; shorter leaves more KV cache.
        max_lora_rank: Largest LoRA rank served (at least ``train.lora.r``).
    """

    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int = 4096
    max_lora_rank: int = 16

    def __post_init__(self):
        positive(
            tensor_parallel_size=self.tensor_parallel_size,
            data_parallel_size=self.data_parallel_size,
            gpu_memory_utilization=self.gpu_memory_utilization,
            max_model_len=self.max_model_len,
            max_lora_rank=self.max_lora_rank,
        )
        if self.gpu_memory_utilization > 1:
            raise ValueError(
                f"gpu_memory_utilization: must be in (0, 1], got {self.gpu_memory_utilization}"
            )


#: Where the ``backbone`` stage puts the backbone (trained or downloaded).
MODEL_DIR = "data/models/backbone"


@dataclass
class BaseConfig:
    """Params ``base``: what every stage shares.

    Attributes:
        seed: Seed of every random choice (templates, data order, LoRA init, sampling),
            passed to the library as an argument (see the module's docstring).
        backbone: The chat model to fine-tune: ``toy`` (the toy backbone the ``backbone`` stage
            trains) or a hub id (the ``backbone`` stage downloads it at ``revision``). Every
            stage loads it from :data:`MODEL_DIR`.
        revision: Hub revision of the backbone: a branch, tag or commit sha (pins it).
        prompt_format: How a chat is written out for the backbone. ``chat``: its own chat
            template (a backbone without one, a base model, is refused by the ``backbone``
            stage). ``alpaca`` or ``question-answer`` (:data:`radis.core.templates.PROMPT_FORMATS`):
            the ``backbone`` stage writes that format into the backbone's tokenizer as its chat
            template, in place of any it had, so every later stage renders chats with it.
        languages: Languages paired with English, both directions.
        backend: Generation backend: ``hf`` (CPU default) or ``vllm`` (GPU, the ``gpu`` extra).
        dtype: Dtype for generation and merging.
        shard_rows: Prompts per resumable generation shard: a killed stage loses at most one
            shard of work; smaller shards sort fewer prompts by length together (and, with
            vLLM, each shard is one call to the engine).
        vllm: vLLM engine settings (used when ``backend`` is ``vllm``), and the number of
            engines generating at once (``data_parallel_size``, both backends).
        serve: How the evaluations load a method's LoRA adapter (:mod:`radis.generate.serve`):
            ``adapter`` on the backbone (merged in memory by the HF backend and lm-eval, a
            ``LoRARequest`` on vLLM; no disk), or ``merged`` into a scratch copy of the model
            under ``data/.work/merged`` (vLLM at full speed; a model's disk per copy).
        merged_copies: Merged models ``merged`` keeps (the least recently used goes first).
            DVC runs each suite for every method in turn, so fewer copies than methods means a
            merge per suite and method.
    """

    seed: int = 0
    backbone: str = "toy"
    revision: str = "main"
    prompt_format: Literal["chat", "alpaca", "question-answer"] = "chat"
    languages: list = field(default_factory=lambda: ["qa", "qb"])
    backend: Literal["hf", "vllm"] = "hf"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    shard_rows: int = 1024
    vllm: VLLMConfig = field(default_factory=VLLMConfig)
    serve: Literal["adapter", "merged"] = "adapter"
    merged_copies: int = 1

    def __post_init__(self):
        positive(shard_rows=self.shard_rows, merged_copies=self.merged_copies)

    @property
    def model_dir(self) -> str:
        """The folder every stage loads the backbone from."""
        return MODEL_DIR


def params(dotted: str, cls: type | None = None, **shared):
    """Read ``params.yaml`` section ``dotted``, parsed into ``cls`` when given.

    ``shared`` adds fields taken from elsewhere before validation (not the seed: a library
    entry point takes it as an argument, see the module's docstring).
    """
    data = section(load_params(), dotted)
    return parse(cls, {**data, **shared}, f"{PARAMS}: {dotted}") if cls else data


def base() -> BaseConfig:
    """The ``base`` params."""
    return params("base", BaseConfig)


def sdrrl_data() -> bool:
    """Params ``selfanswer.enabled``: whether SDRRL's data stages run (else: empty tables).

    The switch is a param of its own, not read from ``methods``: adding a method must not rerun
    (or re-idle) data stages whose output it does not change.
    """
    enabled = params("selfanswer.enabled")
    if not isinstance(enabled, bool):
        raise RadisError(f"{PARAMS}: selfanswer.enabled: expected true or false, got {enabled!r}")
    return enabled


def model_name(name: str) -> str:
    """Check that ``name`` is ``backbone`` or a method in params ``methods``.

    Called before any path is built from ``name``: a NAME such as ``..`` would otherwise name a
    folder that :func:`radis.core.io.atomic_path` replaces.
    """
    methods = params("methods")
    if name != "backbone" and name not in methods:
        raise RadisError(
            f"params.yaml: methods: model name {name!r} is neither 'backbone' nor a listed "
            f"method; listed: {methods}"
        )
    return name


def method_name(methods: list, method: str) -> str:
    """Check that ``method`` is listed in params ``methods`` and is not called ``backbone``.

    A method's model is ``data/models/<method>``, beside ``data/models/backbone``.
    """
    if method == "backbone":
        raise RadisError("params.yaml: methods: 'backbone' names the backbone, not a method")
    if method not in methods:
        raise RadisError(f"params.yaml: methods: {method!r} is not listed; listed: {methods}")
    return method
