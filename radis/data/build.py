"""Build: one prompt/completion training set per method.

Every recipe uses the same seeded instruction for the same pair (``pick_template``), so methods
differ only in what the reply holds, and in what is mixed in. :data:`RECIPES` is the one registry
of recipes, RaDis's and SDRRL's (whose builders are in :mod:`radis.sdrrl.recipes`): each one's
params class, input tables and builder. :func:`training_set` is the ``build`` stage's entry.
"""

import contextlib
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from radis.core.config import parse, positive, probability
from radis.core.io import RadisError, read_table
from radis.core.schemas import CODESWITCH, RATIONALE, SDRRL_ANSWERS, SELFGEN, SFT, TRANSLATION
from radis.data.rationales import with_instructions
from radis.sdrrl.recipes import SdrrlInputs, SdrrlMethodConfig, build_sdrrl, read_kept


@dataclass
class MethodConfig:
    """Params ``build.<method>``.

    Attributes:
        recipe: ``vanilla``: instruction → reference. ``radis``: instruction → reference +
            rationale. ``multitask``: vanilla plus open instruction data. ``seqkd``: vanilla plus
            instruction → the backbone's own translation. ``sdft``: instruction → the backbone's
            rewrite of the reference.
        rationales: (radis) Which rationale set: a key of ``rationales.models`` (``self``: the
            backbone's own; another key: rationales written by another model).
        proportion: (radis) Share of the samples enriched with a rationale (seeded); the rest
            keep the reference only.
        truncated: (radis) What becomes of a rationale cut by ``max_new_tokens`` (the reply's
            end-of-turn token must not follow a sentence cut short, or the model learns to stop
            mid-sentence): ``cut`` keeps it up to its last complete sentence
            (:func:`last_sentence_end`; none: the row keeps the reference only), ``drop`` keeps
            the reference only. (A Seq-KD y′ cut short is always dropped and an SDFT rewrite cut
            short replaced by the reference: cut at a sentence, they would still be incomplete
            targets.)
        drop_empty: (radis) Drop rows whose rationale is empty; if false they keep only the
            reference.
        rationale_loss: (radis) Learn the rationale tokens (RaDis). If false the rationale stays
            in the reply but is masked from the loss: a control that keeps the longer reply and
            removes the self-distillation gradient.
        instruction_ratio: (multitask) Instruction rows per translation row, drawn (seeded)
            from the open instruction data without replacement: each instruction row is used at
            most once, so a ratio asking for more rows than the pool holds uses the whole pool.
        train: Overrides of params ``train`` for this method's training (read by
            ``train@<method>``, checked against ``train``'s fields there): the paper trains
            Seq-KD, whose set is twice as large, at batch 256 for the same number of steps.
    """

    recipe: Literal["vanilla", "radis", "multitask", "seqkd", "sdft"] = "vanilla"
    rationales: str = "self"
    proportion: float = 1.0
    truncated: Literal["cut", "drop"] = "cut"
    drop_empty: bool = False
    rationale_loss: bool = True
    instruction_ratio: float = 1.0
    train: dict = field(default_factory=dict)

    def __post_init__(self):
        probability(proportion=self.proportion)
        positive(instruction_ratio=self.instruction_ratio)


def sft(ids, prompts, completions, masked_suffixes=None) -> pd.DataFrame:
    """A table in the ``train_set`` schema (``masked_suffix`` empty unless given; one group)."""
    ids = list(ids)
    return pd.DataFrame(
        {
            "id": ids,
            "prompt": list(prompts),
            "completion": list(completions),
            "masked_suffix": [""] * len(ids) if masked_suffixes is None else list(masked_suffixes),
            "group": [""] * len(ids),
        }
    )


def vanilla(train: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Instruction → reference, with the same seeded instruction every method uses."""
    rows = with_instructions(train, seed)
    return sft(rows.id, rows.instruction, rows.reference)


def enriched_ids(ids: list[str], proportion: float, seed: int) -> set[str]:
    """A seeded subset of exactly round(proportion × len(ids)) ids."""
    shuffled = sorted(ids)
    random.Random(f"proportion:{seed}").shuffle(shuffled)
    return set(shuffled[: round(proportion * len(ids))])


#: A sentence end: terminal punctuation and any closing quotes or brackets, followed by
#: whitespace (Latin scripts), or a CJK full stop (no space follows it in zh and ja).
SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s)|[。！？][」』）”’]*")
#: The text before a list number's full stop: a number opening a line or following a sentence.
LIST_NUMBER = re.compile(r"(?:^|\n|[.!?:]\s)\s*\d+$")


def last_sentence_end(text: str) -> str:
    """``text`` up to the end of its last complete sentence, or "" if it has none.

    For text cut at ``max_new_tokens``: a full stop at the very end of Latin text is not taken as
    an end (the cut may fall inside "3.5" or "e.g."), nor is a list number's ("2. Then ...").
    """
    for match in reversed(list(SENTENCE_END.finditer(text))):
        if match.group().startswith(".") and LIST_NUMBER.search(text[: match.start()]):
            continue
        head = text[: match.end()]
        return head if head.strip() else ""
    return ""


def radis(rationales: pd.DataFrame, cfg: MethodConfig, seed: int) -> pd.DataFrame:
    """Instruction → reference + rationale: the enriched reply ŷ = CONCAT(y, r).

    The rationale is the backbone's continuation of exactly the rendered reference, so it is
    appended as generated, with no separator of our own. A rationale cut by ``max_new_tokens``
    is cut back to its last sentence or dropped (``cfg.truncated``).
    """
    rows = rationales
    empty = rows.rationale.str.strip() == ""
    cut = rows.finish_reason == "length"
    rationale = rows.rationale.where(
        ~cut, rows.rationale.map(last_sentence_end) if cfg.truncated == "cut" else ""
    )
    chosen = rows.id.isin(enriched_ids(rows.id.tolist(), cfg.proportion, seed))
    rationale = rationale.where(chosen & ~empty, "")
    keep = ~empty | ~pd.Series(cfg.drop_empty, index=rows.index)
    if cfg.rationale_loss:
        return sft(rows.id[keep], rows.instruction[keep], (rows.reference + rationale)[keep])
    return sft(rows.id[keep], rows.instruction[keep], rows.reference[keep], rationale[keep])


def multitask(train: pd.DataFrame, instructions: pd.DataFrame, cfg: MethodConfig, seed: int):
    """Vanilla rows plus open instruction rows, each used at most once.

    ``round(instruction_ratio × translation rows)`` instruction rows are drawn (seeded) without
    replacement; if the pool holds fewer, every row of it is used once (said on stderr).
    """
    n = round(cfg.instruction_ratio * len(train))
    if n >= len(instructions):
        if n > len(instructions):
            print(
                f"multitask: instruction_ratio {cfg.instruction_ratio} asks for {n} instruction "
                f"rows, the pool holds {len(instructions)}: each is used once",
                file=sys.stderr,
            )
        extra = instructions
    else:
        extra = instructions.iloc[
            random.Random(f"multitask:{seed}").sample(range(len(instructions)), n)
        ]
    return pd.concat([vanilla(train, seed), sft(extra.id, extra.prompt, extra.completion)])


def seqkd(train: pd.DataFrame, own: pd.DataFrame, seed: int) -> pd.DataFrame:
    """{(x, y)} ∪ {(x, y′)}: vanilla rows plus the backbone's own translations.

    A y′ that is empty or was cut by ``max_new_tokens`` adds no row: its end-of-turn token would
    follow an incomplete translation.
    """
    base = vanilla(train, seed)
    kd = base.merge(own[["id", "response", "finish_reason"]], on="id")
    kd = kd[(kd.response.str.strip() != "") & (kd.finish_reason != "length")]
    return pd.concat([base, sft(kd.id + "#kd", kd.prompt, kd.response)])


def sdft(train: pd.DataFrame, rewrites: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Instruction → the backbone's rewrite of the reference.

    A rewrite cut by ``max_new_tokens`` is replaced by the reference, as SDFT replaces a rewrite
    it cannot use (:data:`radis.data.selfgen.SDFT_LEAKS`).
    """
    base = vanilla(train, seed).merge(rewrites[["id", "response", "finish_reason"]], on="id")
    reply = base.response.where(base.finish_reason != "length", base.completion)
    return sft(base.id, base.prompt, reply)


@dataclass(frozen=True)
class Folders:
    """Where the ``build`` stage reads a recipe's input tables.

    Attributes:
        fetch: ``fetch``'s tables (``translation``, ``instructions``, ``parallel``).
        rationales: The rationale sets, ``<name>.parquet``.
        selfgen: The backbone's own outputs, ``translate.parquet`` and ``rewrite.parquet``.
        sdrrl: SDRRL's data stages' outputs (``selfanswer.parquet``, ``filter/<lang>.parquet``,
            ``codeswitch.parquet``).
    """

    fetch: Path
    rationales: Path
    selfgen: Path
    sdrrl: Path


def train_split(path: Path) -> pd.DataFrame:
    """The train split of a ``translation`` table."""
    rows = read_table(path, TRANSLATION)
    return rows[rows.split == "train"].reset_index(drop=True)


#: Added to the error of an empty input table: the data stage that writes it empty when off.
SELFGEN_OFF = "selfgen@{kind} writes an empty table unless selfgen.kinds lists the kind"
SDRRL_OFF = "SDRRL's data stages write empty tables unless selfanswer.enabled: true"


@dataclass(frozen=True)
class Input:
    """One input table of a recipe.

    Attributes:
        read: (folders, the method's params, ``base.languages``) → the table.
        hint: Added to the table's error if it is empty (the usual cause is a data stage
            switched off); empty: none.
    """

    read: Callable[[Folders, Any, list], pd.DataFrame]
    hint: str = ""


#: Every table a recipe may read, by name: the translation train split, a ``rationales`` set,
#: the ``instructions``, the backbone's own outputs of ``selfgen@translate`` /
#: ``selfgen@rewrite``, and SDRRL's (see :class:`radis.sdrrl.recipes.SdrrlInputs`).
INPUTS = {
    "train": Input(lambda f, cfg, langs: train_split(f.fetch / "translation.parquet")),
    "rationales": Input(
        lambda f, cfg, langs: read_table(f.rationales / f"{cfg.rationales}.parquet", RATIONALE)
    ),
    "instructions": Input(lambda f, cfg, langs: read_table(f.fetch / "instructions.parquet", SFT)),
    **{
        kind: Input(
            lambda f, cfg, langs, kind=kind: read_table(f.selfgen / f"{kind}.parquet", SELFGEN),
            SELFGEN_OFF.format(kind=kind),
        )
        for kind in ("translate", "rewrite")
    },
    "answers": Input(
        lambda f, cfg, langs: read_table(f.sdrrl / "selfanswer.parquet", SDRRL_ANSWERS), SDRRL_OFF
    ),
    "kept": Input(lambda f, cfg, langs: read_kept(f.sdrrl / "filter", langs), SDRRL_OFF),
    "switched": Input(
        lambda f, cfg, langs: read_table(f.sdrrl / "codeswitch.parquet", CODESWITCH), SDRRL_OFF
    ),
    "parallel": Input(lambda f, cfg, langs: train_split(f.fetch / "parallel.parquet")),
}


def covering(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """Table ``name``'s rows of the training ids, in its order.

    Raises:
        RadisError: If it lacks a training id (it is stale).
    """
    train, extra = tables["train"], tables[name]
    missing = set(train.id) - set(extra.id)
    if missing:
        raise RadisError(
            f"{name} table: no row for {len(missing)} training id(s), "
            f"e.g. {sorted(missing)[0]!r}; rerun the stage that makes it"
        )
    return extra[extra.id.isin(set(train.id))].reset_index(drop=True)


def sdrrl(cfg: SdrrlMethodConfig, tables: dict, seed: int, languages: list, source: str):
    """An SDRRL recipe's set (:func:`radis.sdrrl.recipes.build_sdrrl`) from its tables."""
    inputs = SdrrlInputs(**tables, languages=list(languages), source=source)
    return build_sdrrl(cfg, inputs, seed)


@dataclass(frozen=True)
class Recipe:
    """One recipe of ``build.<method>``.

    Attributes:
        params: The dataclass a ``build.<method>`` entry of this recipe parses into.
        inputs: The tables it reads (keys of :data:`INPUTS`), in reading order.
        make: (params, tables, seed, languages, source language) → the training set.
    """

    params: type
    inputs: tuple[str, ...]
    make: Callable[..., pd.DataFrame]


#: Every recipe of ``build.<method>``: RaDis's and its baselines', then SDRRL's and its
#: baselines' (:mod:`radis.sdrrl.recipes`).
RECIPES = {
    "vanilla": Recipe(MethodConfig, ("train",), lambda cfg, t, seed, *_: vanilla(t["train"], seed)),
    "radis": Recipe(
        MethodConfig,
        ("train", "rationales"),
        lambda cfg, t, seed, *_: radis(covering(t, "rationales"), cfg, seed),
    ),
    "multitask": Recipe(
        MethodConfig,
        ("train", "instructions"),
        lambda cfg, t, seed, *_: multitask(t["train"], t["instructions"], cfg, seed),
    ),
    "seqkd": Recipe(
        MethodConfig,
        ("train", "translate"),
        lambda cfg, t, seed, *_: seqkd(t["train"], covering(t, "translate"), seed),
    ),
    "sdft": Recipe(
        MethodConfig,
        ("train", "rewrite"),
        lambda cfg, t, seed, *_: sdft(t["train"], covering(t, "rewrite"), seed),
    ),
    "sdrrl": Recipe(SdrrlMethodConfig, ("answers", "kept", "switched", "parallel"), sdrrl),
    "sft": Recipe(SdrrlMethodConfig, ("answers",), sdrrl),
    "t-sft": Recipe(SdrrlMethodConfig, ("answers", "kept"), sdrrl),
    "cit": Recipe(SdrrlMethodConfig, ("answers", "kept"), sdrrl),
    "xcot": Recipe(SdrrlMethodConfig, ("answers", "kept", "switched"), sdrrl),
}


def recipe_config(entry: Any, where: str) -> MethodConfig | SdrrlMethodConfig:
    """Params ``build.<method>`` parsed into its recipe's class (no ``recipe``: ``vanilla``).

    Args:
        entry: The method's ``build`` entry as read from YAML.
        where: The entry's location for errors, e.g. ``"params.yaml: build.radis"``.

    Raises:
        RadisError: If the recipe is unknown or the entry does not parse.
    """
    recipe = entry.get("recipe", "vanilla") if isinstance(entry, dict) else "vanilla"
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise RadisError(f"{where}.recipe: {recipe!r} is not one of {list(RECIPES)}")
    return parse(RECIPES[recipe].params, entry, where)


@contextlib.contextmanager
def hint(why: str):
    """Add ``why`` to an empty-table error (nothing if ``why`` is empty)."""
    try:
        yield
    except RadisError as err:
        if why and str(err).endswith("table is empty"):
            raise RadisError(f"{err} ({why})") from None
        raise


def read_inputs(cfg, folders: Folders, languages: list) -> dict[str, pd.DataFrame]:
    """The tables recipe ``cfg.recipe`` reads (:data:`RECIPES`), by name.

    Args:
        cfg: The method's params (:func:`recipe_config`).
        folders: Where the tables are.
        languages: ``base.languages`` (SDRRL's filtered translations: one table a language).
    """
    tables = {}
    for name in RECIPES[cfg.recipe].inputs:
        with hint(INPUTS[name].hint):
            tables[name] = INPUTS[name].read(folders, cfg, languages)
    return tables


def build(cfg, tables: dict, seed: int, languages: Sequence[str] = (), source: str = "en"):
    """The training set of one method, in the ``train_set`` layout.

    Args:
        cfg: The method's build params (:func:`recipe_config`).
        tables: Its input tables by name (:func:`read_inputs`).
        seed: ``base.seed``: decides instructions, proportions and samples.
        languages: ``base.languages`` (SDRRL's recipes).
        source: ``selfanswer.source_language`` (SDRRL's recipes).
    """
    recipe = RECIPES[cfg.recipe]
    return recipe.make(cfg, tables, seed, languages, source).reset_index(drop=True)


def training_set(
    entry: Any, where: str, folders: Folders, seed: int, languages: list, source: str
) -> pd.DataFrame:
    """The training set of one method from its ``build`` entry and the folders of its inputs.

    Args:
        entry: Params ``build.<method>`` as read from YAML.
        where: The entry's location for errors, e.g. ``"params.yaml: build.radis"``.
        folders: Where the input tables are.
        seed: ``base.seed``.
        languages: ``base.languages``.
        source: ``selfanswer.source_language``.
    """
    cfg = recipe_config(entry, where)
    return build(cfg, read_inputs(cfg, folders, languages), seed, languages, source)
