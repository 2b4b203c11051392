"""Stage gradcos: per-layer gradient similarity of one method's losses, at every checkpoint."""

from pathlib import Path

import typer

from radis.analysis.gradcos import GradcosConfig, analyse, general_set, metrics, plot
from radis.analysis.gradsets import mt_and_reg, train_sample
from radis.cli import MethodName, stage_errors
from radis.core.config import PARAMS
from radis.core.io import read_table, write_json, write_table
from radis.core.params import base, method_name, params
from radis.core.schemas import GRADCOS, PREDICTION, SFT, TRAIN_SET, TRANSLATION
from radis.data.build import recipe_config
from radis.generate.serve import open_backend
from radis.train.loop import expandable_segments, method_config

app = typer.Typer(add_completion=False)


@app.command()
def main(
    method: MethodName,
    build_dir: Path = Path("data/build"),
    fetch_dir: Path = Path("data/fetch"),
    eval_dir: Path = Path("data/eval/backbone"),
    models: Path = Path("data/models"),
    out_dir: Path = Path("data/analysis/gradcos"),
    metrics_dir: Path = Path("metrics/gradcos"),
) -> None:
    """Per-layer cosines of METHOD's gradients, at the backbone and after every epoch.

    Two pairs: the MT loss vs. the method's regularisation term (none: skipped), and the
    backbone's own general answers vs. the method's training loss (radis/analysis/gradcos.py).

    Writes OUT_DIR/METHOD.parquet, METRICS_DIR/METHOD.json and METRICS_DIR/METHOD.png.
    """
    expandable_segments()
    with stage_errors():
        method_name(params("methods"), method)
        b = base()
        cfg = params("gradcos", GradcosConfig)
        entry = params(f"build.{method}")
        recipe = recipe_config(entry, f"{PARAMS}: build.{method}")
        overrides = entry.get("train", {}) if isinstance(entry, dict) else {}
        train = method_config(params("train"), overrides, method, b.seed)
        path = build_dir / f"{method}.parquet"
        rows = read_table(path, TRAIN_SET)
        translation = read_table(fetch_dir / "translation.parquet", TRANSLATION)
        sets = {"train": train_sample(rows, cfg.train_rows, b.seed)}
        split = mt_and_reg(rows, recipe, translation, cfg.rows_per_direction, b.seed, str(path))
        if split is not None:
            sets["mt"], sets["reg"] = split
        predictions = read_table(eval_dir / "predictions.parquet", PREDICTION)
        instructions = read_table(fetch_dir / "instructions.parquet", SFT, allow_empty=True)
        sets["general"] = general_set(
            predictions,
            instructions,
            cfg,
            b.seed,
            lambda: open_backend(b, b.model_dir, "gradcos-general"),
        )
        table = analyse(b.model_dir, models / method, sets, train, cfg)
        write_table(table, out_dir / f"{method}.parquet", GRADCOS)
        write_json(
            metrics(table, {k: len(v) for k, v in sets.items()}), metrics_dir / f"{method}.json"
        )
        plot(table, metrics_dir / f"{method}.png", f"Gradient similarity per layer: {method}")


if __name__ == "__main__":
    app()
