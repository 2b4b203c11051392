"""Stage codeswitch: every question with dictionary-covered tokens switched (seeded, p)."""

from pathlib import Path

import typer

from radis.cli import skip_sdrrl, stage_errors
from radis.core.io import read_table, write_json, write_table
from radis.core.params import base, params
from radis.core.schemas import CODESWITCH, SDRRL_ANSWERS
from radis.sdrrl.codeswitch import CodeSwitchConfig, read_dictionaries, switch_summary, switch_table
from radis.sdrrl.recipes import read_kept
from radis.sdrrl.selfanswer import SelfAnswerConfig

app = typer.Typer(add_completion=False)


@app.command()
def main(
    answers: Path = Path("data/sdrrl/selfanswer.parquet"),
    filtered_dir: Path = Path("data/sdrrl/filter"),
    out: Path = Path("data/sdrrl/codeswitch.parquet"),
    metrics: Path = Path("metrics/sdrrl/codeswitch.json"),
) -> None:
    """Write OUT (en-X and X-en code-switched questions) and METRICS (switch rates)."""
    with stage_errors():
        if skip_sdrrl((out, CODESWITCH)):
            write_json({}, metrics)
            return
        b = base()
        cfg = params("codeswitch", CodeSwitchConfig)
        source = params("selfanswer", SelfAnswerConfig).source_language
        there, back = read_dictionaries(cfg.dictionaries, b.languages, source)
        kept = read_kept(filtered_dir, b.languages)
        questions = read_table(answers, SDRRL_ANSWERS)
        table = switch_table(questions, kept, there, cfg.p, b.seed, back, cfg.unspaced, source)
        write_table(table, out, CODESWITCH)
        write_json(switch_summary(table), metrics)


if __name__ == "__main__":
    app()
