"""SDRRL's evaluation of one model in the paper setup: BELEBELE, FLORES+, XL-SUM, MKQA.

:func:`evaluate_multilingual` runs the benchmarks in params ``multilingual.benchmarks`` for every
language in ``base.languages`` and English and returns flat scores (in %) and one prediction
row per item (schema ``multilingual_prediction``). Score keys:

- ``belebele.<lang>``: accuracy;
- ``flores.<src>-<tgt>.bleu`` (and ``.comet`` with ``multilingual.comet``) for each direction
  with English;
- ``xlsum.<lang>.rouge1``, ``xlsum.<lang>.rougeL``: mean F1 over the summaries (XL-SUM's
  multilingual tokens and stemmers);
- ``mkqa.<lang>.f1``: mean token F1 against the best gold answer (MKQA's official rules);
- ``flores.<src>-<tgt>.offtarget``, ``xlsum.<lang>.offtarget``, ``mkqa.<lang>.offtarget``: the
  off-target rate of the generated answers (translations, summaries, answers), and
  ``offtarget.<lang>``, the rate over every answer expected in ``<lang>`` (SDRRL's Figure 3);
  lingua identifies the languages, among ``multilingual.lid_languages`` (default: the
  evaluated languages and English); a language lingua lacks (Khmer) gets no rate;
- ``.xx`` averages over the target languages (``flores.xx-en.bleu``, ``flores.en-xx.bleu``).

:mod:`radis.evaluate.multilingual_metrics` holds the scoring rules.
"""

import sys
from pathlib import Path

import pandas as pd

from radis.core.io import RadisError, read_table
from radis.core.params import BaseConfig
from radis.core.schemas import GENERAL, MULTILINGUAL_PREDICTION
from radis.evaluate import multilingual_tasks
from radis.evaluate.bleu import bleu_metric, corpus_bleu
from radis.evaluate.comet import CometConfig, comet_scores
from radis.evaluate.harness import make_lm, model_args
from radis.evaluate.multilingual import (
    BELEBELE_COLUMNS,
    MKQA_CONFIG,
    MultilingualConfig,
    codes,
    flores_rows,
    lingua_knows,
    load_rows,
    mkqa_rows,
    need,
    xlsum_rows,
)
from radis.evaluate.multilingual_metrics import mkqa_f1, offtarget, xlsum_rouge
from radis.generate.extraction import extract_translation
from radis.generate.serve import open_backend, served
from radis.sdrrl.filter import lingua_identify
from radis.toy.multilingual import evaluate_toy, is_toy

#: The benchmarks whose outputs are generated text in a known language.
GENERATED = ("flores", "xlsum", "mkqa")


def available(languages: list[str], dataset: str) -> list[str]:
    """The target languages and English (last) that ``dataset`` has; a note on the others."""
    langs = [x for x in languages if x != "en"] + ["en"]
    missing = [x for x in langs if getattr(codes(x), dataset) is None]
    if missing:
        print(f"multilingual: {dataset} has no data for {missing}: skipped", file=sys.stderr)
    return [x for x in langs if x not in missing]


def average(scores: dict[str, float], key: str, langs: list[str]) -> dict[str, float]:
    """``key`` with ``{}`` as ``xx``: the mean of ``key`` over the non-English ``langs``."""
    values = [scores[key.format(x)] for x in langs if x != "en"]
    return {key.format("xx"): round(sum(values) / len(values), 2)} if values else {}


def rows(benchmark: str, subset: str, ids, outputs, hyps, refs, scores) -> pd.DataFrame:
    """Prediction rows (``multilingual_prediction``) of one benchmark subset."""
    prompts, texts = zip(*outputs)
    return pd.DataFrame(
        {
            "benchmark": benchmark,
            "subset": subset,
            "id": list(ids),
            "prompt": list(prompts),
            "output": list(texts),
            "hypothesis": list(hyps),
            "reference": list(refs),
            "score": [float(s) for s in scores],
        },
        columns=list(MULTILINGUAL_PREDICTION.fields),
    )


def check_rows(tasks: dict[str, pd.DataFrame], benchmark: str) -> dict[str, pd.DataFrame]:
    """``tasks`` if every language has rows, else a one-line error naming the first empty one."""
    empty = [lang for lang, t in tasks.items() if not len(t)]
    if empty:
        raise RadisError(f"multilingual: {benchmark}: no usable row for {empty[0]!r}")
    return tasks


def evaluate_belebele(lm, languages: list[str], cfg: MultilingualConfig, seed: int):
    """BELEBELE accuracy of every language and English."""
    langs = available(languages, "belebele")
    for lang in langs:  # clear errors (missing data, columns) before the harness loads it
        code = codes(lang).belebele
        need(
            load_rows(cfg.belebele, code, cfg.mirror),
            BELEBELE_COLUMNS,
            f"{cfg.belebele.id} ({code})",
        )
    found = multilingual_tasks.belebele(lm, [codes(x).belebele for x in langs], cfg, seed)
    preds, scores = [], {}
    for lang in langs:
        r = found[codes(lang).belebele]
        scores[f"belebele.{lang}"] = round(100 * r.correct.mean(), 2)
        outs = list(zip(r.prompt, r.choice))
        preds.append(
            rows("belebele", lang, r.doc_id.astype(str), outs, r.choice, r.gold, r.correct)
        )
    return pd.concat(preds, ignore_index=True), scores | average(scores, "belebele.{}", langs)


def flores_comet(tasks: dict, hyps: dict, comet: CometConfig | None) -> dict[str, list[float]]:
    """COMET segment scores of every direction, in one call of the COMET environment."""
    if comet is None:
        return {}
    sources = [s for task in tasks.values() for s in task.source]
    refs = [r for task in tasks.values() for r in task.target]
    found = comet_scores(sources, [h for d in tasks for h in hyps[d]], comet, refs).segments
    out, start = {}, 0
    for direction, task in tasks.items():
        out[direction], start = found[start : start + len(task)], start + len(task)
    return out


def evaluate_flores(lm, languages, cfg: MultilingualConfig, seed: int, comet: CometConfig | None):
    """FLORES+ BLEU (and COMET) of both directions between every language and English."""
    metric = bleu_metric(cfg.tokenize)  # first: a missing tokenizer stops before any generation
    code = codes("en").flores
    english = need(
        load_rows(cfg.flores, code, cfg.mirror), ["id", "text"], f"{cfg.flores.id} ({code})"
    )
    tasks = {}
    for lang in [x for x in languages if x != "en"]:
        tasks |= flores_rows(cfg, lang, english)
    check_rows(tasks, "flores")
    outputs = multilingual_tasks.generate(
        lm, {_name("flores", d): r for d, r in tasks.items()}, cfg, cfg.flores, seed
    )
    hyps = {
        d: [extract_translation(o, d.split("-")[1]) for _, o in outputs[_name("flores", d)]]
        for d in tasks
    }
    segments = flores_comet(tasks, hyps, comet)
    preds, scores = [], {}
    for direction, task in tasks.items():
        scores[f"flores.{direction}.bleu"] = corpus_bleu(metric, hyps[direction], task.target)
        seg = segments.get(direction, [float("nan")] * len(task))
        if direction in segments:
            scores[f"flores.{direction}.comet"] = round(100 * sum(seg) / len(seg), 2)
        outs = outputs[_name("flores", direction)]
        preds.append(rows("flores", direction, task.id, outs, hyps[direction], task.target, seg))
    targets = [x for x in languages if x != "en"]
    for metric_name in ["bleu"] + (["comet"] if comet is not None else []):
        for template in ("flores.{}-en." + metric_name, "flores.en-{}." + metric_name):
            scores |= average(scores, template, targets)
    return pd.concat(preds, ignore_index=True), scores


def evaluate_xlsum(lm, languages: list[str], cfg: MultilingualConfig, seed: int):
    """XL-SUM ROUGE-1 and ROUGE-L F1 of every language that has it and English."""
    langs = available(languages, "xlsum")
    tasks = check_rows({lang: xlsum_rows(cfg, lang) for lang in langs}, "xlsum")
    outputs = multilingual_tasks.generate(
        lm, {_name("xlsum", x): r for x, r in tasks.items()}, cfg, cfg.xlsum, seed
    )
    preds, scores = [], {}
    for lang, task in tasks.items():
        outs = outputs[_name("xlsum", lang)]
        hyps = [o.strip() for _, o in outs]
        found = xlsum_rouge(hyps, task.target.tolist(), codes(lang).xlsum)
        for kind in ("rouge1", "rougeL"):
            scores[f"xlsum.{lang}.{kind}"] = round(100 * _mean([f[kind] for f in found]), 2)
        rougel = [f["rougeL"] for f in found]
        preds.append(rows("xlsum", lang, task.id, outs, hyps, task.target, rougel))
    for kind in ("rouge1", "rougeL"):
        scores |= average(scores, "xlsum.{}." + kind, langs)
    return pd.concat(preds, ignore_index=True), scores


def evaluate_mkqa(lm, languages: list[str], cfg: MultilingualConfig, seed: int):
    """MKQA token F1 of every language that has it and English."""
    langs = available(languages, "mkqa")
    table = load_rows(cfg.mkqa, MKQA_CONFIG, cfg.mirror)
    need(table, ["example_id", "queries", "answers"], cfg.mkqa.id)
    tasks = check_rows({lang: mkqa_rows(cfg, lang, table) for lang in langs}, "mkqa")
    outputs = multilingual_tasks.generate(
        lm, {_name("mkqa", x): r for x, r in tasks.items()}, cfg, cfg.mkqa, seed
    )
    preds, scores = [], {}
    for lang, task in tasks.items():
        outs = outputs[_name("mkqa", lang)]
        hyps = [extract_translation(o) for _, o in outs]
        f1 = [mkqa_f1(h, a, codes(lang).mkqa) for h, a in zip(hyps, task.answers)]
        scores[f"mkqa.{lang}.f1"] = round(100 * _mean(f1), 2)
        refs = [" | ".join(a) for a in task.answers]
        preds.append(rows("mkqa", lang, task.id, outs, hyps, refs, f1))
    return pd.concat(preds, ignore_index=True), scores | average(scores, "mkqa.{}.f1", langs)


def evaluate_multilingual(lm, languages, cfg: MultilingualConfig, seed: int, comet=None):
    """Every benchmark of ``cfg.benchmarks``: flat scores and the prediction rows.

    Args:
        lm: An ``lm_eval`` ``LM`` (:func:`radis.evaluate.harness.make_lm`).
        languages: Target languages (``base.languages``); English is added.
        cfg: Params ``multilingual``.
        seed: Every seed of the harness.
        comet: COMET params for FLORES when ``cfg.comet``.
    """
    for lang in languages:
        codes(lang)  # an unknown language stops before any model work
    preds, scores = [], {}
    runs = {
        "belebele": lambda: evaluate_belebele(lm, languages, cfg, seed),
        "flores": lambda: evaluate_flores(lm, languages, cfg, seed, comet if cfg.comet else None),
        "xlsum": lambda: evaluate_xlsum(lm, languages, cfg, seed),
        "mkqa": lambda: evaluate_mkqa(lm, languages, cfg, seed),
    }
    for name in cfg.benchmarks:
        p, s = runs[name]()
        preds.append(p)
        scores |= s
    preds = pd.concat(preds, ignore_index=True)
    return scores | offtarget_scores(preds, languages, cfg.lid_languages), preds


def evaluate_model(
    b: BaseConfig,
    cfg: MultilingualConfig,
    name: str,
    model: str = "",
    adapter: str = "",
    general: Path = Path("data/fetch/general.parquet"),
    comet: CometConfig | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """The suite on model ``name``: the toy world's in toy languages, else the paper's.

    Toy languages: the toy world's general items asked in each language
    (:func:`radis.toy.multilingual.evaluate_toy`) on a generation backend. Real languages: the
    benchmarks of :func:`evaluate_multilingual` through lm-evaluation-harness.

    Args:
        b: Params ``base``.
        cfg: Params ``multilingual`` (its generation seeded).
        name: ``backbone`` or a method (:func:`radis.generate.serve.served`).
        model: A model folder instead of ``name``'s.
        adapter: A LoRA adapter folder on ``model``.
        general: The general items (toy languages).
        comet: COMET params, when ``cfg.comet`` (real languages).

    Returns:
        Flat scores and the prediction rows (schema ``multilingual_prediction``).

    Raises:
        RadisError: If ``base.languages`` mix toy and real ones (before the model is looked for).
    """
    toy = is_toy(b.languages)
    what = served(b, name, model, adapter)
    if not toy:
        lm = make_lm(model_args(what.model, b.dtype, what.adapter), cfg.batch_size)
        return evaluate_multilingual(lm, b.languages, cfg, b.seed, comet)
    items = read_table(general, GENERAL)
    backend = open_backend(b, what.model, f"multilingual@{name}", what.adapter)
    scores, preds = evaluate_toy(backend, items, b.languages, cfg.generation, b.seed)
    backend.clean()
    return scores, preds


def expected_language(benchmark: str, subset: str) -> str:
    """The language a generated answer should be in: a translation's target, else the subset."""
    return subset.split("-")[1] if benchmark == "flores" else subset


def lid_candidates(languages: list[str], lid_languages: list[str]) -> list[str]:
    """The languages lingua chooses among: the evaluated ones and English, and ``lid_languages``.

    An evaluated language lingua lacks (Khmer) is left out, with a note on stderr.
    """
    langs = sorted(set(languages) | {"en"})
    missing = [x for x in langs if not lingua_knows(x)]
    if missing:
        print(
            f"multilingual: lingua cannot identify {missing}: no off-target rate", file=sys.stderr
        )
    return sorted({x for x in langs if x not in missing} | set(lid_languages))


def offtarget_scores(preds: pd.DataFrame, languages: list[str], lid_languages: list[str]):
    """The off-target rates (%) of the generated answers: per subset, per language, averages.

    Args:
        preds: Prediction rows of every benchmark; those of :data:`GENERATED` are checked.
        languages: Target languages (``base.languages``).
        lid_languages: More candidates of lingua (``multilingual.lid_languages``).
    """
    found = preds[preds.benchmark.isin(GENERATED)]
    expected = [expected_language(b, s) for b, s in zip(found.benchmark, found.subset)]
    candidates = lid_candidates(languages, lid_languages)
    found = found.assign(expected=expected)[[x in candidates for x in expected]]
    if found.empty:
        return {}
    found = found.assign(detected=lingua_identify(found.hypothesis.tolist(), candidates))
    scores = {}
    for (bench, subset), rows in found.groupby(["benchmark", "subset"], sort=False):
        scores[f"{bench}.{subset}.offtarget"] = offtarget(
            rows.detected.tolist(), rows.expected.iloc[0]
        )
    for lang, rows in found.groupby("expected", sort=False):
        scores[f"offtarget.{lang}"] = offtarget(rows.detected.tolist(), lang)
    targets = [x for x in languages if x != "en"]
    for key in (
        "flores.{}-en.offtarget",
        "flores.en-{}.offtarget",
        "xlsum.{}.offtarget",
        "mkqa.{}.offtarget",
        "offtarget.{}",
    ):
        scores |= average(scores, key, [x for x in targets if key.format(x) in scores])
    return scores


def _name(benchmark: str, subset: str) -> str:
    return f"ml_{benchmark}_{subset.replace('-', '_')}"


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
