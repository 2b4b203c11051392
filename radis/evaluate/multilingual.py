"""SDRRL's evaluation (Zhang et al., 2024), in each target language and in English.

BELEBELE (accuracy) runs lm-eval's own ``belebele_<code>`` tasks; FLORES+ (corpus BLEU with a
sacreBLEU tokenizer, ``flores200`` by default, and optionally COMET-22; both directions with
English), XL-SUM (ROUGE-1 and ROUGE-L F1) and MKQA (token F1) run our generate-until task
``radis/evaluate/tasks/multilingual_radis.yaml`` over prompts built here;
:mod:`radis.evaluate.bleu` (BLEU) and :mod:`radis.evaluate.multilingual_metrics` (ROUGE, F1,
off-target rate) score the logged outputs. The lm-eval plumbing lives in
:mod:`radis.evaluate.multilingual_tasks` and :mod:`radis.evaluate.harness`.

Choices where the paper is silent:

- Prompts are English instructions naming the language (:data:`XLSUM_PROMPT`,
  :data:`MKQA_PROMPT`); FLORES uses RaDis's translation instruction ``template``. A FLORES or
  MKQA output is extracted like a translation at test time
  (:func:`radis.generate.extraction.extract`: a chat preamble, label, quotes or gloss dropped, the
  first line after them kept); a summary is the whole output.
- MKQA keeps the questions that have a short answer in the language (answer types other than
  ``unanswerable`` and ``long_answer``); the gold answers are each answer's text and aliases.
- A language a dataset lacks (XL-SUM has no Czech or German, MKQA no Czech) is skipped for that
  dataset, with a note on stderr. ``.xx`` keys average the target languages that have scores.
- ``limit`` keeps the first N rows (FLORES: the first N sentence ids) of each language; the
  SDRRL setup runs the full test sets (``limit: null``).
- The off-target rate (SDRRL's Figure 3 counts responses not in the input's language) is taken
  over the scored text of every generated answer (a FLORES translation: its target language;
  a summary or an MKQA answer: the language asked for): lingua picks among the evaluated
  languages, English and ``lid_languages``; an answer it cannot tell is not off target.
- MKQA's binary answers are ``yes``/``no`` in every language; its script reads a separate
  yes/no field of a prediction, which a generated answer does not have, so the text is scored.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from radis.core.config import positive
from radis.core.io import RadisError
from radis.core.templates import language_name
from radis.data.hub import LOAD_ERRORS, pin
from radis.generate.backend import GenerationConfig
from radis.sdrrl.filter import lingua_languages

BENCHMARKS = ("belebele", "flores", "xlsum", "mkqa")
XLSUM_PROMPT = "Summarize the following news article in {language} in one sentence.\n\n{text}"
MKQA_PROMPT = "Answer the following question in {language} with a short answer only.\n{question}"
#: MKQA's answer types (its ClassLabel names, stored as their index in the Parquet export).
MKQA_TYPES = (
    "entity",
    "long_answer",
    "unanswerable",
    "date",
    "number",
    "number_with_unit",
    "short_phrase",
    "binary",
)
MKQA_SKIPPED = ("unanswerable", "long_answer")
#: MKQA's only config (the folder of its Parquet export).
MKQA_CONFIG = "mkqa"
#: A config's split files in the hub's Parquet export, in either of its layouts
#: (``english/xlsum-test.parquet``, ``english/xlsum-train-00000-of-00002.parquet``,
#: ``mkqa/train/0000.parquet``); patterns that match nothing are skipped.
EXPORT_PATTERNS = (
    "{config}/{split}/*.parquet",
    "{config}/*-{split}.parquet",
    "{config}/*-{split}-*.parquet",
)
#: The columns lm-eval's BELEBELE tasks read.
BELEBELE_COLUMNS = ["flores_passage", "question", "correct_answer_num"] + [
    f"mc_answer{i}" for i in range(1, 5)
]


class Codes(NamedTuple):
    """One language's name in each dataset; None where the dataset lacks the language."""

    flores: str  # FLORES+ config (FLORES+ writes Mandarin cmn_Hans)
    belebele: str  # lm-eval task belebele_<code> (BELEBELE keeps FLORES-200's zho_Hans)
    xlsum: str | None  # XL-SUM config (its own language names)
    mkqa: str | None  # MKQA's field in `queries` and `answers`


#: Our language codes (both papers' languages) to each dataset's.
CODES = {
    "en": Codes("eng_Latn", "eng_Latn", "english", "en"),
    "cs": Codes("ces_Latn", "ces_Latn", None, None),
    "de": Codes("deu_Latn", "deu_Latn", None, "de"),
    "ru": Codes("rus_Cyrl", "rus_Cyrl", "russian", "ru"),
    "zh": Codes("cmn_Hans", "zho_Hans", "chinese_simplified", "zh_cn"),
    "is": Codes("isl_Latn", "isl_Latn", None, None),
    "da": Codes("dan_Latn", "dan_Latn", None, "da"),
    "uk": Codes("ukr_Cyrl", "ukr_Cyrl", "ukrainian", None),
    "bg": Codes("bul_Cyrl", "bul_Cyrl", None, None),
    "fi": Codes("fin_Latn", "fin_Latn", None, "fi"),
    "hu": Codes("hun_Latn", "hun_Latn", None, "hu"),
    "nb": Codes("nob_Latn", "nob_Latn", None, "no"),
    "id": Codes("ind_Latn", "ind_Latn", "indonesian", None),
    "ja": Codes("jpn_Jpan", "jpn_Jpan", "japanese", "ja"),
    "ko": Codes("kor_Hang", "kor_Hang", "korean", "ko"),
    "fr": Codes("fra_Latn", "fra_Latn", "french", "fr"),  # SDRRL's other source (appendix C)
    "pt": Codes("por_Latn", "por_Latn", "portuguese", "pt"),
    "sl": Codes("slv_Latn", "slv_Latn", None, None),
    "vi": Codes("vie_Latn", "vie_Latn", "vietnamese", "vi"),
    "pl": Codes("pol_Latn", "pol_Latn", None, "pl"),
    "th": Codes("tha_Thai", "tha_Thai", "thai", "th"),
    "km": Codes("khm_Khmr", "khm_Khmr", None, "km"),
}


def codes(lang: str) -> Codes:
    """The dataset codes of language ``lang``.

    Raises:
        RadisError: For a language outside :data:`CODES`.
    """
    if lang not in CODES:
        raise RadisError(
            f"params.yaml: base.languages: no SDRRL evaluation data for language {lang!r}; "
            f"known: {sorted(CODES)}"
        )
    return CODES[lang]


@dataclass
class BenchData:
    """One dataset of the suite (params ``multilingual.<benchmark>``).

    Attributes:
        id: Hub dataset id; read from ``<mirror>/<id>`` under a mirror.
        revision: Branch, tag or commit sha (a sha pins it); ignored for a mirror folder.
        split: Split to evaluate.
        parquet_export: The repository is the hub's Parquet export of a dataset whose loader is
            a script (revision ``refs/convert/parquet``): a folder per config, no README
            listing them, so files are found by :data:`EXPORT_PATTERNS`; false: configs by name.
        limit: Rows per language (FLORES: per direction); null = all.
        num_fewshot: Worked examples before each item, drawn from the same split.
        max_gen_toks: Tokens generated per item (not used by BELEBELE, a multiple choice).
    """

    id: str
    revision: str | None = "main"
    split: str = "test"
    parquet_export: bool = False
    limit: int | None = None
    num_fewshot: int = 0
    max_gen_toks: int = 256

    def __post_init__(self):
        positive(max_gen_toks=self.max_gen_toks)
        if self.limit is not None:
            positive(limit=self.limit)
        if self.num_fewshot < 0:
            raise ValueError(f"num_fewshot: must be >= 0, got {self.num_fewshot}")


@dataclass
class MultilingualConfig:
    """Params ``multilingual``.

    Attributes:
        benchmarks: The paper setup's datasets to run, among :data:`BENCHMARKS`.
        mirror: Folder with the hub's layout: dataset id X is read from ``<mirror>/X``.
        apply_chat_template: Render prompts with the model's chat template (chat models).
        fewshot_as_multiturn: Few-shot examples as earlier chat turns.
        batch_size: Items per batch of the harness's HF model.
        template: RaDis instruction template (1-5) of the FLORES prompts.
        tokenize: sacreBLEU tokenizer of FLORES BLEU (``flores200``: SentencePiece, downloaded
            on first use).
        comet: Also score FLORES with COMET (params ``comet``, its own environment).
        lid_languages: lingua's candidate languages (ISO 639-1) for the off-target rate of the
            generated answers beyond ``base.languages`` and English, which it always has.
        generation: Decoding of the toy world's translated general items.
        belebele, flores, xlsum, mkqa: The datasets.
    """

    benchmarks: list = field(default_factory=lambda: list(BENCHMARKS))
    mirror: str | None = None
    apply_chat_template: bool = True
    fewshot_as_multiturn: bool = False
    batch_size: int = 8
    template: int = 2
    tokenize: str = "flores200"
    comet: bool = False
    lid_languages: list = field(default_factory=list)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    belebele: BenchData = field(default_factory=lambda: BenchData("facebook/belebele"))
    flores: BenchData = field(
        default_factory=lambda: BenchData("openlanguagedata/flores_plus", split="devtest")
    )
    xlsum: BenchData = field(
        default_factory=lambda: BenchData(
            "csebuetnlp/xlsum", "refs/convert/parquet", parquet_export=True, max_gen_toks=128
        )
    )
    mkqa: BenchData = field(
        default_factory=lambda: BenchData(
            "apple/mkqa", "refs/convert/parquet", "train", parquet_export=True, max_gen_toks=32
        )
    )

    def __post_init__(self):
        positive(batch_size=self.batch_size)
        unknown = sorted(set(self.benchmarks) - set(BENCHMARKS))
        if unknown:
            raise ValueError(f"benchmarks: unknown {unknown}; known {list(BENCHMARKS)}")
        if not 1 <= self.template <= 5:
            raise ValueError(f"template: must be one of 1-5, got {self.template}")
        if self.fewshot_as_multiturn and not self.apply_chat_template:
            raise ValueError("fewshot_as_multiturn: needs apply_chat_template: true")
        unknown = [x for x in self.lid_languages if not lingua_knows(x)]
        if unknown:
            raise ValueError(f"lid_languages: lingua has no language {unknown[0]!r}")


def lingua_knows(code: str) -> bool:
    """Whether lingua can identify the language of ISO 639-1 ``code``."""
    try:
        lingua_languages([code])
    except RadisError:
        return False
    return True


def mirror_path(mirror: str, dataset: str) -> Path:
    """``<mirror>/<dataset>``, with a one-line error if it is missing."""
    folder = Path(mirror) / dataset
    if not folder.is_dir():
        raise RadisError(f"params.yaml: multilingual.mirror: {dataset}: {folder} not found")
    return folder


def load_rows(data: BenchData, config: str | None, mirror: str | None) -> pd.DataFrame:
    """The rows of one config (a language) of ``data``, from the hub or the mirror."""
    import datasets  # here: the toy world never needs it

    where = "params.yaml: multilingual"
    if mirror:
        path, kwargs = str(mirror_path(mirror, data.id)), {}
    else:  # read at the commit the revision resolves to, recorded in radis.data.hub.COMMITS
        path, kwargs = data.id, {"revision": pin(data.id, data.revision, where)}
    name = config
    if data.parquet_export:  # explicit files: the export's folders also hold DuckDB indexes
        files = [p.format(config=config, split=data.split) for p in EXPORT_PATTERNS]
        name, kwargs["data_files"] = None, {data.split: files}
    try:
        ds = datasets.load_dataset(path, name, split=data.split, **kwargs)
    except LOAD_ERRORS as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise RadisError(
            f"{where}: {data.id} ({config or 'default'}, {data.split}): {first}"
        ) from None
    return ds.to_pandas()


def need(df: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    """``df`` if it has ``columns``, else a one-line error naming the dataset and column."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise RadisError(f"{what}: missing column {missing[0]!r}; found {sorted(df.columns)}")
    return df


def head(df: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """The first ``limit`` rows (all when None), re-indexed from 0."""
    return (df if limit is None else df.head(limit)).reset_index(drop=True)


def flores_rows(cfg: MultilingualConfig, lang: str, english: pd.DataFrame) -> dict:
    """Both directions of ``lang`` with English: ``{"en-x": rows, "x-en": rows}``.

    Rows hold id, source, prompt (the translation instruction) and target (the reference).
    """
    from radis.core.templates import instruction

    what = f"{cfg.flores.id} ({codes(lang).flores})"
    other = need(load_rows(cfg.flores, codes(lang).flores, cfg.mirror), ["id", "text"], what)
    pairs = english[["id", "text"]].merge(other[["id", "text"]], on="id", suffixes=("_en", "_x"))
    pairs = head(pairs.sort_values("id"), cfg.flores.limit)
    out = {}
    for src, tgt, s, t in (("en", lang, "text_en", "text_x"), (lang, "en", "text_x", "text_en")):
        prompts = [instruction(cfg.template, src, tgt, x) for x in pairs[s]]
        out[f"{src}-{tgt}"] = pd.DataFrame(
            {"id": pairs.id.astype(str), "source": pairs[s], "prompt": prompts, "target": pairs[t]}
        )
    return out


def xlsum_rows(cfg: MultilingualConfig, lang: str) -> pd.DataFrame:
    """XL-SUM rows of ``lang``: id, prompt (article and instruction), target (the summary)."""
    what = f"{cfg.xlsum.id} ({codes(lang).xlsum})"
    df = load_rows(cfg.xlsum, codes(lang).xlsum, cfg.mirror)
    df = head(need(df, ["id", "summary", "text"], what), cfg.xlsum.limit)
    name = language_name(lang)
    prompts = [XLSUM_PROMPT.format(language=name, text=t) for t in df.text]
    return pd.DataFrame({"id": df.id.astype(str), "prompt": prompts, "target": df.summary})


def mkqa_answers(answers: dict | None, key: str) -> list[str]:
    """The gold short answers (texts and aliases) of one MKQA row in field ``key``."""
    found = (answers or {}).get(key)
    out = []
    for a in [] if found is None else found:
        kind = a["type"] if isinstance(a["type"], str) else MKQA_TYPES[a["type"]]
        if kind not in MKQA_SKIPPED:
            aliases = a.get("aliases")
            out += [a["text"] or ""] + ([] if aliases is None else list(aliases))
    return [x for x in out if x.strip()]


def mkqa_rows(cfg: MultilingualConfig, lang: str, mkqa: pd.DataFrame) -> pd.DataFrame:
    """MKQA rows of ``lang`` with a short answer: id, prompt, target (first answer), answers."""
    key = codes(lang).mkqa
    golds = [mkqa_answers(a, key) for a in mkqa.answers]
    questions = [q.get(key) or "" for q in mkqa.queries]
    keep = [i for i, (g, q) in enumerate(zip(golds, questions)) if g and q.strip()]
    keep = keep if cfg.mkqa.limit is None else keep[: cfg.mkqa.limit]
    name = language_name(lang)
    return pd.DataFrame(
        {
            "id": [str(mkqa.example_id.iloc[i]) for i in keep],
            "prompt": [MKQA_PROMPT.format(language=name, question=questions[i]) for i in keep],
            "target": [golds[i][0] for i in keep],
            "answers": [golds[i] for i in keep],
        }
    )
