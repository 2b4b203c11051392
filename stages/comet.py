"""Stage comet: COMET scores of one model's test translations, in the COMET environment."""

from pathlib import Path

import typer

from radis.cli import ModelName, stage_errors
from radis.core.io import read_table, write_json, write_table
from radis.core.params import model_name, params
from radis.core.schemas import COMET, PREDICTION, TRANSLATION
from radis.data.hub import commit_metrics
from radis.evaluate.comet import CometConfig, comet_metrics, score_segments, translation_segments

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: ModelName,
    data: Path = Path("data/fetch"),
    eval_dir: Path = Path("data/eval"),
    out_dir: Path = Path("data/comet"),
    metrics_dir: Path = Path("metrics/eval"),
) -> None:
    """COMET of EVAL_DIR/NAME/predictions.parquet.

    Writes OUT_DIR/NAME.parquet (segment scores), OUT_DIR/NAME.commits.json (the COMET model's
    hub commit; empty for a local checkpoint) and METRICS_DIR/NAME/comet.json.
    """
    with stage_errors():
        model_name(name)
        cfg = params("comet", CometConfig)
        predictions = read_table(eval_dir / name / "predictions.parquet", PREDICTION)
        translation = read_table(data / "translation.parquet", TRANSLATION)
        segments = score_segments(translation_segments(predictions, translation), cfg)
        write_table(segments, out_dir / f"{name}.parquet", COMET)
        write_json(commit_metrics(), out_dir / f"{name}.commits.json")
        write_json(comet_metrics(segments), metrics_dir / name / "comet.json")


if __name__ == "__main__":
    app()
