"""lm-eval tasks of SDRRL's evaluation (:mod:`radis.evaluate.multilingual_suite`).

Every run writes resolved task YAMLs into a temporary folder and runs them through
:func:`radis.evaluate.harness.run` on one model instance:

- BELEBELE: a YAML that includes lm-eval's own ``belebele/belebele_<code>.yaml`` (its prompt,
  choices and metrics) and only redirects its data: ``dataset_path`` to the mirror folder, or
  the hub revision in ``dataset_kwargs``.
- Generation benchmarks: ``radis/evaluate/tasks/multilingual_radis.yaml`` over a Parquet of
  ``prompt``/``target`` rows per benchmark and language.
"""

import tempfile
from pathlib import Path

import pandas as pd
import yaml

from radis.core.io import RadisError
from radis.data.hub import pin
from radis.evaluate import harness
from radis.evaluate.multilingual import BenchData, MultilingualConfig, mirror_path

TASK_YAML = Path(__file__).parent / "tasks" / "multilingual_radis.yaml"
LETTERS = "ABCD"


def belebele_yaml(code: str) -> Path:
    """lm-eval's own task file of BELEBELE in FLORES-200 code ``code``."""
    import lm_eval

    path = Path(lm_eval.__file__).parent / "tasks" / "belebele" / f"belebele_{code}.yaml"
    if not path.is_file():
        raise RadisError(f"lm-eval has no BELEBELE task for {code!r} ({path} not found)")
    return path


def write_belebele(folder: Path, code: str, data: BenchData, mirror: str | None) -> str:
    """Write the BELEBELE task of ``code`` (lm-eval's, data redirected); return its name."""
    name = f"belebele_{code}"
    config = {"include": str(belebele_yaml(code)), "task": name}
    if mirror:
        config["dataset_path"] = str(mirror_path(mirror, data.id).resolve())
    else:
        config["dataset_path"] = data.id
        revision = pin(data.id, data.revision, "params.yaml: multilingual.belebele")
        config["dataset_kwargs"] = {"revision": revision}
    config["test_split"] = data.split
    (Path(folder) / f"{name}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return name


def write_generate(folder: Path, name: str, rows: pd.DataFrame, max_gen_toks: int) -> None:
    """Write generate task ``name`` over ``rows`` (prompt, target) into ``folder``."""
    data = Path(folder) / f"{name}.parquet"
    rows[["prompt", "target"]].to_parquet(data, index=False)
    config = yaml.safe_load(TASK_YAML.read_text())
    config["task"] = name
    config["dataset_kwargs"]["data_files"] = {"test": str(data.resolve())}
    config["generation_kwargs"]["max_gen_toks"] = max_gen_toks
    (Path(folder) / f"{name}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def run_tasks(
    lm, folder: Path, tasks: list[str], cfg: MultilingualConfig, data: BenchData, seed: int
):
    """:func:`radis.evaluate.harness.run` of ``tasks`` in ``folder`` with ``data``'s knobs."""
    return harness.run(
        lm,
        folder,
        tasks,
        num_fewshot=data.num_fewshot,
        limit=data.limit,
        apply_chat_template=cfg.apply_chat_template,
        fewshot_as_multiturn=cfg.fewshot_as_multiturn,
        seed=seed,
    )


def generate(lm, tasks: dict[str, pd.DataFrame], cfg, data: BenchData, seed: int) -> dict:
    """Generate for every row of every task; ``{task: [(prompt, output)] in row order}``.

    The rows are already cut to ``data.limit``; the harness sees them all.
    """
    tasks = {name: rows for name, rows in tasks.items() if len(rows)}
    if not tasks:
        return {}
    with tempfile.TemporaryDirectory(prefix="radis-ml-") as folder:
        for name, rows in tasks.items():
            write_generate(Path(folder), name, rows, data.max_gen_toks)
        full = BenchData(**{**vars(data), "limit": None})
        results = run_tasks(lm, Path(folder), list(tasks), cfg, full, seed)
    out = {}
    for name in tasks:
        samples = sorted(results["samples"][name], key=lambda s: s["doc_id"])
        out[name] = [(str(s["arguments"][0][0]), s["resps"][0][0]) for s in samples]
        if len(out[name]) != len(tasks[name]):
            raise RadisError(
                f"lm-eval: task {name}: {len(out[name])} outputs for {len(tasks[name])}"
            )
    return out


def belebele(lm, codes: list[str], cfg: MultilingualConfig, seed: int) -> dict[str, pd.DataFrame]:
    """BELEBELE of every FLORES-200 code: per code, one row per question.

    Columns doc_id, prompt, choice (the letter of the most likely answer), gold, correct.
    """
    with tempfile.TemporaryDirectory(prefix="radis-bele-") as folder:
        names = {c: write_belebele(Path(folder), c, cfg.belebele, cfg.mirror) for c in codes}
        results = run_tasks(lm, Path(folder), list(names.values()), cfg, cfg.belebele, seed)
    out = {}
    for code, name in names.items():
        rows = []
        for s in sorted(results["samples"][name], key=lambda s: s["doc_id"]):
            lls = [r[0] for r in s["filtered_resps"]]
            rows.append(
                dict(
                    doc_id=s["doc_id"],
                    prompt=str(s["arguments"][0][0]),
                    choice=LETTERS[max(range(len(lls)), key=lls.__getitem__)],
                    gold=LETTERS[int(s["target"])],
                    correct=float(s["acc"]),
                )
            )
        out[code] = pd.DataFrame(rows, columns=["doc_id", "prompt", "choice", "gold", "correct"])
    return out
