"""COMET scores (wmt22-comet-da) and CometKiwi quality estimation, in COMET's own environment.

unbabel-comet needs transformers<5 and numpy<2, so it lives in ``.venv-comet`` (``make
comet-env``): this module never imports it, but writes a request to a temporary folder, runs
``radis/evaluate/comet_worker.py`` with that environment's python, and reads the scores back.
"""

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radis.core import progress
from radis.core.config import positive
from radis.core.io import RadisError
from radis.data.hub import COMMITS

WORKER = Path(__file__).with_name("comet_worker.py")


@dataclass
class CometConfig:
    """Params of a COMET scorer (``comet`` for evaluation; SDRRL's filter has its own).

    Attributes:
        model: A hub id (``Unbabel/wmt22-comet-da``; ``Unbabel/wmt22-cometkiwi-da`` for quality
            estimation, reference-free) or a local checkpoint: a ``model.ckpt`` or a folder with
            ``checkpoints/model.ckpt``, as the hub's snapshot has.
        batch_size: Segments per forward pass.
        gpus: 0 runs on CPU, 1 on one GPU.
        python: The COMET environment's interpreter.
    """

    model: str = "Unbabel/wmt22-comet-da"
    batch_size: int = 16
    gpus: int = 0
    python: str = ".venv-comet/bin/python"

    def __post_init__(self):
        positive(batch_size=self.batch_size)
        if self.gpus not in (0, 1):
            raise ValueError(f"gpus: must be 0 (CPU) or 1, got {self.gpus}")


@dataclass
class CometScores:
    """COMET's output: one score per segment, and the system score (their mean)."""

    segments: list[float]
    system: float


def comet_scores(
    sources: Sequence[str],
    translations: Sequence[str],
    cfg: CometConfig,
    references: Sequence[str] | None = None,
) -> CometScores:
    """Score ``translations`` of ``sources`` (against ``references`` unless None) with COMET.

    A hub model's commit is recorded in :data:`radis.data.hub.COMMITS`.

    Raises:
        RadisError: If the COMET environment is missing, the model cannot be had (the real
            cause, e.g. no network, in one line), or COMET fails.
    """
    columns = {"src": sources, "mt": translations}
    if references is not None:
        columns["ref"] = references
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise RadisError(f"COMET: inputs differ in length {lengths}")
    if not len(sources):
        return CometScores([], float("nan"))
    samples = [dict(zip(columns, map(str, row))) for row in zip(*columns.values())]
    model = checkpoint(cfg.model)
    response = run_worker(
        cfg, {"model": model, "batch_size": cfg.batch_size, "gpus": cfg.gpus, "samples": samples}
    )
    if response["commit"]:
        COMMITS[cfg.model] = response["commit"]
    return CometScores(response["scores"], response["system_score"])


def qe_scores(sources: Sequence[str], translations: Sequence[str], cfg: CometConfig) -> list[float]:
    """Reference-free quality estimates (CometKiwi) of ``translations``, one per segment.

    ``cfg.model`` must be a reference-free model, e.g. ``Unbabel/wmt22-cometkiwi-da``.
    """
    return comet_scores(sources, translations, cfg).segments


def checkpoint(model: str) -> str:
    """A model folder's ``checkpoints/model.ckpt``; a checkpoint file or hub id as it is.

    Raises:
        RadisError: If ``model`` is a path (ends with ``.ckpt``, starts with ``.``, ``/`` or
            ``~``) that does not exist, or a folder without ``checkpoints/model.ckpt``.
    """
    path = Path(model)
    is_path = path.suffix == ".ckpt" or model.startswith((".", "/", "~"))
    if is_path and not path.exists():
        raise RadisError(f"{model}: COMET checkpoint not found")
    if not path.is_dir():
        return model
    if not (path / "checkpoints" / "model.ckpt").is_file():
        raise RadisError(f"{path}: COMET model folder without checkpoints/model.ckpt")
    return str(path / "checkpoints" / "model.ckpt")


def run_worker(cfg: CometConfig, request: dict) -> dict:
    """Run the COMET worker on ``request`` in the COMET environment; return its response.

    COMET's progress bar (segments scored, ETA) is passed on to stderr
    (:func:`radis.core.progress.relay`); the rest of the worker's output only names a failure.
    """
    python = Path(cfg.python)
    if not python.is_file():
        raise RadisError(f"{python}: COMET environment not found; create it with `make comet-env`")
    with tempfile.TemporaryDirectory(prefix="radis-comet-") as tmp:
        req, resp = Path(tmp) / "request.json", Path(tmp) / "response.json"
        req.write_text(json.dumps(request))
        with subprocess.Popen(
            [str(python), "-I", str(WORKER), str(req), str(resp)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=os.environ | {"TOKENIZERS_PARALLELISM": "false"},
        ) as proc:
            lines = progress.relay(proc.stderr) or ["no output"]
        if not resp.is_file():
            raise RadisError(f"COMET worker failed (exit {proc.returncode}): {lines[-1]}")
        response = json.loads(resp.read_text())
    if "error" in response:
        raise RadisError(response["error"])
    return response


def translation_segments(predictions: pd.DataFrame, translation: pd.DataFrame) -> pd.DataFrame:
    """The translation predictions with their source sentence, ready for COMET.

    Args:
        predictions: A ``prediction`` table (translation rows: ``subtask`` is the direction).
        translation: The ``translation`` table the predictions were made from (by ``id``).

    Returns:
        Columns id, direction, source, hypothesis, reference, in the predictions' order.

    Raises:
        RadisError: If a prediction's id is not in ``translation``.
    """
    mt = predictions[predictions.task == "translation"]
    sources = translation.set_index("id").source
    missing = sorted(set(mt.id) - set(sources.index))
    if missing:
        raise RadisError(f"translation table: no source for prediction id(s) {missing[:5]}")
    return pd.DataFrame(
        {
            "id": mt.id.to_numpy(),
            "direction": mt.subtask.to_numpy(),
            "source": sources.loc[mt.id].to_numpy(),
            "hypothesis": mt.hypothesis.to_numpy(),
            "reference": mt.reference.to_numpy(),
        }
    )


def score_segments(segments: pd.DataFrame, cfg: CometConfig) -> pd.DataFrame:
    """``segments`` (see :func:`translation_segments`) with a ``comet`` column, one per row."""
    scores = comet_scores(
        segments.source.tolist(), segments.hypothesis.tolist(), cfg, segments.reference.tolist()
    )
    return segments.assign(comet=scores.segments)


def comet_metrics(segments: pd.DataFrame) -> dict[str, float]:
    """Flat COMET metrics (× 100, as the papers report): per direction, per group, overall.

    ``mt.<dir>.comet`` is the direction's system score (mean of its segments);
    ``mt.xx-en.comet`` and ``mt.en-xx.comet`` average the directions into and out of English
    (the paper's groups); ``mt.comet`` averages all directions.
    """
    per_dir = {d: 100 * rows.comet.mean() for d, rows in segments.groupby("direction", sort=True)}
    out = {f"mt.{d}.comet": round(v, 2) for d, v in per_dir.items()}
    groups = {
        "xx-en": [v for d, v in per_dir.items() if d.endswith("-en")],
        "en-xx": [v for d, v in per_dir.items() if not d.endswith("-en")],
    }
    out |= {f"mt.{g}.comet": round(sum(v) / len(v), 2) for g, v in groups.items() if v}
    if per_dir:
        out["mt.comet"] = round(sum(per_dir.values()) / len(per_dir), 2)
    return out
