"""Data-parallel training under ``accelerate launch``: the launch, and each process's share.

``python -m stages.train <method>`` re-runs itself through ``accelerate launch`` when params ask
for more than one process (:func:`launch`). Each process then runs the same loop
(:func:`radis.train.loop.fit`) on a disjoint share of every optimizer step's micro-batches, and the
gradients are summed across processes (:class:`Replicas`). In a single process no accelerate
object is made and every method here is the identity, so the one-process run is unchanged.
"""

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import torch
import yaml

from radis.core.config import positive
from radis.core.io import RadisError

T = TypeVar("T")


#: FSDP settings under the user's ``fsdp_config``: FSDP2 (per-parameter sharding, so a bf16 base
#: and float32 adapters shard together), one unit per decoder layer. On an H100 (one process,
#: ``bench/gpu_fsdp.py``) it trained a small model to the plain path's losses and adapter. FSDP1
#: failed there: it refuses to flatten mixed dtypes, and its full state dict missed the
#: embedding under per-layer wrapping; :class:`radis.train.loop.TrainConfig` refuses it.
FSDP_DEFAULTS = {"fsdp_version": 2, "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP"}


@dataclass
class DistributedConfig:
    """Params ``train.distributed``.

    Attributes:
        num_processes: Training processes: one per GPU, or gloo processes on a CPU-only machine.
            1 trains in the stage's own process, without ``accelerate launch``.
        strategy: ``ddp``: every process holds the whole model and the gradients are summed
            (right for LoRA: only the adapter's gradients travel). ``fsdp``: parameters,
            gradients and optimizer state are sharded (a backbone too large for one GPU); it
            writes no resumable checkpoints.
        fsdp_config: Keys of accelerate's ``fsdp_config`` (``fsdp_version``,
            ``fsdp_auto_wrap_policy``, ``fsdp_transformer_layer_cls_to_wrap``,
            ``fsdp_state_dict_type``, ...), written into the accelerate config file over
            :data:`FSDP_DEFAULTS`.
        main_process_port: Rendezvous port; 0 lets accelerate pick a free one.
    """

    num_processes: int = 1
    strategy: Literal["ddp", "fsdp"] = "ddp"
    fsdp_config: dict = field(default_factory=dict)
    main_process_port: int = 0

    def __post_init__(self):
        positive(num_processes=self.num_processes)
        if self.fsdp_config:
            known = fsdp_keys()
            unknown = sorted(set(self.fsdp_config) - known)
            if unknown:
                raise ValueError(
                    f"fsdp_config: unknown key(s) {unknown}; accelerate's: {sorted(known)}"
                )


def fsdp_keys() -> set[str]:
    """The ``fsdp_config`` keys ``accelerate launch`` takes (its ``--fsdp_*`` options)."""
    from accelerate.commands.launch import launch_command_parser

    return {a.dest for a in launch_command_parser()._actions if a.dest.startswith("fsdp_")}


def world_size() -> int:
    """Processes of this run (``WORLD_SIZE``, set by ``accelerate launch``; 1 otherwise)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    """Whether this process writes the outputs (rank 0, or the only process)."""
    return int(os.environ.get("RANK", "0")) == 0


def local_device() -> torch.device:
    """The device of this process: its GPU (``LOCAL_RANK``) when there is one, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def accelerate_config(cfg: DistributedConfig) -> dict:
    """The accelerate config file for ``cfg``: one machine, ``num_processes`` processes.

    ``MULTI_GPU`` launches through torchrun; without a GPU each process falls back to gloo on
    the CPU (see :class:`Replicas`).
    """
    out = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": "FSDP" if cfg.strategy == "fsdp" else "MULTI_GPU",
        "num_machines": 1,
        "machine_rank": 0,
        "num_processes": cfg.num_processes,
        "main_process_port": cfg.main_process_port,
        "mixed_precision": "no",
        "dynamo_config": {"dynamo_backend": "NO"},
        "gpu_ids": "all",
        "use_cpu": False,
        "rdzv_backend": "static",
        "same_network": True,
    }
    if cfg.strategy == "fsdp":
        out["fsdp_config"] = FSDP_DEFAULTS | cfg.fsdp_config
    return out


def launch(cfg: DistributedConfig, module: str, args: Sequence[str]) -> bool:
    """Re-run ``python -m module args`` under ``accelerate launch`` if ``cfg`` asks for it.

    Returns:
        False when this process should train itself (one process, or already launched); True
        after the launched run succeeded.

    Raises:
        RadisError: If FSDP is asked for without a GPU (accelerate would quietly fall back to DDP
            on the CPU), or the launched run fails (its processes print their own errors).
    """
    if cfg.num_processes == 1 or "LOCAL_RANK" in os.environ:
        return False
    if cfg.strategy == "fsdp" and not torch.cuda.is_available():
        raise RadisError("params.yaml: train.distributed.strategy: fsdp needs GPUs; use ddp")
    if accelerate_launch(cfg, ["-m", module, *args]):
        raise RadisError(f"accelerate launch of {module} with {cfg.num_processes} processes failed")
    return True


def accelerate_launch(cfg: DistributedConfig, target: Sequence[str]) -> int:
    """Run ``accelerate launch target`` with the config file of ``cfg``; its exit status."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="accelerate-") as f:
        yaml.safe_dump(accelerate_config(cfg), f)
        f.flush()
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", f.name]
        return subprocess.run([*cmd, *target]).returncode


def shard(items: Sequence[T], rank: int, world: int) -> list[tuple[T, bool]]:
    """Process ``rank``'s share of ``items``, round-robin, as (item, active) pairs.

    Every process gets the same number of pairs (DDP and FSDP need matching forward and backward
    calls): a process short of items repeats the first one, inactive (its loss is weighted 0).
    """
    mine = [(item, True) for item in items[rank::world]]
    return mine + [(items[0], False)] * (-(-len(items) // world) - len(mine))


class Replicas:
    """One process's part of a data-parallel run; every method is the identity in one process.

    Under ``accelerate launch`` an ``accelerate.Accelerator`` wraps the model in DDP (or FSDP),
    on the local GPU with NCCL, or on the CPU with gloo when there is no GPU. The stage launches
    only for two or more processes; ``bench/gpu_fsdp.py`` launches one, to check FSDP on one GPU.
    """

    def __init__(self):
        self.world = world_size()
        self.accelerator = None
        self.module = None
        if "LOCAL_RANK" in os.environ:  # under accelerate launch (one process too)
            from accelerate import Accelerator

            self.accelerator = Accelerator(cpu=not torch.cuda.is_available())
        self.rank = self.accelerator.process_index if self.accelerator else 0
        self.is_main = self.rank == 0

    @property
    def sharded(self) -> bool:
        """Whether parameters are sharded across processes (FSDP)."""
        return self.accelerator is not None and self.accelerator.distributed_type == "FSDP"

    def prepare(self, module: torch.nn.Module, optim: torch.optim.Optimizer) -> torch.nn.Module:
        """Wrap ``module`` for data parallelism; ``optim``'s parameters are remapped in place."""
        if self.accelerator:
            module, _ = self.accelerator.prepare(module, optim)
        self.module = module
        return module

    def shard(self, items: Sequence[T]) -> list[tuple[T, bool]]:
        """The items of this process (see :func:`shard`)."""
        return shard(items, self.rank, self.world)

    def sync(self, last: bool) -> contextlib.AbstractContextManager:
        """Gradient synchronisation only on the last backward of a step (``no_sync`` before)."""
        if self.accelerator is None or last:
            return contextlib.nullcontext()
        return self.accelerator.no_sync(self.module)

    def sum(self, value: float) -> float:
        """``value`` summed over processes."""
        if self.accelerator is None:
            return value
        return float(self.accelerator.reduce(torch.tensor(value, device=self.device()), "sum"))

    def device(self) -> torch.device:
        """The device of this process's model copy."""
        return self.accelerator.device if self.accelerator else local_device()

    def clip_grad_norm_(self, params: list[torch.Tensor], max_norm: float) -> None:
        """Clip the (summed) gradients to ``max_norm`` over all processes' shards."""
        if self.accelerator is None:
            torch.nn.utils.clip_grad_norm_(params, max_norm)
        else:
            self.accelerator.clip_grad_norm_(self.module.parameters(), max_norm)

    def gather(self, obj: T) -> list[T]:
        """Every process's ``obj``, in rank order."""
        if self.accelerator is None:
            return [obj]
        out = [None] * self.world
        torch.distributed.all_gather_object(out, obj)
        return out

    def full_state_dict(self) -> dict | None:
        """The wrapped module's unsharded state dict under FSDP (every process must call it).

        None otherwise: each process already holds the whole model.
        """
        return self.accelerator.get_state_dict(self.module) if self.sharded else None

    def wait(self) -> None:
        """Barrier: return once every process got here."""
        if self.accelerator:
            self.accelerator.wait_for_everyone()
