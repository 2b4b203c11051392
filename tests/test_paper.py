"""The paper setup (configs/paper.yaml): its params, its stages, and an offline `dvc repro` of it.

The end-to-end run uses configs/paper.yaml with overrides only where running offline on a CPU
requires them: the hub mirror in ../shared/data (cut to a few rows per split), local copies of
the sets the mirror lacks, a tiny chat model built here as the backbone, a tiny scripted stand-in
for Llama Guard, a tiny COMET checkpoint (when .venv-comet exists), float32, and short outputs;
SDRRL's evaluation (`multilingual@<model>`) reads tiny mirrors of BELEBELE, FLORES+, XL-SUM and
MKQA built by tests/multilingual_mirror.py (with German added) and scores BLEU with `13a`.
To keep it short it trains one method (radis; vanilla's stages are the same stages) and runs
each suite on that method, COMET and GSM8K on the backbone too (Table 1's COMET columns and the
forgetting rate compare every model with the backbone): every stage of the paper setup runs.
It runs the repository's dvc.yaml as it is: with no SDRRL method listed, SDRRL's data stages
write empty tables without loading a model.
"""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import multilingual_mirror
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import COMET_PYTHON, TINY_MODEL
from test_safety import JUDGE_SCRIPT, JUDGE_TEMPLATE, scripted_model

from radis.analysis.gradcos import GradcosConfig
from radis.core.config import parse, section
from radis.core.io import read_table
from radis.core.params import BaseConfig
from radis.core.schemas import INSTRUCT_ANSWER, MT_BENCH, MULTILINGUAL_PREDICTION
from radis.core.templates import TEMPLATES
from radis.data.build import recipe_config
from radis.data.fetch import FetchConfig
from radis.data.rationales import RationaleConfig
from radis.data.selfgen import SelfGenConfig
from radis.evaluate.comet import CometConfig
from radis.evaluate.formality import FormalityConfig
from radis.evaluate.gsm8k import Gsm8kConfig
from radis.evaluate.instruct import InstructEvalConfig, read_alpaca_eval, read_mt_bench
from radis.evaluate.judge import JudgeConfig
from radis.evaluate.multilingual import BENCHMARKS, MultilingualConfig, codes
from radis.evaluate.safety import SafetyConfig
from radis.evaluate.translation import EvaluateConfig
from radis.sdrrl.codeswitch import CodeSwitchConfig
from radis.sdrrl.filter import FilterConfig
from radis.sdrrl.machine_translate import TranslateConfig
from radis.sdrrl.selfanswer import SelfAnswerConfig
from radis.toy.backbone import BackboneConfig, build_model
from radis.toy.world import WorldConfig
from radis.train.loop import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "configs" / "paper.yaml"
SHARED = ROOT.parent / "shared" / "data"
SUITES = ["comet", "gsm8k", "safety", "instruct", "formality", "multilingual"]
#: The models of configs/paper.yaml (every suite runs on each), and of the offline run.
PAPER_MODELS = ["backbone", "vanilla", "radis"]
MODELS = ["backbone", "radis"]
#: The models each suite runs on in the offline run (without .venv-comet: no COMET).
RUN_SUITES = {suite: ["radis"] for suite in SUITES} | {"comet": MODELS, "gsm8k": MODELS}

#: Every params section and the dataclass its stage parses it with.
SECTIONS = {
    "base": BaseConfig,
    "toy.world": WorldConfig,
    "toy.backbone": BackboneConfig,
    "fetch": FetchConfig,
    "rationales": RationaleConfig,
    "selfgen": SelfGenConfig,
    "train": TrainConfig,
    "selfanswer": SelfAnswerConfig,
    "machine_translate": TranslateConfig,
    "filter": FilterConfig,
    "codeswitch": CodeSwitchConfig,
    "evaluate": EvaluateConfig,
    "comet": CometConfig,
    "gsm8k": Gsm8kConfig,
    "safety": SafetyConfig,
    "instruct": InstructEvalConfig,
    "judge": JudgeConfig,
    "formality": FormalityConfig,
    "multilingual": MultilingualConfig,
    "gradcos": GradcosConfig,
}
SEEDED = {"train"}  # method_config adds base.seed


def paper() -> dict:
    return yaml.safe_load(PAPER.read_text())


def parsed(params: dict, dotted: str):
    extra = {"seed": params["base"]["seed"]} if dotted in SEEDED else {}
    return parse(SECTIONS[dotted], section(params, dotted) | extra, f"paper.yaml: {dotted}")


def sh(cwd, *cmd, timeout=900, stderr=False):
    """Run ``cmd`` in ``cwd`` offline; its stdout (and stderr after it with ``stderr``)."""
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "RADIS_THREADS": "1",  # tiny models: a second thread costs more than it gives
        "OMP_NUM_THREADS": "1",
        "HF_DATASETS_CACHE": str(Path(cwd).parent / "hf-cache"),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + (result.stderr if stderr else "")


def new_repo(path: Path, params: dict, code: bool = True) -> Path:
    """A git + DVC repository at ``path`` with ``params``.

    ``code``: dvc.yaml and the code it runs; else dvc.yaml only.
    """
    names = [".dvc/config", ".dvc/.gitignore", "dvc.yaml"]
    names += ["radis", "stages", "envs/comet"] if code else []
    for name in names:
        src, dst = ROOT / name, path / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(path, "git", "init", "-q")
    return path


# --- the params file -------------------------------------------------------------------------


def test_every_section_parses_through_its_config():
    params = paper()
    roots = {d.split(".")[0] for d in SECTIONS} | {"methods", "build", "suites"}
    assert set(params) == roots
    for dotted in SECTIONS:
        parsed(params, dotted)
    for method, data in params["build"].items():
        recipe_config(data, f"paper.yaml: build.{method}")
    assert set(params["methods"]) <= set(params["build"])
    assert set(params["suites"]) == set(SUITES)
    for models in params["suites"].values():
        assert set(models) <= {"backbone", *params["methods"]}


def test_the_papers_numbers():
    params = paper()
    b, train = parsed(params, "base"), parsed(params, "train")
    assert b.languages == ["cs", "de", "ru", "zh"]
    assert b.backbone == "Qwen/Qwen2.5-7B-Instruct" and b.dtype == "bfloat16"
    assert b.backend == "vllm" and b.serve == "merged"  # vLLM at full speed (README)
    assert train.lora["r"] == 16 and train.lora["target_modules"] == "all-linear"
    assert train.learning_rate == 1.0e-4 and train.lr_scheduler == "cosine"
    assert train.epochs == 3 and train.batch_size == 128 and train.dtype == "bfloat16"
    assert train.batch_size % train.micro_batch_size == 0
    assert params["methods"] == ["vanilla", "radis"]
    assert params["build"]["radis"]["recipe"] == "radis"
    assert len(TEMPLATES) == 5 and 1 <= parsed(params, "evaluate").template <= 5
    generations = [
        parsed(params, "evaluate").generation,
        parsed(params, "rationales").generation,
        parsed(params, "selfgen").generation,
        parsed(params, "formality").generation,
        parsed(params, "instruct").generation,
        parsed(params, "safety").generation,
        parsed(params, "safety").judge_generation,
    ]
    assert not any(g.do_sample for g in generations)  # greedy everywhere
    fetch = parsed(params, "fetch")
    assert fetch.source == "hub" and fetch.mirror is None
    assert fetch.hub.train.id == "haoranxu/ALMA-Human-Parallel" and fetch.hub.train.configs is None
    assert fetch.hub.test.id == "haoranxu/WMT22-Test"
    assert fetch.hub.mt_bench.repo == "lm-sys/FastChat" and len(fetch.hub.mt_bench.revision) == 40
    assert parsed(params, "safety").judge == "meta-llama/Llama-Guard-3-8B"
    assert parsed(params, "comet").model == "Unbabel/wmt22-comet-da"
    assert parsed(params, "judge").enabled is False


def test_the_training_kernels_and_processes():
    train = parsed(paper(), "train")
    assert train.attn_implementation == "sdpa"  # no extra package
    # an 80 GB GPU holds a 7B's passes of 8192 tokens without recomputation (measured, README)
    assert train.gradient_checkpointing is False and train.micro_batch_tokens == 8192
    assert train.max_length <= train.micro_batch_tokens  # the longest row fits a pass
    assert train.fused_loss is False  # liger-kernel: GPU only (the gpu extra)
    d = train.distributed
    assert (d.num_processes, d.strategy, d.main_process_port, d.fsdp_config) == (1, "ddp", 0, {})
    # 8 processes would each get at least one micro-batch of every step
    assert train.batch_size // train.micro_batch_size >= 8


def test_the_multilingual_suite_params():
    params = paper()
    ml = parsed(params, "multilingual")
    assert ml.benchmarks == list(BENCHMARKS) and ml.mirror is None
    assert ml.batch_size == 16 and ml.comet is True and ml.tokenize == "flores200"
    assert ml.apply_chat_template is True and not ml.generation.do_sample
    ids = {name: getattr(ml, name).id for name in BENCHMARKS}
    assert ids == {
        "belebele": "facebook/belebele",
        "flores": "openlanguagedata/flores_plus",
        "xlsum": "csebuetnlp/xlsum",
        "mkqa": "apple/mkqa",
    }
    assert not ml.belebele.parquet_export and not ml.flores.parquet_export
    for name in ("xlsum", "mkqa"):  # script loaders: the hub's Parquet export
        data = getattr(ml, name)
        assert data.parquet_export and data.revision == "refs/convert/parquet"
    assert (ml.flores.split, ml.mkqa.split, ml.belebele.split) == ("devtest", "train", "test")
    languages = parsed(params, "base").languages
    for lang in languages:
        codes(lang)  # every paper language has SDRRL evaluation data
    assert [x for x in languages if codes(x).xlsum is None] == ["cs", "de"]
    assert [x for x in languages if codes(x).mkqa is None] == ["cs"]
    assert parsed(params, "comet").gpus == 1  # COMET-22 of FLORES on the GPU


@pytest.mark.slow
def test_dvc_lists_the_suite_stages(tmp_path):
    repo = new_repo(tmp_path / "repo", paper(), code=False)
    stages = {line.split()[0] for line in sh(repo, "dvc", "stage", "list").splitlines()}
    for suite in (*SUITES, "judge"):
        assert {f"{suite}@{m}" for m in PAPER_MODELS} <= stages, suite
    assert {"fetch", "backbone", "rationales@self", "evaluate-backbone", "summary"} <= stages
    for method in ("vanilla", "radis"):
        assert {f"{s}@{method}" for s in ("build", "train", "evaluate", "report")} <= stages


# --- offline end-to-end run ------------------------------------------------------------------

#: Rows kept per (mirror repository, split): enough for every stage to have work.
ROWS = {
    ("haoranxu/ALMA-Human-Parallel", "train"): 6,
    ("haoranxu/ALMA-Human-Parallel", "validation"): 2,
    ("haoranxu/WMT22-Test", "test"): 3,
    ("openai/gsm8k", "test"): 4,
    ("walledai/AdvBench", "train"): 3,
    ("tatsu-lab/alpaca", "train"): 4,
}
QUESTIONS = [
    {"question_id": 81, "category": "writing", "turns": ["Write a haiku.", "Make it rhyme."]},
    {"question_id": 111, "category": "math", "turns": ["What is 2 + 3?", "And times 4?"]},
]


def small_mirror(dst: Path) -> Path:
    """A copy of the hub mirror with the first few rows of every split (same layout)."""
    shutil.copytree(SHARED / "hub", dst)
    for (repo, split), n in ROWS.items():
        for path in (dst / repo).rglob(f"{split}-*.parquet"):
            pq.write_table(pq.read_table(path).slice(0, n), path)
    return dst


def small_raw(dst: Path) -> dict[str, Path]:
    """Cut copies of the raw files the mirror lacks, and a tiny MT-Bench question.jsonl."""
    raw = SHARED / "raw"
    dst.mkdir()
    out = {}
    for name, n in (("dolly_train.json", 4), ("alpaca_eval.json", 3)):
        rows = json.loads((raw / "alpaca-format" / name).read_text())[:n]
        out[name] = dst / name
        out[name].write_text(json.dumps(rows))
    out["cocoa"] = dst / "cocoa"
    out["cocoa"].mkdir()
    for path in (raw / "cocoa-mt/en-de").iterdir():
        lines = path.read_text(encoding="utf-8").splitlines()[:3]
        (out["cocoa"] / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out["mt_bench"] = dst / "question.jsonl"
    out["mt_bench"].write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    # GSM8K's train split (the few-shot pool) stands in as a few mirror rows past the test ones.
    gsm8k = next((SHARED / "hub/openai/gsm8k").rglob("test-*.parquet"))
    out["gsm8k_train"] = dst / "gsm8k_train.parquet"
    pq.write_table(pq.read_table(gsm8k).slice(100, 4), out["gsm8k_train"])
    return out


#: German for the multilingual mirror (it has English, Czech and Russian): the test's languages.
GERMAN_FLORES = ["Die Katze schläft.", "Hier steht ein rotes Haus.", "Wir mögen den Fluss."]
GERMAN_BELEBELE = [
    ("Die Katze schläft.", "Wer schläft?", ["Der Hund", "Die Katze", "Ein Vogel", "Niemand"], "2")
]
GERMAN_MKQA = [
    ("wer schrieb das rote Buch", [(0, "Ana Stone", [])]),
    ("wann wurde die Brücke eröffnet", [(3, "1990", [])]),
    ("warum ist der Himmel blau", [(2, "", [])]),  # unanswerable: left out
]
#: Rows the multilingual suite evaluates per (benchmark, subset) of each model (limit 2).
ML_ROWS = {
    ("belebele", "cs"): 1,
    ("belebele", "de"): 1,
    ("belebele", "en"): 2,
    **{("flores", d): 2 for d in ("en-cs", "cs-en", "en-de", "de-en")},
    ("xlsum", "en"): 2,  # XL-SUM has no Czech or German
    ("mkqa", "de"): 2,  # MKQA has no Czech; one German question is unanswerable
    ("mkqa", "en"): 2,
}


def multilingual_mirror_with_german(dst: Path) -> Path:
    """tests/multilingual_mirror.py's tiny mirrors, with German in FLORES+, BELEBELE and MKQA."""
    mkqa = [
        row
        | {
            "queries": row["queries"] | {"de": question},
            "answers": row["answers"] | {"de": answers},
        }
        for row, (question, answers) in zip(multilingual_mirror.MKQA, GERMAN_MKQA)
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(multilingual_mirror.FLORES, "deu_Latn", GERMAN_FLORES)
        mp.setitem(multilingual_mirror.BELEBELE, "deu_Latn", GERMAN_BELEBELE)
        mp.setattr(multilingual_mirror, "MKQA", mkqa)
        return multilingual_mirror.make_mirror(dst)


def offline_params(tmp: Path, backbone: Path, judge: Path, comet: Path | None) -> dict:
    """configs/paper.yaml with the overrides an offline CPU run needs (see the module docs)."""
    params = paper()
    raw = small_raw(tmp / "raw")
    params["base"] |= {"backbone": str(backbone), "backend": "hf", "dtype": "float32"}
    params["base"]["languages"] = ["cs", "de"]
    params["methods"] = MODELS[1:]
    params["suites"] = RUN_SUITES | ({"comet": []} if comet is None else {})
    params["fetch"]["mirror"] = str(small_mirror(tmp / "mirror"))
    hub = params["fetch"]["hub"]
    hub["dolly"] |= {"local": str(raw["dolly_train.json"]), "columns": {}}
    hub["alpaca_eval"] |= {
        "local": str(raw["alpaca_eval.json"]),
        "columns": {"generator": None, "dataset": None},
    }
    hub["cocoa"] |= {"local": str(raw["cocoa"]), "domains": ["telephony"]}
    hub["mt_bench"]["local"] = str(raw["mt_bench"])
    hub["gsm8k_train"] |= {"local": str(raw["gsm8k_train"])}
    params["train"] |= {"epochs": 1, "batch_size": 8, "micro_batch_size": 4, "dtype": "float32"}
    for name in ("rationales", "selfgen", "evaluate", "formality", "instruct", "safety"):
        params[name]["generation"]["max_new_tokens"] = 6
    params["safety"] |= {"judge": str(judge), "judge_dtype": "float32", "limit": 2}
    params["safety"]["judge_generation"]["max_new_tokens"] = 4
    params["gsm8k"] |= {"limit": 2, "num_fewshot": 1, "max_gen_toks": 6, "batch_size": 2}
    params["gradcos"] |= {"rows_per_direction": 2, "train_rows": 8, "general_rows": 4}
    params["gradcos"]["generation"]["max_new_tokens"] = 6  # answers of instruction prompts
    ml = params["multilingual"]
    ml |= {"mirror": str(multilingual_mirror_with_german(tmp / "ml-mirror")), "batch_size": 4}
    ml["tokenize"] = "13a"  # flores200's SentencePiece model is a download: none offline
    for name in BENCHMARKS:
        ml[name] |= {"limit": 2} | ({"max_gen_toks": 6} if name != "belebele" else {})
    if comet is None:
        ml["comet"] = False
        params["formality"]["comet"] = False
    else:
        params["comet"] |= {"model": str(comet), "gpus": 0, "python": str(COMET_PYTHON)}
    return params


@pytest.fixture(scope="module")
def paper_run(tokenizer, tmp_path_factory, request):
    """A `dvc repro` of the offline paper params; returns the repository and its output."""
    if not (SHARED / "hub").is_dir():
        pytest.skip(f"{SHARED} absent: the hub mirror lives beside the checkout, not in it")
    tmp = tmp_path_factory.mktemp("paper")
    backbone = tmp / "tiny-chat"
    # Room for the real sentences: a toy-trained BPE spells Czech and German in many tokens.
    config = TINY_MODEL | {"max_position_embeddings": 1024}
    build_model(tokenizer, config, seed=0).save_pretrained(backbone)
    tokenizer.save_pretrained(backbone)
    judge = scripted_model(tmp / "judge", tokenizer, JUDGE_TEMPLATE, JUDGE_SCRIPT)
    comet = request.getfixturevalue("tiny_comet") / "da" if COMET_PYTHON.is_file() else None
    repo = new_repo(tmp / "repo", offline_params(tmp, backbone, judge, comet))
    return repo, sh(repo, "dvc", "repro", stderr=True)  # stderr: the stages' notes


@pytest.mark.slow
def test_repro_runs_every_stage(paper_run):
    repo, out = paper_run
    ran = {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}
    expected = {"toy", "backbone", "fetch", "rationales@self", "evaluate-backbone", "summary"}
    expected |= {"selfgen@translate", "selfgen@rewrite"}
    stages = ("build", "train", "evaluate", "gradcos", "report")
    expected |= {f"{s}@{m}" for s in stages for m in MODELS[1:]}
    suites = yaml.safe_load((repo / "params.yaml").read_text())["suites"]
    expected |= {f"{s}@{m}" for s, models in suites.items() for m in models}
    expected |= {f"judge@{m}" for m in suites["instruct"]}
    assert expected <= ran, sorted(expected - ran)
    listed = {line.split()[0] for line in sh(repo, "dvc", "stage", "list").splitlines()}
    assert ran == listed, sorted(listed ^ ran)


@pytest.mark.slow
def test_flat_scores_of_every_model(paper_run):
    repo, _ = paper_run
    keys = {
        "evaluate": {"mt.cs-en.bleu", "mt.en-de.chrf", "mt.xx-en.chrf", "mt.en-xx.bleu", "mt.chrf"},
        "gsm8k": {"general.gsm8k", "general.gsm8k.flexible_extract", "general.gsm8k.n"},
        "safety": {"general.advbench.safe_rate", "general.advbench.refusal_rate"},
        "formality": {"formality.accuracy", "formality.formal.chrf", "formality.informal.chrf"},
    }
    if COMET_PYTHON.is_file():  # COMET per condition, as the paper's Table 2
        keys["formality"] |= {"formality.formal.comet", "formality.informal.comet"}
    for suite, expected in keys.items():
        for model in RUN_SUITES.get(suite, MODELS):
            scores = json.loads((repo / f"metrics/eval/{model}/{suite}.json").read_text())
            assert expected <= set(scores), (model, suite, sorted(scores))
    for model in RUN_SUITES["gsm8k"]:
        gsm8k = json.loads((repo / f"metrics/eval/{model}/gsm8k.json").read_text())
        assert gsm8k["general.gsm8k.n"] == 2
    for model in RUN_SUITES["safety"]:
        safety = json.loads((repo / f"metrics/eval/{model}/safety.json").read_text())
        assert safety["general.advbench.n"] == 2
        assert safety["general.advbench.unparsed"] == 0  # the stand-in judge saw each answer
    for model in RUN_SUITES["instruct"]:
        assert json.loads((repo / f"metrics/eval/{model}/judge.json").read_text()) == {}


@pytest.mark.slow
def test_comet_scores(paper_run):
    repo, _ = paper_run
    if not COMET_PYTHON.is_file():
        pytest.skip(".venv-comet is absent (make comet-env): the run left COMET out")
    for model in RUN_SUITES["comet"]:
        scores = json.loads((repo / f"metrics/eval/{model}/comet.json").read_text())
        assert {"mt.comet", "mt.cs-en.comet", "mt.en-de.comet"} <= set(scores), sorted(scores)


@pytest.mark.slow
def test_instruction_answer_files_parse(paper_run):
    repo, _ = paper_run
    questions = read_table(repo / "data/fetch/mt_bench.parquet", MT_BENCH)
    assert questions.question_id.tolist() == [q["question_id"] for q in QUESTIONS]
    for model in RUN_SUITES["instruct"]:
        folder = repo / "data/instruct" / model
        alpaca = read_alpaca_eval(folder / "alpaca_eval.json")
        assert len(alpaca) == 3 and {r["generator"] for r in alpaca} == {model}
        mt_bench = read_mt_bench(folder / "mt_bench.jsonl")
        assert [r["question_id"] for r in mt_bench] == [81, 111]
        assert all(len(r["choices"][0]["turns"]) == 2 for r in mt_bench)
        assert len(read_table(folder / "answers.parquet", INSTRUCT_ANSWER)) == 3 + 2 * 2


@pytest.mark.slow
def test_table_has_every_model(paper_run):
    repo, _ = paper_run
    table = (repo / "metrics/table.md").read_text()
    for model in MODELS:
        assert f"| {model} |" in table
    header = table.splitlines()[0]
    assert "| GSM8K |" in header and "| AdvBench |" in header  # Table 1's names
    if COMET_PYTHON.is_file():  # Table 1's translation columns, then Tables 6 and 7
        assert header.startswith("| model | COMET X→EN | COMET EN→X |")
        assert "(Table 6)" in table and "(Table 7)" in table
    assert "(Table 2)" in table  # formality steering
    for column in ("BELEBELE X", "FLORES X→EN BLEU", "FLORES EN→X BLEU", "MKQA X F1"):
        assert column in table
    assert "XL-SUM X" not in table  # no target language of the run has XL-SUM
    for method in MODELS[1:]:
        metrics = json.loads((repo / f"metrics/{method}.json").read_text())
        assert {"mt.chrf", "general.gsm8k", "fr", "preservation"} <= set(metrics)
        assert {"belebele.xx", "flores.en-xx.bleu", "mkqa.xx.f1"} <= set(metrics)


@pytest.mark.slow
def test_multilingual_scores_of_every_model(paper_run):
    repo, out = paper_run
    comet = COMET_PYTHON.is_file()
    directions = ("en-cs", "cs-en", "en-de", "de-en", "xx-en", "en-xx")
    expected = {f"belebele.{x}" for x in ("cs", "de", "en", "xx")}
    expected |= {f"flores.{d}.bleu" for d in directions}
    expected |= {f"flores.{d}.comet" for d in directions} if comet else set()
    expected |= {"xlsum.en.rouge1", "xlsum.en.rougeL"}  # no xx: no target language has XL-SUM
    expected |= {f"mkqa.{x}.f1" for x in ("de", "en", "xx")}
    # the off-target rate of every generated answer, per benchmark and language (Figure 3)
    expected |= {f"flores.{d}.offtarget" for d in directions}
    expected |= {"xlsum.en.offtarget"} | {f"mkqa.{x}.offtarget" for x in ("de", "en", "xx")}
    expected |= {f"offtarget.{x}" for x in ("cs", "de", "en", "xx")}
    for model in RUN_SUITES["multilingual"]:
        scores = json.loads((repo / f"metrics/eval/{model}/multilingual.json").read_text())
        assert set(scores) == expected, (model, sorted(set(scores) ^ expected))
        for key, value in scores.items():
            if key.endswith(".comet"):
                assert math.isfinite(value), (model, key, value)
            else:
                assert 0.0 <= value <= 100.0, (model, key, value)
        assert scores["belebele.xx"] == round(
            (scores["belebele.cs"] + scores["belebele.de"]) / 2, 2
        )
        assert scores["mkqa.xx.f1"] == scores["mkqa.de.f1"]  # German is the only target with MKQA
        preds = read_table(
            repo / f"data/multilingual/{model}/predictions.parquet", MULTILINGUAL_PREDICTION
        )
        assert preds.groupby(["benchmark", "subset"]).size().to_dict() == ML_ROWS, model
        assert preds.prompt.str.startswith("<|im_start|>user\n").all()  # the chat template
        flores = preds[preds.benchmark == "flores"]
        assert flores.score.map(math.isfinite).all() == comet  # COMET segments, else NaN
        belebele = preds[preds.benchmark == "belebele"]
        assert set(belebele.hypothesis) <= set("ABCD") and set(belebele.score) <= {0.0, 1.0}
    # the skipped languages are said once per model, on stderr
    models = len(RUN_SUITES["multilingual"])
    assert out.count("multilingual: xlsum has no data for ['cs', 'de']: skipped") == models
    assert out.count("multilingual: mkqa has no data for ['cs']: skipped") == models
