"""Stage instruct-eval: one model's AlpacaEval and MT-Bench answers, in the judges' formats."""

from pathlib import Path

import pandas as pd
import typer

from radis.cli import AdapterOption, ModelName, ModelOption, stage_errors
from radis.core.io import atomic_path, read_table, write_table
from radis.core.params import base, model_name, params
from radis.core.schemas import ALPACA_EVAL, INSTRUCT_ANSWER, MT_BENCH
from radis.evaluate.instruct import (
    InstructEvalConfig,
    alpaca_eval_records,
    answer_alpaca_eval,
    answer_mt_bench,
    mt_bench_records,
    write_alpaca_eval,
    write_mt_bench,
)
from radis.generate.serve import open_backend, served

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: ModelName,
    model: ModelOption = "",
    adapter: AdapterOption = "",
    data: Path = Path("data/fetch"),
    out_dir: Path = Path("data/instruct"),
) -> None:
    """Write OUT_DIR/NAME/{answers.parquet, alpaca_eval.json, mt_bench.jsonl}.

    NAME is the generator (AlpacaEval) and model_id (MT-Bench) in the files.
    """
    with stage_errors():
        model_name(name)
        b = base()
        cfg = params("instruct", InstructEvalConfig)
        prompts = read_table(data / "alpaca_eval.parquet", ALPACA_EVAL)
        questions = read_table(data / "mt_bench.parquet", MT_BENCH)
        what = served(b, name, model, adapter)
        backend = open_backend(b, what.model, f"instruct@{name}", what.adapter)
        answers = pd.concat(
            [
                answer_alpaca_eval(backend, prompts, cfg.generation, b.seed),
                answer_mt_bench(backend, questions, cfg, b.seed),
            ],
            ignore_index=True,
        )
        with atomic_path(out_dir / name) as tmp:
            write_table(answers, tmp / "answers.parquet", INSTRUCT_ANSWER)
            write_alpaca_eval(alpaca_eval_records(answers, prompts, name), tmp / "alpaca_eval.json")
            records = mt_bench_records(answers, questions, name)
            write_mt_bench(records, tmp / "mt_bench.jsonl")
        backend.clean()


if __name__ == "__main__":
    app()
