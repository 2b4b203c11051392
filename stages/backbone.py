"""Stage backbone: train the toy backbone, or download the configured hub model at its revision."""

from pathlib import Path

import pandas as pd
import typer

from radis.backbone import download
from radis.cli import MODEL_DIR, base, params, stage_errors
from radis.io import atomic_path, read_table
from radis.schemas import SFT, TRANSLATION
from radis.toy.backbone import BackboneConfig, build_model, instruction_tune, train_tokenizer

app = typer.Typer(add_completion=False)


@app.command()
def main(world: Path = Path("data/toy/world"), out: Path = Path(MODEL_DIR)) -> None:
    """Save a tokenizer and model to OUT, loadable with ``from_pretrained``."""
    with stage_errors():
        b = base()
        if b.backbone != "toy":
            with atomic_path(out) as tmp:
                download(b.backbone, b.revision, tmp)
            return
        cfg = params("toy.backbone", BackboneConfig)
        cfg.train.seed = b.seed
        chat = read_table(world / "chat.parquet", SFT)
        parallel = read_table(world / "parallel.parquet", TRANSLATION)
        texts = (chat.prompt + "\n" + chat.completion).tolist() + parallel.source.tolist()
        tokenizer = train_tokenizer(texts, cfg.vocab_size)
        model = build_model(tokenizer, cfg.model, cfg.train.seed)
        log = instruction_tune(model, tokenizer, chat.to_dict("records"), cfg.train)
        with atomic_path(out) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            pd.DataFrame(log).to_csv(tmp / "train_log.csv", index=False)


if __name__ == "__main__":
    app()
