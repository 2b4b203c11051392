"""Stage translate: questions, references and self answers from the source language into LANG."""

from pathlib import Path

import typer

from radis.cli import base, params, skip_sdrrl, stage_errors
from radis.hub import commit_metrics
from radis.io import read_table, write_json, write_table
from radis.schemas import SDRRL_ANSWERS, SDRRL_MT
from radis.selfanswer import SelfAnswerConfig
from radis.translate import (
    TranslateConfig,
    open_translator,
    sources,
    target_language,
    translate_sources,
)

app = typer.Typer(add_completion=False)


@app.command()
def main(
    lang: str = typer.Argument(..., help="Target language: one of base.languages."),
    answers: Path = Path("data/sdrrl/selfanswer.parquet"),
    out_dir: Path = Path("data/sdrrl/translate"),
    metrics_dir: Path = Path("metrics/sdrrl/translate"),
) -> None:
    """Write OUT_DIR/LANG.parquet and METRICS_DIR/LANG.json (rows; the MT model's hub commit)."""
    with stage_errors():
        b = base()
        source = params("selfanswer", SelfAnswerConfig).source_language
        target_language(lang, b.languages, source)
        if skip_sdrrl((out_dir / f"{lang}.parquet", SDRRL_MT)):
            write_json({}, metrics_dir / f"{lang}.json")
            return
        cfg = params("translate", TranslateConfig)
        translator = open_translator(cfg, lang, b.seed, b.dtype, b.shard_rows, source)
        texts = sources(read_table(answers, SDRRL_ANSWERS))
        table = translate_sources(texts, translator, cfg, lang, b.seed)
        write_table(table, out_dir / f"{lang}.parquet", SDRRL_MT)
        write_json({"rows": len(table)} | commit_metrics(), metrics_dir / f"{lang}.json")
        translator.clean()


if __name__ == "__main__":
    app()
