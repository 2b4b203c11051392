"""The training log through DVCLive: each step's loss, learning rate and tokens/s as it is made.

A training stage logs into its own DVCLive folder (``metrics/train/<method>``):
``plots/metrics/<name>.tsv`` (one row per step: ``step``, value) for every name in
:data:`METRICS`, appended at every step, and ``metrics.json`` (the latest values and step),
rewritten every :data:`SYNC_SECONDS` and at the end. So ``dvc plots show`` and ``dvc exp show``
follow a running experiment. ``dvc.yaml`` declares them (DVCLive writes no ``dvc.yaml`` of its
own, and never saves an experiment: under ``dvc exp run`` DVC does, under ``dvc repro`` nothing
is committed). ``tokens_per_s`` is a wall-clock figure, so the folder changes from run to run;
nothing depends on it, and the trained model never depends on the log.
"""

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

#: The step record's fields logged at every step (:func:`radis.train.loop.fit`'s records); the
#: held-out ``val_loss`` of early stopping is logged at the epochs' ends it is measured at.
METRICS = ("loss", "objective", "lr", "tokens_per_s", "target_tokens", "tokens")
#: ``metrics.json`` (and DVC Studio, when set up) is brought up to date at most this often, and
#: at the end: DVCLive's own per-step update rereads every ``.tsv`` and syncs a file to disk,
#: which on a small model costs more than the 2 % the log is allowed.
SYNC_SECONDS = 5.0


@contextlib.contextmanager
def live_log(folder: Path, enabled: bool = True) -> Iterator[Callable[[dict], None] | None]:
    """A callback that logs one training step's record to the DVCLive folder ``folder``.

    For the ``with`` block; ``folder`` is emptied at the start. With ``enabled`` false (a
    process other than the main one) nothing is written and the callback is None.
    """
    if not enabled:
        yield None
        return
    with _open(folder) as live:
        synced = -math.inf

        def log(record: dict) -> None:
            nonlocal synced
            live.step = live.summary["step"] = record["step"]
            for name in METRICS:  # a row appended to each metric's .tsv
                live.log_metric(name, record[name])
            if "val_loss" in record:  # early stopping's held-out loss, at an epoch's end
                live.log_metric("val_loss", record["val_loss"])
            if time.monotonic() - synced >= SYNC_SECONDS:
                live.next_step()  # metrics.json, Studio (if set up), VS Code's step signal
                synced = time.monotonic()

        yield log
        if "step" not in live.summary:  # nothing trained (a downloaded backbone)
            _headers(Path(live.plots_dir, "metrics"))


def _headers(folder: Path) -> None:
    """Write each metric's ``.tsv`` with its header only: DVC plots it empty, and git keeps it.

    (An empty folder is not in git: a clone would miss the stage's output and rerun it.)
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in METRICS:
        (folder / f"{name}.tsv").write_text(f"step\t{name}\n")


def _open(folder: Path):
    """A ``dvclive.Live`` over ``folder`` that writes no dvc.yaml, report or experiment.

    DVCLive 3.49 reads the git repository's HEAD when it starts and fails in a repository
    without a commit yet (``git init; dvc init; dvc repro``); there it is opened without the
    repository, which it needs only to save experiments and to find DVC Studio's settings.
    """
    import dvclive.live
    from scmrepo.exceptions import SCMError

    kwargs = dict(save_dvc_exp=False, dvcyaml=None, report=None)
    try:
        return dvclive.live.Live(str(folder), **kwargs)
    except SCMError:
        find = dvclive.live.get_dvc_repo
        dvclive.live.get_dvc_repo = lambda: None
        try:
            return dvclive.live.Live(str(folder), **kwargs)
        finally:
            dvclive.live.get_dvc_repo = find


def read_log(folder: Path) -> pd.DataFrame:
    """The training log in DVCLive folder ``folder``: one row per step, a column per metric."""
    files = sorted(Path(folder, "plots", "metrics").glob("*.tsv"))
    frames = [pd.read_csv(f, sep="\t", index_col="step") for f in files]
    if not frames:
        return pd.DataFrame(columns=["step", *METRICS])
    return pd.concat(frames, axis=1).reset_index()
