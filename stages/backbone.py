"""Stage backbone: train the toy backbone, or download the configured hub model at its revision."""

from pathlib import Path

import pandas as pd
import typer

from radis.backbone import apply_prompt_format, download
from radis.cli import MODEL_DIR, base, params, stage_errors
from radis.io import atomic_path, read_table
from radis.schemas import SFT, TRANSLATION
from radis.toy.backbone import BackboneConfig, build_model, instruction_tune, train_tokenizer

app = typer.Typer(add_completion=False)


@app.command()
def main(
    world: Path = Path("data/toy/world"),
    out: Path = Path(MODEL_DIR),
    log: Path = Path("metrics/train/backbone.csv"),
) -> None:
    """Save a tokenizer and model to OUT, loadable with ``from_pretrained``.

    The toy backbone's per-step training log (with its wall-clock column) goes to LOG, outside
    the model folder: OUT holds only what the same inputs make byte for byte.
    """
    with stage_errors():
        b = base()
        if b.backbone != "toy":
            with atomic_path(out) as tmp:
                download(b.backbone, b.revision, tmp)
                apply_prompt_format(tmp, b.prompt_format)
            with atomic_path(log) as tmp:  # nothing trained: the plot's header only
                pd.DataFrame(columns=["step", "loss"]).to_csv(tmp, index=False)
            return
        cfg = params("toy.backbone", BackboneConfig)
        cfg.train.seed = b.seed
        chat = read_table(world / "chat.parquet", SFT)
        parallel = read_table(world / "parallel.parquet", TRANSLATION)
        texts = (chat.prompt + "\n" + chat.completion).tolist() + parallel.source.tolist()
        tokenizer = train_tokenizer(texts, cfg.vocab_size)
        model = build_model(tokenizer, cfg.model, cfg.train.seed)
        steps = instruction_tune(model, tokenizer, chat.to_dict("records"), cfg.train)
        with atomic_path(out) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            apply_prompt_format(tmp, b.prompt_format)
        with atomic_path(log) as tmp:
            pd.DataFrame(steps).to_csv(tmp, index=False)


if __name__ == "__main__":
    app()
