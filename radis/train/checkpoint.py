"""Resumable training checkpoints: trainable weights, optimizer, schedule, RNG states and log.

:func:`radis.train.loop.fit` writes one every ``train.checkpoint_every`` optimizer steps and resumes
from it; the data order is a function of seed and epoch, so a resumed run takes the same steps.
"""

from pathlib import Path

import torch

from radis.core.io import atomic_path
from radis.train.distributed import Replicas


def rng_state() -> dict:
    """The torch RNG states of this process (CPU, and the current GPU's when there is one)."""
    cuda = torch.cuda.get_rng_state() if torch.cuda.is_available() else None
    return {"cpu": torch.get_rng_state(), "cuda": cuda}


def save_checkpoint(
    path: Path, model, optim, sched, log: list[dict], replicas: Replicas, best: dict | None = None
) -> None:
    """Save what resuming needs: trainable weights, optimizer, schedule, RNG and the log.

    ``best`` is early stopping's copy of the best epoch's trainable weights (or None). Every
    process must call it (it gathers each process's RNG state); the main one writes.
    """
    rng = replicas.gather(rng_state())
    if not replicas.is_main:
        return
    state = {
        "trainable": {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad},
        "optim": optim.state_dict(),
        "sched": sched.state_dict(),
        "rng": rng,
        "log": log,
        "best": None if best is None else {n: v.cpu() for n, v in best.items()},
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path, model, optim, sched, rank: int = 0) -> tuple[list[dict], dict]:
    """Restore a checkpoint written by :func:`save_checkpoint`; return its log and best weights.

    It is read with ``weights_only=True``: tensors, numbers and containers, no pickled code.
    """
    state = torch.load(path, weights_only=True)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state["trainable"].items():
            params[name].copy_(value)
    optim.load_state_dict(state["optim"])
    sched.load_state_dict(state["sched"])
    rng = state["rng"][rank]
    torch.set_rng_state(rng["cpu"])
    if rng["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])
    return state["log"], state["best"]
