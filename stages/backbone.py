"""Stage backbone: train the toy backbone, or download the configured hub model at its revision."""

from pathlib import Path

import typer

from radis.cli import stage_errors
from radis.core.io import atomic_path, read_table
from radis.core.params import MODEL_DIR, base, params
from radis.core.schemas import SFT, TRANSLATION
from radis.data.backbone import apply_prompt_format, download
from radis.toy.backbone import BackboneConfig, build_model, instruction_tune, train_tokenizer
from radis.train.live import live_log

app = typer.Typer(add_completion=False)


@app.command()
def main(
    world: Path = Path("data/toy/world"),
    out: Path = Path(MODEL_DIR),
    log: Path = Path("metrics/train/backbone"),
) -> None:
    """Save a tokenizer and model to OUT, loadable with ``from_pretrained``.

    The toy backbone's per-step training log (a DVCLive folder, :mod:`radis.train.live`, with a
    wall-clock figure) goes to LOG, outside the model folder: OUT holds only what the same
    inputs make byte for byte. A downloaded backbone leaves LOG without steps.
    """
    with stage_errors():
        b = base()
        if b.backbone != "toy":
            with atomic_path(out) as tmp:
                download(b.backbone, b.revision, tmp)
                apply_prompt_format(tmp, b.prompt_format)
            with live_log(log):  # nothing trained: no steps
                return
        cfg = params("toy.backbone", BackboneConfig)
        chat = read_table(world / "chat.parquet", SFT)
        parallel = read_table(world / "parallel.parquet", TRANSLATION)
        texts = (chat.prompt + "\n" + chat.completion).tolist() + parallel.source.tolist()
        tokenizer = train_tokenizer(texts, cfg.vocab_size)
        model = build_model(tokenizer, cfg.model, b.seed)
        with live_log(log) as on_log:
            instruction_tune(model, tokenizer, chat.to_dict("records"), cfg.train, b.seed, on_log)
        with atomic_path(out) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            apply_prompt_format(tmp, b.prompt_format)


if __name__ == "__main__":
    app()
