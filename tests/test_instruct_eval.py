import json
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from radis.core.io import RadisError, read_table, write_table
from radis.core.schemas import ALPACA_EVAL, INSTRUCT_ANSWER, MT_BENCH
from radis.core.templates import generation_prompt
from radis.evaluate.instruct import (
    MT_BENCH_FIELDS,
    InstructEvalConfig,
    alpaca_eval_records,
    answer_alpaca_eval,
    answer_mt_bench,
    mt_bench_decoding,
    mt_bench_records,
    read_alpaca_eval,
    read_mt_bench,
    write_alpaca_eval,
    write_mt_bench,
)
from radis.evaluate.judge import JudgeConfig, run_judges
from radis.generate.backend import Completion, GenerationConfig
from radis.generate.hf import HFBackend
from stages import instruct, judge

ROOT = Path(__file__).resolve().parents[1]


class StandIn:
    """A backend whose answer to a prompt is numbered by call order; it records every call."""

    def __init__(self, tokenizer):
        self.tokenizer, self.calls = tokenizer, []

    def generate(self, prompts, cfg):
        self.calls.append((list(prompts), cfg))
        n = sum(len(p) for p, _ in self.calls[:-1])
        return [Completion(f"  answer {n + i}\n", "stop", 3, 2) for i in range(len(prompts))]


PROMPTS = pd.DataFrame(
    {
        "id": ["0", "1"],
        "instruction": ["Name a fruit.", "Hi!"],
        "output": ["A pear.", "Hello!"],  # the reference model's answers
        "generator": ["gpt4_turbo", "gpt4_turbo"],
        "dataset": ["helpful_base", ""],
    }
)
QUESTIONS = pd.DataFrame(
    {
        "question_id": [81, 101],
        "category": ["writing", "math"],
        "turn_1": ["Write a haiku.", "What is 2+2?"],
        "turn_2": ["Now in French.", "And times 3?"],
    }
)


def test_alpaca_eval_file_is_the_json_list_alpaca_eval_reads(tokenizer, tmp_path):
    backend = StandIn(tokenizer)
    answers = answer_alpaca_eval(backend, PROMPTS, GenerationConfig(), seed=0)
    assert backend.calls[0][0] == [generation_prompt(tokenizer, i) for i in PROMPTS.instruction]
    write_alpaca_eval(alpaca_eval_records(answers, PROMPTS, "radis"), tmp_path / "out.json")
    records = json.loads((tmp_path / "out.json").read_text())
    assert isinstance(records, list)
    assert records[0] == {
        "instruction": "Name a fruit.",
        "output": "answer 0",
        "generator": "radis",
        "dataset": "helpful_base",
    }
    assert records[1] == {"instruction": "Hi!", "output": "answer 1", "generator": "radis"}
    assert read_alpaca_eval(tmp_path / "out.json") == records


def test_mt_bench_answers_are_fastchat_jsonl_with_the_first_answer_in_turn_two(tokenizer, tmp_path):
    backend = StandIn(tokenizer)
    answers = answer_mt_bench(backend, QUESTIONS, InstructEvalConfig(), seed=0)
    write_table(answers, tmp_path / "answers.parquet", INSTRUCT_ANSWER)
    write_mt_bench(mt_bench_records(answers, QUESTIONS, "radis"), tmp_path / "a.jsonl")
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["question_id"] for r in records] == [81, 101]
    for r in records:
        assert tuple(r) == MT_BENCH_FIELDS and r["model_id"] == "radis" and r["tstamp"] == 0.0
        assert len(r["choices"]) == 1 and r["choices"][0]["index"] == 0
        assert len(r["choices"][0]["turns"]) == 2
        assert all(t.startswith("answer ") for t in r["choices"][0]["turns"])
    assert read_mt_bench(tmp_path / "a.jsonl") == records
    table = read_table(tmp_path / "answers.parquet", INSTRUCT_ANSWER)
    for q, rec in zip(QUESTIONS.itertuples(), records):
        first_answer = rec["choices"][0]["turns"][0]
        turn1 = table[(table.id == str(q.question_id)) & (table.turn == 1)].prompt.item()
        turn2 = table[(table.id == str(q.question_id)) & (table.turn == 2)].prompt.item()
        assert turn1 == generation_prompt(tokenizer, q.turn_1)
        conversation = [
            {"role": "user", "content": q.turn_1},
            {"role": "assistant", "content": first_answer},
            {"role": "user", "content": q.turn_2},
        ]
        assert turn2 == tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=True
        )
        assert turn2.startswith(turn1 + first_answer) and turn2.endswith(
            generation_prompt(tokenizer, q.turn_2)
        )


def test_mt_bench_decoding_follows_fastchat_per_category():
    cfg = InstructEvalConfig(generation=GenerationConfig(max_new_tokens=7, top_p=0.9))
    writing, math, other = (mt_bench_decoding(c, cfg) for c in ("writing", "math", "new"))
    assert writing.do_sample and writing.temperature == 0.7 and writing.max_new_tokens == 7
    assert not math.do_sample and math.top_p == 0.9
    assert other.do_sample and other.temperature == 0.7
    greedy = InstructEvalConfig(category_temperature=False)
    assert mt_bench_decoding("writing", greedy) == greedy.generation


def test_mt_bench_generates_each_category_under_its_decoding(tokenizer):
    backend = StandIn(tokenizer)
    answer_mt_bench(backend, QUESTIONS, InstructEvalConfig(), seed=0)
    assert len(backend.calls) == 4  # two decodings x two turns
    for prompts, cfg in backend.calls:
        assert len(prompts) == 1
        assert cfg.do_sample == ("Write a haiku." in prompts[0])


def test_answer_files_reject_bad_formats(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([{"instruction": "x", "output": "y"}]))
    with pytest.raises(RadisError, match=r"record 0: missing field\(s\) \['generator'\]"):
        read_alpaca_eval(tmp_path / "a.json")
    one_turn = {f: 0 for f in MT_BENCH_FIELDS} | {"choices": [{"index": 0, "turns": ["a"]}]}
    (tmp_path / "m.jsonl").write_text(json.dumps(one_turn) + "\n")
    with pytest.raises(RadisError, match="line 1: expected choices with two turns"):
        read_mt_bench(tmp_path / "m.jsonl")


def test_tiny_model_answers_parse(model_dir, tmp_path):
    backend = HFBackend(model_dir)
    cfg = InstructEvalConfig(generation=GenerationConfig(max_new_tokens=4))
    alpaca = answer_alpaca_eval(backend, PROMPTS, cfg.generation, seed=0)
    mt = answer_mt_bench(backend, QUESTIONS, cfg, seed=0)
    answers = pd.concat([alpaca, mt], ignore_index=True)
    write_alpaca_eval(alpaca_eval_records(answers, PROMPTS, "tiny"), tmp_path / "a.json")
    write_mt_bench(mt_bench_records(answers, QUESTIONS, "tiny"), tmp_path / "m.jsonl")
    assert len(read_alpaca_eval(tmp_path / "a.json")) == 2
    records = read_mt_bench(tmp_path / "m.jsonl")
    for rec, prompt in zip(records, mt[mt.turn == 2].prompt):
        assert rec["choices"][0]["turns"][0] in prompt


# --- the judge step ----------------------------------------------------------------------------


@pytest.fixture
def answers_dir(tokenizer, tmp_path):
    out = tmp_path / "answers"
    backend = StandIn(tokenizer)
    answers = pd.concat(
        [
            answer_alpaca_eval(backend, PROMPTS, GenerationConfig(), seed=0),
            answer_mt_bench(backend, QUESTIONS, InstructEvalConfig(), seed=0),
        ]
    )
    write_alpaca_eval(alpaca_eval_records(answers, PROMPTS, "radis"), out / "alpaca_eval.json")
    write_mt_bench(mt_bench_records(answers, QUESTIONS, "radis"), out / "mt_bench.jsonl")
    write_table(QUESTIONS, tmp_path / "mt_bench.parquet", MT_BENCH)
    return out


def script(path: Path, body: str) -> str:
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


FAKE_ALPACA_EVAL = """
import json, os, pathlib, sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
assert os.environ["OPENAI_API_KEY"] == "sk-test", "key not passed"
assert args["--precomputed_leaderboard"] == "None"
outputs = json.loads(pathlib.Path(args["--model_outputs"]).read_text())
out = pathlib.Path(args["--output_path"]) / args["--annotators_config"]
out.mkdir(parents=True)
name = outputs[0]["generator"]
version = {"False": 1, "True": 2}[os.environ["IS_ALPACA_EVAL_2"]]  # 1.0: text-davinci-003's
if "--reference_outputs" in args:
    version = 9
row = f"{name},1{version}.345,{len(outputs)}.{version},1.0"
(out / "leaderboard.csv").write_text(
    f",length_controlled_winrate,win_rate,standard_error\\n{row}\\n"
)
"""

FAKE_FASTCHAT_PYTHON = """
import json, os, pathlib, sys
if sys.argv[1] == "-c":
    sys.exit(0)
assert sys.argv[1:3] == ["-m", "fastchat.llm_judge.gen_judgment"]
args = dict(zip(sys.argv[3::2], sys.argv[4::2]))
assert os.environ["OPENAI_API_KEY"] == "sk-test"
input("Press Enter to confirm...")
data = pathlib.Path("data")
assert (data / "judge_prompts.jsonl").is_file()
assert (data / "mt_bench/reference_answer" / (args["--judge-model"] + ".jsonl")).is_file()
questions = [json.loads(x) for x in open(data / "mt_bench/question.jsonl")]
model = args["--model-list"]
answers = {}
for line in open(data / f"mt_bench/model_answer/{model}.jsonl"):
    answers[json.loads(line)["question_id"]] = json.loads(line)
out = data / "mt_bench/model_judgment"
out.mkdir(parents=True)
with open(out / (args["--judge-model"] + "_single.jsonl"), "w") as f:
    for q in questions:
        assert len(answers[q["question_id"]]["choices"][0]["turns"]) == len(q["turns"]) == 2
        for turn, score in ((1, 8), (2, 5 if q["category"] == "math" else -1)):
            row = {"question_id": q["question_id"], "model": model, "score": score, "turn": turn}
            f.write(json.dumps(row) + "\\n")
"""


def fastchat_data(tmp_path):
    data = tmp_path / "fastchat_data"
    (data / "mt_bench/reference_answer").mkdir(parents=True, exist_ok=True)
    (data / "judge_prompts.jsonl").write_text("{}\n")
    (data / "mt_bench/reference_answer/gpt-4.jsonl").write_text("{}\n")
    return data


def enabled(tmp_path, **kw) -> JudgeConfig:
    cfg = JudgeConfig(enabled=True, api_key_env="RADIS_TEST_JUDGE_KEY", **kw)
    cfg.alpaca_eval.command = script(tmp_path / "alpaca_eval", FAKE_ALPACA_EVAL)
    cfg.mt_bench.python = script(tmp_path / "python", FAKE_FASTCHAT_PYTHON)
    cfg.mt_bench.data_dir = str(fastchat_data(tmp_path))
    return cfg


def test_judge_is_skipped_unless_enabled(answers_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = JudgeConfig()
    cfg.alpaca_eval.command = "no-such-alpaca-eval"
    assert (
        run_judges(cfg, answers_dir, tmp_path / "mt_bench.parquet", "radis", tmp_path / "w") == {}
    )
    assert not (tmp_path / "w").exists()


def test_judge_runs_the_tools_on_the_answer_files(answers_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RADIS_TEST_JUDGE_KEY", "sk-test")
    work = tmp_path / "work"
    scores = run_judges(
        enabled(tmp_path), answers_dir, tmp_path / "mt_bench.parquet", "radis", work
    )
    assert scores == {
        "general.alpaca_eval": 2.1,  # AlpacaEval 1.0: the tool's v1 baseline
        "general.alpaca_eval.lc_win_rate": 11.35,
        "general.alpaca_eval2": 2.2,  # AlpacaEval 2.0: the tool's v2 baseline
        "general.alpaca_eval2.lc_win_rate": 12.35,
        "general.mt_bench": 7.0,  # (8 + 8 + 5) / 3: the -1 grading is left out
        "general.mt_bench.turn_1": 8.0,
        "general.mt_bench.turn_2": 5.0,
    }
    copied = work / "mt_bench/data/mt_bench/model_answer/radis.jsonl"
    assert copied.read_text() == (answers_dir / "mt_bench.jsonl").read_text()


def test_alpaca_eval_reference_outputs_per_version(answers_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RADIS_TEST_JUDGE_KEY", "sk-test")
    cfg = enabled(tmp_path, benchmarks=["alpaca_eval", "alpaca_eval2"])
    cfg.alpaca_eval.reference_outputs = {"alpaca_eval2": str(tmp_path / "baseline.json")}
    scores = run_judges(cfg, answers_dir, tmp_path / "mt_bench.parquet", "radis", tmp_path / "w")
    assert scores["general.alpaca_eval"] == 2.1  # the tool's own v1 baseline
    assert scores["general.alpaca_eval2"] == 2.9  # the given baseline


def test_judge_without_key_is_one_clear_error(answers_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("RADIS_TEST_JUDGE_KEY", raising=False)
    with pytest.raises(RadisError, match="RADIS_TEST_JUDGE_KEY is not set"):
        run_judges(enabled(tmp_path), answers_dir, tmp_path / "q.parquet", "radis", tmp_path)


def test_missing_tool_stops_before_any_api_call(answers_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RADIS_TEST_JUDGE_KEY", "sk-test")
    cfg = enabled(tmp_path)
    cfg.mt_bench.data_dir = str(tmp_path / "nowhere")
    with pytest.raises(RadisError, match="judge.mt_bench.data_dir: .*judge_prompts.jsonl"):
        run_judges(cfg, answers_dir, tmp_path / "mt_bench.parquet", "radis", tmp_path / "w")
    assert not (tmp_path / "w").exists()  # alpaca_eval was not run either
    cfg = enabled(tmp_path, benchmarks=["alpaca_eval"])
    cfg.alpaca_eval.command = "no-such-alpaca-eval"
    with pytest.raises(RadisError, match="judge.alpaca_eval.command: 'no-such-alpaca-eval'"):
        run_judges(cfg, answers_dir, tmp_path / "mt_bench.parquet", "radis", tmp_path / "w")


# --- the stages --------------------------------------------------------------------------------


def invoke(app, *args):
    """Run a stage's Typer app in this process (the working directory is the test's)."""
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["instruct"] = {"generation": {"max_new_tokens": 4}, "category_temperature": True}
    params["judge"] = {"enabled": False}
    params["methods"] = ["tiny"]  # a NAME must be the backbone or a listed method
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_table(PROMPTS, tmp_path / "data/fetch/alpaca_eval.parquet", ALPACA_EVAL)
    write_table(QUESTIONS, tmp_path / "data/fetch/mt_bench.parquet", MT_BENCH)
    return tmp_path


def test_stages_write_the_files_and_skip_the_judge(workdir, model_dir):
    done = invoke(instruct.app, "tiny", "--model", str(model_dir))
    assert done.exit_code == 0, done.output
    out = workdir / "data/instruct/tiny"
    assert [r["generator"] for r in read_alpaca_eval(out / "alpaca_eval.json")] == ["tiny"] * 2
    assert [r["model_id"] for r in read_mt_bench(out / "mt_bench.jsonl")] == ["tiny"] * 2
    assert len(read_table(out / "answers.parquet", INSTRUCT_ANSWER)) == 2 + 2 * 2
    assert not (workdir / "data/.work/instruct@tiny").exists()
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    done = invoke(instruct.app, "tiny", "--model", str(model_dir))
    assert done.exit_code == 0, done.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # no clock in the files
    done = invoke(judge.app, "tiny")
    assert done.exit_code == 0, done.output
    assert "judge: skipped" in done.stderr
    assert json.loads((workdir / "metrics/eval/tiny/judge.json").read_text()) == {}
    assert json.loads((workdir / "data/judge/tiny/scores.json").read_text()) == {}


def test_judge_stage_without_key_fails_with_one_line(workdir, monkeypatch):
    monkeypatch.delenv("RADIS_TEST_JUDGE_KEY", raising=False)
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["judge"] = {"enabled": True, "api_key_env": "RADIS_TEST_JUDGE_KEY"}
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    done = invoke(judge.app, "tiny")
    assert done.exit_code == 1
    assert done.stderr.strip().splitlines() == [
        "error: params.yaml: judge.api_key_env: environment variable RADIS_TEST_JUDGE_KEY is not "
        "set (the judge's API key; or set judge.enabled: false)"
    ]
    assert not (workdir / "metrics/eval/tiny/judge.json").exists()


def test_judge_params_are_validated():
    from radis.core.config import parse

    with pytest.raises(RadisError, match=r"judge.benchmarks: unknown \['arena'\]"):
        parse(JudgeConfig, {"benchmarks": ["arena"]}, "params.yaml: judge")
    with pytest.raises(RadisError, match="judge.mt_bench.parallel: must be > 0"):
        parse(JudgeConfig, {"mt_bench": {"parallel": 0}}, "params.yaml: judge")
    with pytest.raises(RadisError, match=r"judge.alpaca_eval.reference_outputs: unknown"):
        parse(JudgeConfig, {"alpaca_eval": {"reference_outputs": {"v3": ""}}}, "params.yaml: judge")
