"""The LLM-judge step: AlpacaEval and MT-Bench scored by their official tools, when configured.

Nothing here runs unless params ``judge.enabled`` is true. Then the API key is read from the
environment variable that ``judge.api_key_env`` names and handed to the tools as
``OPENAI_API_KEY`` (the variable both tools read); a missing key or tool stops the stage with
one line. The tools are not dependencies of this project: install them where the judge runs
(``pip install alpaca-eval``; FastChat with ``pip install "fschat[llm_judge]"``).
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radis.core.config import positive
from radis.core.io import RadisError, read_table
from radis.core.schemas import MT_BENCH
from radis.evaluate.instruct import read_alpaca_eval, read_mt_bench

BENCHMARKS = ("alpaca_eval", "alpaca_eval2", "mt_bench")


#: AlpacaEval's two versions as the paper runs them: one annotator, two baselines. The tool picks
#: its own reference outputs by the environment variable ``IS_ALPACA_EVAL_2``: 1.0 compares with
#: text-davinci-003's outputs, 2.0 with GPT-4-1106's (gpt4_turbo).
ALPACA_EVAL_VERSIONS = {"alpaca_eval": "False", "alpaca_eval2": "True"}


@dataclass
class AlpacaEvalJudge:
    """Params ``judge.alpaca_eval`` (AlpacaEval 1.0 and 2.0 alike).

    Attributes:
        command: The ``alpaca_eval`` executable (a name on ``PATH`` or a path).
        annotators_config: The annotator of both versions (the paper:
            ``weighted_alpaca_eval_gpt4_turbo``).
        reference_outputs: Per benchmark (``alpaca_eval``, ``alpaca_eval2``), the outputs to
            compare against: ``""`` is that version's own baseline (text-davinci-003 for 1.0,
            GPT-4-1106 for 2.0); a path is another baseline.
    """

    command: str = "alpaca_eval"
    annotators_config: str = "weighted_alpaca_eval_gpt4_turbo"
    reference_outputs: dict = field(default_factory=lambda: dict.fromkeys(ALPACA_EVAL_VERSIONS, ""))

    def __post_init__(self):
        unknown = sorted(set(self.reference_outputs) - set(ALPACA_EVAL_VERSIONS))
        if unknown:
            raise ValueError(
                f"reference_outputs: unknown benchmark(s) {unknown}; "
                f"known: {list(ALPACA_EVAL_VERSIONS)}"
            )


@dataclass
class MTBenchJudge:
    """Params ``judge.mt_bench``.

    Attributes:
        python: The interpreter that has FastChat's ``llm_judge`` installed.
        data_dir: FastChat's ``fastchat/llm_judge/data`` folder (``judge_prompts.jsonl`` and
            ``mt_bench/reference_answer/<judge_model>.jsonl``).
        judge_model: The grading model (the paper: ``gpt-4``).
        parallel: Concurrent API calls.
    """

    python: str = "python"
    data_dir: str = ""
    judge_model: str = "gpt-4"
    parallel: int = 2

    def __post_init__(self):
        positive(parallel=self.parallel)


@dataclass
class JudgeConfig:
    """Params ``judge``.

    Attributes:
        enabled: Run the judges (costs API calls); false: the step writes empty scores.
        benchmarks: Which of ``alpaca_eval`` (1.0), ``alpaca_eval2`` (2.0), ``mt_bench`` to
            judge; each writes its headline score as ``general.<benchmark>``, a benchmark of the
            forgetting rate.
        api_key_env: Name of the environment variable holding the judge's API key.
    """

    enabled: bool = False
    benchmarks: list = field(default_factory=lambda: list(BENCHMARKS))
    api_key_env: str = "OPENAI_API_KEY"
    alpaca_eval: AlpacaEvalJudge = field(default_factory=AlpacaEvalJudge)
    mt_bench: MTBenchJudge = field(default_factory=MTBenchJudge)

    def __post_init__(self):
        unknown = sorted(set(self.benchmarks) - set(BENCHMARKS))
        if unknown:
            raise ValueError(f"benchmarks: unknown {unknown}; known: {list(BENCHMARKS)}")


def api_key(cfg: JudgeConfig) -> str:
    """The judge's API key from the environment variable ``cfg.api_key_env``."""
    key = os.environ.get(cfg.api_key_env, "")
    if not key:
        raise RadisError(
            f"params.yaml: judge.api_key_env: environment variable {cfg.api_key_env} is not set "
            "(the judge's API key; or set judge.enabled: false)"
        )
    return key


def check_alpaca_eval(cfg: AlpacaEvalJudge) -> None:
    """Raise a one-line error unless the ``alpaca_eval`` executable is found."""
    if shutil.which(cfg.command) is None:
        raise RadisError(
            f"params.yaml: judge.alpaca_eval.command: {cfg.command!r} not found "
            "(pip install alpaca-eval, or leave alpaca_eval and alpaca_eval2 out of "
            "judge.benchmarks)"
        )


def judge_alpaca_eval(
    outputs: Path, generator: str, cfg: AlpacaEvalJudge, benchmark: str, key: str, work: Path
) -> dict:
    """Run ``alpaca_eval`` (version ``benchmark``) on the ``model_outputs`` file; flat scores.

    The tool's annotations and leaderboard stay under ``work``.
    """
    cmd = [cfg.command, "--model_outputs", str(outputs.resolve())]
    cmd += ["--annotators_config", cfg.annotators_config, "--output_path", str(work.resolve())]
    cmd += ["--precomputed_leaderboard", "None"]
    reference = cfg.reference_outputs.get(benchmark, "")
    if reference:
        cmd += ["--reference_outputs", reference]
    env = {"IS_ALPACA_EVAL_2": ALPACA_EVAL_VERSIONS[benchmark]}
    _run(cmd, key, "alpaca_eval", env=env)
    return alpaca_eval_scores(work, cfg.annotators_config, generator, benchmark)


def alpaca_eval_scores(work: Path, annotators_config: str, generator: str, benchmark: str) -> dict:
    """Win rates (%) of ``generator`` from the leaderboard ``alpaca_eval`` wrote under ``work``.

    ``general.<benchmark>`` is the win rate (the paper's figure), with the length-controlled win
    rate beside it when the tool computes one. Recent versions write
    ``<work>/<annotators_config>/leaderboard.csv``, older ones ``<work>/leaderboard.csv``.
    """
    found = [p for p in (work / annotators_config, work) if (p / "leaderboard.csv").is_file()]
    if not found:
        raise RadisError(f"{work}: alpaca_eval wrote no leaderboard.csv")
    board = pd.read_csv(found[0] / "leaderboard.csv", index_col=0)
    if generator not in board.index:
        raise RadisError(f"{found[0] / 'leaderboard.csv'}: no row for generator {generator!r}")
    row = board.loc[generator]
    out = {f"general.{benchmark}": round(float(row["win_rate"]), 2)}
    if "length_controlled_winrate" in board.columns:
        out[f"general.{benchmark}.lc_win_rate"] = round(float(row["length_controlled_winrate"]), 2)
    return out


def check_mt_bench(cfg: MTBenchJudge) -> None:
    """Raise a one-line error unless FastChat's data files and ``llm_judge`` are found."""
    data = Path(cfg.data_dir)
    reference = data / "mt_bench" / "reference_answer" / f"{cfg.judge_model}.jsonl"
    for needed in (data / "judge_prompts.jsonl", reference):
        if not needed.is_file():
            raise RadisError(f"params.yaml: judge.mt_bench.data_dir: {needed} not found")
    check = [cfg.python, "-c", "import fastchat.llm_judge.gen_judgment"]
    if shutil.which(cfg.python) is None or subprocess.run(check, capture_output=True).returncode:
        raise RadisError(
            f"params.yaml: judge.mt_bench.python: FastChat's llm_judge is not importable by "
            f"{cfg.python!r} (pip install 'fschat[llm_judge]', or leave mt_bench out of "
            "judge.benchmarks)"
        )


def judge_mt_bench(
    answers: Path, questions: pd.DataFrame, model_id: str, cfg: MTBenchJudge, key: str, work: Path
) -> dict:
    """Grade the answers with FastChat's ``gen_judgment`` (single-answer grading); flat scores.

    ``work`` is laid out as FastChat's ``llm_judge`` folder (``data/mt_bench/question.jsonl``,
    ``model_answer/``, ``reference_answer/``, ``data/judge_prompts.jsonl``) and the tool runs
    there; its judgments stay in ``work/data/mt_bench/model_judgment``.
    """
    data = Path(cfg.data_dir)
    reference = data / "mt_bench" / "reference_answer" / f"{cfg.judge_model}.jsonl"
    bench = work / "data" / "mt_bench"
    for sub in ("model_answer", "reference_answer"):
        (bench / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(data / "judge_prompts.jsonl", work / "data" / "judge_prompts.jsonl")
    shutil.copy(reference, bench / "reference_answer" / reference.name)
    shutil.copy(answers, bench / "model_answer" / f"{model_id}.jsonl")
    (bench / "question.jsonl").write_text(question_lines(questions))
    cmd = [cfg.python, "-m", "fastchat.llm_judge.gen_judgment", "--mode", "single"]
    cmd += ["--judge-model", cfg.judge_model, "--model-list", model_id]
    cmd += ["--parallel", str(cfg.parallel)]
    _run(cmd, key, "gen_judgment", cwd=work, stdin="\n")  # it waits for Enter before judging
    return mt_bench_scores(bench / "model_judgment" / f"{cfg.judge_model}_single.jsonl", model_id)


def question_lines(questions: pd.DataFrame) -> str:
    """FastChat's ``question.jsonl`` text for the questions table."""
    return "".join(
        json.dumps({"question_id": int(q), "category": c, "turns": [t1, t2]}, ensure_ascii=False)
        + "\n"
        for q, c, t1, t2 in zip(
            questions.question_id, questions.category, questions.turn_1, questions.turn_2
        )
    )


def mt_bench_scores(judgments: Path, model_id: str) -> dict:
    """Mean judge score (1-10) of ``model_id``: ``general.mt_bench``, and per turn.

    As FastChat's ``show_result.py`` computes it: failed gradings (score -1) are left out.
    """
    if not judgments.is_file():
        raise RadisError(f"{judgments}: gen_judgment wrote no judgments")
    rows = pd.read_json(judgments, lines=True)
    rows = rows[(rows.model == model_id) & (rows.score != -1)]
    if rows.empty:
        raise RadisError(f"{judgments}: no valid judgment for model {model_id!r}")
    out = {"general.mt_bench": round(float(rows.score.mean()), 2)}
    for turn, sub in rows.groupby("turn", sort=True):
        out[f"general.mt_bench.turn_{int(turn)}"] = round(float(sub.score.mean()), 2)
    return out


def _run(
    cmd: list[str], key: str, tool: str, cwd: Path | None = None, stdin: str = "", env=None
) -> None:
    env = os.environ | {"OPENAI_API_KEY": key} | (env or {})
    done = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise RadisError(f"{tool} failed (exit {done.returncode}): {last}")


def run_judges(
    cfg: JudgeConfig, answers_dir: Path, questions: Path, model_id: str, work: Path
) -> dict:
    """Judge the answer files in ``answers_dir`` (``alpaca_eval.json``, ``mt_bench.jsonl``).

    AlpacaEval 1.0 and 2.0 judge the same answer file against their own baselines.

    Every prerequisite (key, tools, answer files, the ``questions`` table) is checked before the
    first API call.

    Returns:
        Flat scores; empty when ``cfg.enabled`` is false (nothing is checked or run then).
    """
    if not cfg.enabled:
        print("judge: skipped (params.yaml: judge.enabled is false)", file=sys.stderr)
        return {}
    key = api_key(cfg)
    outputs, answers = answers_dir / "alpaca_eval.json", answers_dir / "mt_bench.jsonl"
    versions = [b for b in cfg.benchmarks if b in ALPACA_EVAL_VERSIONS]
    if versions:
        check_alpaca_eval(cfg.alpaca_eval)
        generator = read_alpaca_eval(outputs)[0]["generator"]
    if "mt_bench" in cfg.benchmarks:
        check_mt_bench(cfg.mt_bench)
        read_mt_bench(answers)
        table = read_table(questions, MT_BENCH)
    out: dict = {}
    for benchmark in versions:
        (work / benchmark).mkdir(parents=True, exist_ok=True)
        out |= judge_alpaca_eval(
            outputs, generator, cfg.alpaca_eval, benchmark, key, work / benchmark
        )
    if "mt_bench" in cfg.benchmarks:
        out |= judge_mt_bench(answers, table, model_id, cfg.mt_bench, key, work / "mt_bench")
    return out
