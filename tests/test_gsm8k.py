"""GSM8K through lm-eval: the task YAML, the scoring rule, a tiny model end to end, the stage."""

import json
import re
from pathlib import Path

import lm_eval
import pandas as pd
import pytest
import torch
import yaml
from lm_eval.api.model import LM
from lm_eval.tasks import TaskManager
from stage_runner import assert_one_line_error, run_stage
from test_serve import save_adapter
from test_stages import ROOT, set_param
from transformers import AutoModelForCausalLM

from radis.core.io import RadisError, read_table, write_table
from radis.core.schemas import GSM8K, GSM8K_PREDICTION
from radis.evaluate.gsm8k import (
    TASK,
    TASK_YAML,
    Gsm8kConfig,
    evaluate_gsm8k,
    read_gsm8k,
    write_task,
)
from radis.evaluate.harness import make_lm, model_args
from radis.generate.serve import merged_copy

ROWS = [
    ("Ann has 2 apples and buys 3 more. How many apples?", "2 + 3 = 5\n#### 5"),
    ("A farm sells 1000 eggs and 234 more. How many eggs?", "1000 + 234 = 1234\n#### 1,234"),
    ("Tom had 7 cards and lost 2. How many cards?", "7 - 2 = 5\n#### 5"),
    ("There are 3 boxes of 3 pens. How many pens?", "3 * 3 = 9\n#### 9"),
    ("It was 4 degrees and fell by 7. What is it now?", "4 - 7 = -3\n#### -3"),
]
#: The few-shot pool (GSM8K's train split): questions that never appear in the test rows.
TRAIN = [
    (f"Train question {k}: what is {k} + 1?", f"{k} + 1 = {k + 1}\n#### {k + 1}") for k in range(8)
]


def gsm_table(path: Path, rows: list[tuple[str, str]]) -> Path:
    write_table(pd.DataFrame(rows, columns=["question", "answer"]), path, GSM8K)
    return path


@pytest.fixture
def gsm_file(tmp_path):
    return gsm_table(tmp_path / "gsm8k.parquet", ROWS)


@pytest.fixture
def train_file(tmp_path):
    return gsm_table(tmp_path / "gsm8k_train.parquet", TRAIN)


class ScriptedLM(LM):
    """An lm-eval model whose reply to each question is fixed by the test."""

    def __init__(self, replies: dict[str, str]):
        super().__init__()
        self.replies, self.contexts = replies, []

    def generate_until(self, requests, disable_tqdm=False):
        out = []
        for request in requests:
            context = request.args[0]
            self.contexts.append(context)
            question = context.rsplit("Question: ", 1)[1].split("\n")[0]
            out.append(self.replies[question])
        return out

    def loglikelihood(self, requests, disable_tqdm=False):
        raise NotImplementedError

    def loglikelihood_rolling(self, requests, disable_tqdm=False):
        raise NotImplementedError


def test_task_yaml_loads_resolved(tmp_path, gsm_file, train_file):
    write_task(tmp_path, gsm_file, train_file, max_gen_toks=17)
    task = TaskManager(include_path=str(tmp_path), include_defaults=False).load([TASK])["tasks"]
    task = task[TASK]
    files = {"test": str(gsm_file.resolve()), "train": str(train_file.resolve())}
    assert task.config.dataset_kwargs["data_files"] == files
    assert task.config.generation_kwargs["max_gen_toks"] == 17
    assert task.config.num_fewshot is None  # the count always comes from params
    docs = list(task.test_docs())
    assert [d["question"] for d in docs] == [q for q, _ in ROWS]
    assert [task.doc_to_target(d) for d in docs] == ["5", "1,234", "5", "9", "-3"]
    assert [d["question"] for d in task.fewshot_docs()] == [q for q, _ in TRAIN]


def test_few_shot_split_filters_and_metric_are_lm_evals_gsm8k():
    """The paper ran lm-eval's own gsm8k task: same few-shot split, filters and normalisation."""
    theirs = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks/gsm8k/gsm8k.yaml").read_text())
    ours = yaml.safe_load(TASK_YAML.read_text())
    assert theirs["fewshot_split"] == ours["fewshot_split"] == "train"
    assert ours["filter_list"] == theirs["filter_list"]
    assert ours["metric_list"] == theirs["metric_list"]
    assert ours["doc_to_text"] == theirs["doc_to_text"]
    assert ours["generation_kwargs"]["until"] == theirs["generation_kwargs"]["until"]


# (output, answer row, strict extraction, strict verdict, flexible extraction, flexible verdict):
# strict takes the first "#### N" (one space, no "$"), flexible the last number; both then
# compare after removing ",", "$" and one trailing ".".
RULE = [
    ("so 2 + 3 = 5.\n#### 5", 0, "5", 1.0, "5", 1.0),
    ("1000 + 234 = 1234\n#### 1234", 1, "1234", 1.0, "1234", 1.0),  # reference written 1,234
    ("#### 5 cards. Question: next one", 2, "5", 1.0, "5", 1.0),  # trailing text
    ("#### 5.", 0, "5.", 1.0, "5.", 1.0),  # one trailing "." ignored
    ("#### $9.", 3, "[invalid]", 0.0, "$9.", 1.0),  # strict: no "$" after "#### "
    ("####5", 0, "[invalid]", 0.0, "5", 1.0),  # strict: one space after "####"
    ("4 - 7 = -3\n#### -3\n#### 7", 4, "-3", 1.0, "7", 0.0),  # first "####" vs last number
    ("#### 5.0", 0, "5.0", 0.0, "5.0", 0.0),  # no numeric equivalence
    ("#### 1,243", 1, "1,243", 0.0, "1,243", 0.0),
    ("The answer is 5.", 2, "[invalid]", 0.0, "5.", 1.0),  # a number without "####"
    ("I do not know.", 3, "[invalid]", 0.0, "[invalid]", 0.0),
]


@pytest.mark.parametrize("output,row,strict,correct,flexible,flexible_correct", RULE)
def test_scoring_rule(
    tmp_path, train_file, output, row, strict, correct, flexible, flexible_correct
):
    data = gsm_table(tmp_path / "one.parquet", [ROWS[row]])
    cfg = Gsm8kConfig(num_fewshot=0, apply_chat_template=False, fewshot_as_multiturn=False)
    lm = ScriptedLM({ROWS[row][0]: output})
    scores, preds = evaluate_gsm8k(lm, data, train_file, cfg, seed=0)
    assert preds.extracted.tolist() == [strict] and preds.correct.tolist() == [correct]
    assert preds.flexible_extracted.tolist() == [flexible]
    assert preds.flexible_correct.tolist() == [flexible_correct]
    assert scores == {
        "general.gsm8k": 100 * correct,
        "general.gsm8k.flexible_extract": 100 * flexible_correct,
        "general.gsm8k.n": 1,
    }


def test_fewshot_examples_come_from_the_train_split_and_follow_the_seed(gsm_file, train_file):
    cfg = Gsm8kConfig(num_fewshot=3, apply_chat_template=False, fewshot_as_multiturn=False)
    replies = {q: "#### 5" for q, _ in ROWS}
    runs = []
    for seed in (0, 0, 1):
        lm = ScriptedLM(replies)
        scores, preds = evaluate_gsm8k(lm, gsm_file, train_file, cfg, seed=seed)
        runs.append(preds.prompt.tolist())
    assert scores["general.gsm8k"] == 40.0 and scores["general.gsm8k.n"] == 5  # rows 0, 2 are 5
    assert runs[0] == runs[1] != runs[2]
    for prompt, (question, _) in zip(runs[0], ROWS):
        assert prompt.count("Question: ") == 4
        assert prompt.endswith(f"Question: {question}\nAnswer:")
        shown = re.findall(r"Question: (.*)\n", prompt)[:-1]
        assert len(shown) == 3 and set(shown) <= {q for q, _ in TRAIN}  # no test question
        assert prompt.count("\n#### ") == 3  # worked answers shown in full


def test_tiny_model_through_lm_eval(model_dir, gsm_file, train_file):
    cfg = Gsm8kConfig(num_fewshot=2, limit=4, batch_size=2, max_gen_toks=8)
    args = model_args(str(model_dir), "float32")
    scores, preds = evaluate_gsm8k("hf", gsm_file, train_file, cfg, 0, args)
    assert scores["general.gsm8k.n"] == 4 and len(preds) == 4
    assert scores["general.gsm8k"] == 100 * preds.correct.mean()
    assert scores["general.gsm8k.flexible_extract"] == 100 * preds.flexible_correct.mean()
    assert preds.doc_id.tolist() == [0, 1, 2, 3]
    for prompt, question in zip(preds.prompt, preds.question):
        # ChatML from the model's own template, two few-shot exchanges as earlier turns
        assert prompt.startswith("<|im_start|>user\nQuestion: ")
        assert prompt.endswith(f"Question: {question}\nAnswer:<|im_end|>\n<|im_start|>assistant\n")
        assert prompt.count("<|im_start|>user") == 3
        assert len(re.findall(r"<\|im_start\|>assistant\n[^<]*#### ", prompt)) == 2
        assert prompt.count("Train question") == 2
    assert set(preds.columns) == set(GSM8K_PREDICTION.fields)


def test_make_lm_runs_the_weights_of_the_merged_model(model_dir, tmp_path):
    """An adapter is merged into the weights, exactly as the merged copy (base.serve: merged)
    holds them, and no PEFT layer is left; lm-eval's own `peft` would keep the adapter apart."""
    adapter = str(save_adapter(model_dir, tmp_path / "adapter"))
    lm = make_lm(model_args(str(model_dir), "float32", adapter), batch_size=2)
    saved = AutoModelForCausalLM.from_pretrained(
        merged_copy(str(model_dir), adapter, "float32", tmp_path / "work")
    ).state_dict()
    weights = lm.model.state_dict()
    assert weights.keys() == saved.keys()  # no lora_A / lora_B, no base_layer
    assert all(torch.equal(weights[k], saved[k]) for k in saved)


def test_reference_solutions_score_full_marks_on_real_rows(tmp_path):
    mirror = ROOT.parent / "shared/data/hub/openai/gsm8k"
    if not mirror.is_dir():
        pytest.skip(f"{mirror} absent: the GSM8K mirror lives in ../shared beside the checkout")
    from datasets import load_dataset

    table = load_dataset(str(mirror), "main", split="test").to_pandas()[["question", "answer"]]
    rows, pool = table.iloc[:30], table.iloc[30:40]  # the mirror has no train split
    data, shots = tmp_path / "real.parquet", tmp_path / "pool.parquet"
    write_table(rows, data, GSM8K)
    write_table(pool, shots, GSM8K)
    cfg = Gsm8kConfig(num_fewshot=0, apply_chat_template=False, fewshot_as_multiturn=False)
    lm = ScriptedLM(dict(zip(rows.question.str.split("\n").str[0], rows.answer)))
    scores, preds = evaluate_gsm8k(lm, data, shots, cfg, seed=0)
    assert scores["general.gsm8k"] == 100.0 and scores["general.gsm8k.n"] == 30
    assert scores["general.gsm8k.flexible_extract"] == 100.0  # the final number is the last
    assert preds.extracted.str.fullmatch(r"-?[0-9][0-9,]*(\.[0-9]+)?").all()


def test_answer_without_final_number_is_rejected(tmp_path):
    path = tmp_path / "bad.parquet"
    write_table(pd.DataFrame([("q", "42")], columns=["question", "answer"]), path, GSM8K)
    with pytest.raises(RadisError, match="bad.parquet: column 'answer': row 0 has no '#### N'"):
        read_gsm8k(path)


@pytest.fixture
def workdir(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text()) | {"methods": ["tiny"]}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))  # NAME tiny is listed
    return tmp_path


@pytest.mark.slow
def test_stage_writes_scores_and_predictions(workdir, model_dir, gsm_file, train_file):
    set_param(
        workdir,
        "gsm8k",
        dict(num_fewshot=1, apply_chat_template=False, fewshot_as_multiturn=False, max_gen_toks=4),
    )
    fetched = workdir / "data/fetch"
    fetched.mkdir(parents=True)
    train_file.rename(fetched / "gsm8k_train.parquet")  # the stage's default few-shot pool
    result = run_stage(
        workdir, "stages.gsm8k", "tiny", "--model", str(model_dir), "--data", str(gsm_file)
    )
    assert result.returncode == 0, result.stderr
    scores = json.loads((workdir / "metrics/eval/tiny/gsm8k.json").read_text())
    preds = read_table(workdir / "data/gsm8k/tiny/predictions.parquet", GSM8K_PREDICTION)
    assert scores == {
        "general.gsm8k": 100 * preds.correct.mean(),
        "general.gsm8k.flexible_extract": 100 * preds.flexible_correct.mean(),
        "general.gsm8k.n": 5,
    }
    for prompt in preds.prompt:
        assert prompt.count("Question: ") == 2 and "<|im_start|>" not in prompt
        assert prompt.count("Train question") == 1


def test_stage_needs_the_train_split(workdir, gsm_file):
    result = run_stage(workdir, "stages.gsm8k", "tiny", "--data", str(gsm_file))
    assert_one_line_error(
        result, "data/fetch/gsm8k_train.parquet: file not found", "fetch.hub.gsm8k_train"
    )


def test_stage_rejects_multiturn_without_chat_template(workdir, gsm_file, train_file):
    set_param(workdir, "gsm8k", dict(apply_chat_template=False))
    result = run_stage(
        workdir, "stages.gsm8k", "tiny", "--data", str(gsm_file), "--fewshot", str(train_file)
    )
    assert_one_line_error(
        result, "params.yaml: gsm8k.fewshot_as_multiturn: needs apply_chat_template"
    )
