"""Data-parallel generation: one engine per GPU (or GPU group), each on its share of the shards.

With ``base.vllm.data_parallel_size`` N > 1, :func:`radis.generate.serve.open_backend` returns a
:class:`ParallelBackend`. Its process loads only the tokenizer (prompts are rendered there). At
the first call that has shards to make it starts N worker processes (``spawn``); worker k sees
the k-th group of ``tensor_parallel_size`` visible GPUs (``CUDA_VISIBLE_DEVICES``) and loads its
own engine once, with :func:`radis.generate.load.load_backend`, for every later call. Missing shard
i goes to worker i mod N, which generates it exactly as the one-engine path does (the same
prompts, seed ``seed + i``) and writes it to the work folder; the parent then reads every shard
in order. The output is therefore the one-engine output, in prompt order, and a killed run
resumes from the same shards, whatever N either run had.

A worker that fails stops the others, and the parent raises one :class:`~radis.core.io.RadisError`
line naming the engine and its GPUs; a worker that dies without a word (killed, a crash in
native code) is noticed within a second. Workers leave when the backend is cleaned or dropped,
or when the parent dies.
"""

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import sys
import traceback
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from radis.core import progress
from radis.core.io import RadisError
from radis.core.params import VLLMConfig
from radis.core.templates import ChatPrompt
from radis.generate.backend import Completion, GenerationConfig, resolve_model
from radis.generate.load import load_backend
from radis.generate.shards import ShardedBackend, read_shard, write_shard

#: Seconds between a parent's checks that its workers live (and a worker's that its parent does).
POLL = 0.5
#: Seconds a worker asked to leave gets (its engine shuts down) before it is terminated.
GRACE = 60.0


@dataclass(frozen=True)
class EngineSpec:
    """What every worker loads: the arguments of :func:`radis.generate.load.load_backend`."""

    backend: str
    model: str
    dtype: str
    adapter: str | None
    vllm: VLLMConfig
    seed: int


def visible_gpus() -> list[str]:
    """The GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` when set, else every one found."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip()]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def gpu_groups(engines: int, per_engine: int, visible: list[str]) -> list[str | None]:
    """Each engine's ``CUDA_VISIBLE_DEVICES``: consecutive groups of ``per_engine`` GPUs.

    Engine k gets ``visible[k * per_engine : (k + 1) * per_engine]``; GPUs beyond
    ``engines × per_engine`` stay unused. Without any GPU (the CPU) no engine is given any.

    Raises:
        RadisError: If some, but too few, GPUs are visible.
    """
    if not visible:
        return [None] * engines
    need = engines * per_engine
    if len(visible) < need:
        raise RadisError(
            f"params.yaml: base.vllm: data_parallel_size {engines} x tensor_parallel_size "
            f"{per_engine} needs {need} GPUs; {len(visible)} visible ({','.join(visible)})"
        )
    return [",".join(visible[k * per_engine : (k + 1) * per_engine]) for k in range(engines)]


def _pack(prompt: str):
    """A prompt in a picklable form (a :class:`ChatPrompt` keeps its chat)."""
    if isinstance(prompt, ChatPrompt):
        return str(prompt), prompt.messages, prompt.continue_final
    return str(prompt)


def _unpack(packed) -> str:
    return ChatPrompt(*packed) if isinstance(packed, tuple) else packed


def _describe(err: Exception) -> str:
    """One line for a worker's error; an unexpected one's traceback goes to stderr first."""
    if isinstance(err, RadisError):
        return str(err)
    traceback.print_exception(err, file=sys.stderr)
    first = next((line for line in str(err).splitlines() if line.strip()), "")
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


def _worker(rank: int, spec: EngineSpec, tasks, results) -> None:
    """A worker's life: load the engine, then generate and write each shard it is sent.

    Terminated while it works, it exits through Python (the engine shuts down); once its work is
    over, a termination ends it at once.
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        _serve(rank, spec, tasks, results)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _serve(rank: int, spec: EngineSpec, tasks, results) -> None:
    threads = os.environ.get("RADIS_THREADS")
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    parent = mp.parent_process()
    try:
        engine = load_backend(
            spec.backend, spec.model, spec.dtype, spec.adapter, spec.vllm, spec.seed
        )
    except Exception as err:  # an interrupt or a stop is not reported: the parent knows why
        results.put(("error", rank, _describe(err)))
        return
    while True:
        try:
            task = tasks.get(timeout=POLL)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return
            continue
        if task is None:
            return
        index, prompts, cfg, path = task
        try:
            done = engine.generate([_unpack(p) for p in prompts], cfg)
            write_shard(path, done)
        except Exception as err:
            results.put(("error", rank, _describe(err)))
            return
        results.put(("done", rank, index))


@contextlib.contextmanager
def _cuda_devices(devices: str | None) -> Iterator[None]:
    """``CUDA_VISIBLE_DEVICES`` set to ``devices`` (unchanged if None) while a worker starts."""
    before = os.environ.get("CUDA_VISIBLE_DEVICES")
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = before


def _stop(procs: list, tasks: list, grace: float) -> None:
    """Ask every worker to leave, wait up to ``grace`` seconds, then terminate, then kill."""
    for p, q in zip(procs, tasks):
        if p.is_alive():
            with contextlib.suppress(Exception):
                q.put(None)
    for signal_them in (lambda p: None, lambda p: p.terminate(), lambda p: p.kill()):
        for p in procs:
            if p.is_alive():
                signal_them(p)
        for p in procs:
            p.join(grace)
        grace = 5.0
    for q in tasks:
        q.cancel_join_thread()  # undelivered prompts must not block the parent's exit


class EnginePool:
    """N worker processes, each with its own engine, started at the first :meth:`run`."""

    def __init__(self, spec: EngineSpec, groups: list[str | None]):
        """Engines of ``spec``, worker k on GPUs ``groups[k]`` (None: not set, the CPU)."""
        from transformers import AutoTokenizer

        self.spec, self.groups = spec, groups
        self.tokenizer = AutoTokenizer.from_pretrained(resolve_model(spec.model))
        self.procs: list = []
        self.tasks: list = []
        self.results = None
        self._finalizer = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        self.results = ctx.Queue()
        self.tasks = [ctx.Queue() for _ in self.groups]
        for rank, (devices, tasks) in enumerate(zip(self.groups, self.tasks)):
            args = (rank, self.spec, tasks, self.results)
            proc = ctx.Process(target=_worker, args=args, name=f"radis-engine-{rank}")
            with _cuda_devices(devices):
                proc.start()
            self.procs.append(proc)
        self._finalizer = weakref.finalize(self, _stop, self.procs, self.tasks, GRACE)

    def _where(self, rank: int) -> str:
        devices = self.groups[rank]
        return f"engine {rank}" + (f" (GPUs {devices})" if devices is not None else "")

    def run(
        self,
        shards: list[tuple[int, list[str], GenerationConfig, Path]],
        on_done: Callable[[int], None] | None = None,
    ) -> None:
        """Generate ``(index, prompts, cfg, path)`` shards: shard i on engine i mod N.

        Returns once every shard is written to its path; ``on_done`` is called with each
        shard's index as its file is written.

        Raises:
            RadisError: One line, if an engine failed or died (every worker is then stopped).
        """
        if not shards:
            return
        if not self.procs:
            self._start()
        for index, prompts, cfg, path in shards:
            task = (index, [_pack(p) for p in prompts], cfg, Path(path).absolute())
            self.tasks[index % len(self.procs)].put(task)
        pending = {index for index, *_ in shards}
        while pending:
            try:
                kind, rank, value = self.results.get(timeout=POLL)
            except queue.Empty:
                self._check_alive()
                continue
            if kind == "error":
                self._fail(f"generation {self._where(rank)} failed: {value}")
            pending.discard(value)
            if on_done:
                on_done(value)

    def _check_alive(self) -> None:
        """Raise if a worker has left; an error it sent on its way out is the one reported."""
        dead = [rank for rank, p in enumerate(self.procs) if not p.is_alive()]
        if not dead:
            return
        with contextlib.suppress(queue.Empty):
            while True:
                kind, rank, value = self.results.get(timeout=POLL)
                if kind == "error":
                    self._fail(f"generation {self._where(rank)} failed: {value}")
        rank = dead[0]
        code = self.procs[rank].exitcode
        self._fail(f"generation {self._where(rank)} exited with code {code} and no error message")

    def _fail(self, message: str):
        self.close(grace=0.0)
        raise RadisError(message)

    def close(self, grace: float = GRACE) -> None:
        """Stop the workers (their engines shut down); a later :meth:`run` starts new ones."""
        if self._finalizer is not None:
            self._finalizer.detach()
            _stop(self.procs, self.tasks, grace)
        self.procs, self.tasks, self.results, self._finalizer = [], [], None, None


class ParallelBackend(ShardedBackend):
    """A sharded backend whose missing shards go to an :class:`EnginePool`.

    Its work folder and shards are those of the one-engine backend: either resumes the other's.
    """

    def generate(self, prompts: list[str], cfg: GenerationConfig) -> list[Completion]:
        """Continue every prompt, in order; finished shards of an earlier run are reused."""
        paths = self.shard_paths(prompts, cfg)
        missing = [i for i, path in enumerate(paths) if not path.is_file()]
        if len(missing) < len(paths):
            print(
                f"resumed: {len(paths) - len(missing)}/{len(paths)} shards reused from "
                f"{paths[0].parent}",
                file=sys.stderr,
            )
        if missing and self.inner is None:
            raise RadisError("generation backend used after its engines were released")
        shards = {i: self.shard(prompts, cfg, i) for i in missing}
        with progress.bar(len(prompts), self.work_dir.name, "prompt") as bar:
            bar.skip(len(prompts) - sum(len(chunk) for chunk, _ in shards.values()))

            def done(i: int) -> None:  # a shard's rows, with the tokens its engine made
                made = sum(c.completion_tokens for c in read_shard(paths[i]))
                bar.update(len(shards[i][0]), made)

            self.inner.run([(i, *shards[i], paths[i]) for i in missing], done)
        return [c for path in paths for c in read_shard(path)]

    def clean(self) -> None:
        """Stop the engines, then remove the work folder."""
        if self.inner is not None:
            self.inner.close()
        super().clean()


def open_parallel(b, model: str, adapter: str, work_dir: Path, fingerprint: str) -> ParallelBackend:
    """:class:`ParallelBackend` over ``b.vllm.data_parallel_size`` engines (``b``: params ``base``).

    A vLLM engine takes ``tensor_parallel_size`` GPUs, an ``hf`` one a single GPU.
    """
    per_engine = b.vllm.tensor_parallel_size if b.backend == "vllm" else 1
    groups = gpu_groups(b.vllm.data_parallel_size, per_engine, visible_gpus())
    spec = EngineSpec(b.backend, str(model), b.dtype, adapter or None, b.vllm, b.seed)
    return ParallelBackend(EnginePool(spec, groups), work_dir, b.shard_rows, fingerprint)
