"""Stage machine_translate: questions, references and self answers into LANG (SDRRL step 2)."""

from pathlib import Path

import typer

from radis.cli import skip_sdrrl, stage_errors
from radis.core.io import read_table, write_json, write_table
from radis.core.params import base, params
from radis.core.schemas import SDRRL_ANSWERS, SDRRL_MT
from radis.data.hub import commit_metrics
from radis.sdrrl.machine_translate import (
    TranslateConfig,
    open_translator,
    sources,
    target_language,
    translate_sources,
)
from radis.sdrrl.selfanswer import SelfAnswerConfig

app = typer.Typer(add_completion=False)


@app.command()
def main(
    lang: str = typer.Argument(..., help="Target language: one of base.languages."),
    answers: Path = Path("data/sdrrl/selfanswer.parquet"),
    out_dir: Path = Path("data/sdrrl/machine_translate"),
    metrics_dir: Path = Path("metrics/sdrrl/machine_translate"),
) -> None:
    """Write OUT_DIR/LANG.parquet and METRICS_DIR/LANG.json (rows; the MT model's hub commit)."""
    with stage_errors():
        b = base()
        source = params("selfanswer", SelfAnswerConfig).source_language
        target_language(lang, b.languages, source)
        if skip_sdrrl((out_dir / f"{lang}.parquet", SDRRL_MT)):
            write_json({}, metrics_dir / f"{lang}.json")
            return
        cfg = params("machine_translate", TranslateConfig)
        translator = open_translator(cfg, lang, b.seed, b.dtype, b.shard_rows, source)
        texts = sources(read_table(answers, SDRRL_ANSWERS))
        table = translate_sources(texts, translator, cfg, lang, b.seed)
        write_table(table, out_dir / f"{lang}.parquet", SDRRL_MT)
        write_json({"rows": len(table)} | commit_metrics(), metrics_dir / f"{lang}.json")
        translator.clean()


if __name__ == "__main__":
    app()
