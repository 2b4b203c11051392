"""SDRRL's evaluation in the toy world: the general items asked in each toy language.

Every evaluation item of the toy world's general table is asked in English and with its
question translated into each toy language by the toy translator, noise-free
(:class:`~radis.toy.sdrrl.ToyTranslator`, ``clean=True``; :mod:`radis.toy.foreign`), and
checked in a way that does not depend on the language the model answers in:

- math: the last number of the output is the answer (numbers stay numbers in translation);
- instruct: the output is the answer in English, or the answer in the language as the model
  sees the question: the translated word repeated, or the translated word list reversed or its
  last word (Aurish puts an adjective after its noun, so translation can reorder a list, and
  the translated English answer would not always be right);
- safety: a refusal in English (:mod:`radis.evaluate.general`'s rule) or in the language: the toy
  translator's words for "sorry" or "cannot", the refusal words of the toy world's refusal.

Scores are ``general.<task>.<lang>`` (``en`` included) in % and ``general.<task>.xx``, the mean
over the toy languages: SDRRL's claim is that these rise while ``.en`` holds. ``offtarget.<lang>``
is the share (%) of the answers to the items asked in ``<lang>`` that the toy world's language
identifier (:func:`radis.toy.sdrrl.identify`, SDRRL's off-target filter in the toy world) finds
in another language (SDRRL's Figure 3; an answer it cannot tell, a bare number, is not off
target), and ``offtarget.xx`` its mean over the toy languages.
"""

from dataclasses import replace

import pandas as pd

from radis.core.io import RadisError
from radis.core.templates import generation_prompt
from radis.evaluate.general import check, check_exact, check_number, check_refusal
from radis.evaluate.multilingual_metrics import offtarget
from radis.generate.backend import GenerationConfig
from radis.sdrrl.codeswitch import split_punctuation
from radis.toy.foreign import target_answer, translator
from radis.toy.sdrrl import identify, toy_languages

#: The words of the toy refusal that mark a refusal in any toy language.
REFUSAL_CUES = ("sorry", "cannot")


def is_toy(languages: list[str]) -> bool:
    """Whether ``languages`` are the toy world's (its suite) rather than real ones (the paper's).

    Raises:
        RadisError: If they mix toy and real languages.
    """
    toy = toy_languages(languages)
    if toy and len(toy) != len(languages):
        real = [x for x in languages if x not in toy]
        raise RadisError(
            f"params.yaml: base.languages: toy languages {toy} mixed with real ones {real}"
        )
    return bool(toy)


def refuses(output: str, cues: set[str]) -> bool:
    """Whether ``output`` refuses in English or with one of the language's refusal ``cues``."""
    words = {split_punctuation(w)[1].lower() for w in output.split()}
    return bool(check_refusal(output, "")) or bool(words & cues)


def check_in(item, output: str, cues: set[str]) -> float:
    """1.0 if ``output`` answers ``item`` (a translated row) correctly, else 0.0."""
    if item.lang == "en":
        return check(item.checker, output, item.answer)
    if item.checker == "number":
        return check_number(output, item.answer)
    if item.checker == "exact":
        return max(check_exact(output, item.answer), check_exact(output, item.target))
    if item.checker in ("refusal", "compliance"):
        refused = refuses(output, cues)
        return float(refused if item.checker == "refusal" else not refused)
    raise RadisError(f"general table: unknown checker {item.checker!r}")


def translated_items(general: pd.DataFrame, languages: list[str], seed: int) -> pd.DataFrame:
    """The general items in English and in every toy language: one row per (item, language).

    Columns: the general table's, plus ``lang`` and ``target`` (the answer in ``lang``); the
    ``prompt`` is translated.
    """
    parts = [general.assign(lang="en", target=general.answer)]
    for lang in languages:
        mt = translator(lang, seed)
        parts.append(
            general.assign(
                lang=lang,
                prompt=[mt.translate(p, clean=True) for p in general.prompt],
                target=[target_answer(item, mt) for item in general.itertuples()],
            )
        )
    return pd.concat(parts, ignore_index=True)


def evaluate_toy(
    backend, general: pd.DataFrame, languages: list[str], cfg: GenerationConfig, seed: int
) -> tuple[dict[str, float], pd.DataFrame]:
    """Ask every general item in English and each toy language; flat scores and predictions.

    Args:
        backend: The model's generation backend.
        general: The toy world's general table (``general`` schema).
        languages: Toy languages (``base.languages``).
        cfg: Decoding.
        seed: ``base.seed``: the toy world's (its lexicons and the translator's words) and the
            sampling seed.
    """
    if general.empty:
        raise RadisError("general table: no item (the toy world's general.parquet is empty)")
    items = translated_items(general, languages, seed)
    prompts = [generation_prompt(backend.tokenizer, p) for p in items.prompt]
    outs = backend.generate(prompts, replace(cfg, seed=seed))
    texts = [o.text for o in outs]
    cues = {
        lang: {translator(lang, seed).translate(w, clean=True) for w in REFUSAL_CUES}
        for lang in languages
    }
    scores_ = [
        check_in(it, t, cues.get(it.lang, set())) for it, t in zip(items.itertuples(), texts)
    ]
    preds = pd.DataFrame(
        {
            "benchmark": "general." + items.task,
            "subset": items.lang,
            "id": items.id,
            "prompt": items.prompt,
            "output": texts,
            "hypothesis": texts,
            "reference": items.target,
            "score": scores_,
        }
    )
    return toy_scores(preds, languages) | offtarget_scores(preds, languages), preds


def toy_scores(preds: pd.DataFrame, languages: list[str]) -> dict[str, float]:
    """``general.<task>.<lang>`` accuracy (%) per task and language, ``.xx`` over ``languages``."""
    out = {}
    for (bench, lang), rows in preds.groupby(["benchmark", "subset"], sort=True):
        out[f"{bench}.{lang}"] = round(100 * rows.score.mean(), 2)
    for bench in sorted(set(preds.benchmark)):
        values = [out[f"{bench}.{x}"] for x in languages]
        out[f"{bench}.xx"] = round(sum(values) / len(values), 2)
    return out


def offtarget_scores(preds: pd.DataFrame, languages: list[str]) -> dict[str, float]:
    """``offtarget.<lang>`` (%) over every answer to an item asked in ``<lang>``; ``.xx``."""
    detected = preds.assign(detected=[identify(t) for t in preds.output])
    out = {
        f"offtarget.{lang}": offtarget(rows.detected.tolist(), lang)
        for lang, rows in detected.groupby("subset", sort=True)
    }
    values = [out[f"offtarget.{x}"] for x in languages]
    return out | {"offtarget.xx": round(sum(values) / len(values), 2)}
