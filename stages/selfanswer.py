"""Stage selfanswer: the backbone answers the English instruction set itself (SDRRL's G)."""

from pathlib import Path

import typer

from radis.cli import skip_sdrrl, stage_errors
from radis.core.io import read_table, write_table
from radis.core.params import base, params
from radis.core.schemas import SDRRL_ANSWERS, SFT
from radis.generate.serve import open_backend
from radis.sdrrl.selfanswer import SelfAnswerConfig, sample_questions, self_answer

app = typer.Typer(add_completion=False)


@app.command()
def main(
    data: Path = Path("data/fetch/instructions.parquet"),
    out: Path = Path("data/sdrrl/selfanswer.parquet"),
) -> None:
    """Write OUT: the sampled questions, their references and the backbone's answers."""
    with stage_errors():
        if skip_sdrrl((out, SDRRL_ANSWERS)):
            return
        b = base()
        cfg = params("selfanswer", SelfAnswerConfig)
        questions = sample_questions(read_table(data, SFT), cfg.questions, b.seed)
        backend = open_backend(b, b.model_dir, "selfanswer")
        write_table(self_answer(questions, backend, cfg, b.seed), out, SDRRL_ANSWERS)
        backend.clean()


if __name__ == "__main__":
    app()
