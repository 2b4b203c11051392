"""The token sets whose losses the gradient-similarity analysis differentiates.

Every set is a table of chats in the ``train_set`` layout plus ``skip``: the characters at the
start of the completion kept out of the loss. A row with ``skip = 0`` is learned exactly as the
``train`` stage learns it (:func:`radis.train.loop.tokenize_chat`: the completion and the
end-of-turn tokens, a ``masked_suffix`` read but not learned); ``skip > 0`` leaves the tokens
that start in the first ``skip`` characters out too. So a RaDis row ŷ = CONCAT(y, r) splits into
its MT part (``completion`` y, ``masked_suffix`` r: the reference's tokens) and its
regularisation part (``skip`` = len(y): the rationale's tokens and the end-of-turn), and the two
together are the row as trained, token for token.

The sets (paper §5.2 and the general-ability pair):

- ``mt`` and ``reg``: a seeded validation sample of the method's translation rows, the same
  ``rows_per_direction`` in every direction, with the MT loss −log P(y | x, I) and the method's
  regularisation term (:data:`REGULARISERS`): RaDis −log P(r | y, x, I), Seq-KD −log P(y′ | x, I)
  on the backbone's own translation rows of the same sources, Multi-task the open instruction
  rows. Recipes without one (Vanilla-FT, the masked control, SDFT, the SDRRL family) have none.
- ``general``: the backbone's own answers to general prompts, as it generated them (a reply cut
  at ``max_new_tokens`` without its end-of-turn tokens).
- ``train``: a seeded sample of the method's training set, learned as trained (loss groups
  included).
"""

import random
import sys

import pandas as pd

from radis.core.io import RadisError
from radis.core.templates import generation_prompt
from radis.train.loop import IGNORE, Example, tokenize_chat

#: The id suffix of a Seq-KD row (x, y′) beside its row (x, y): :func:`radis.data.build.seqkd`.
KD_SUFFIX = "#kd"
#: The columns of a set: ``train_set``'s, ``skip``, the loss group's number and ``stop``
#: (false: the reply was cut at ``max_new_tokens``, its end-of-turn tokens are not learned).
COLUMNS = ["id", "prompt", "completion", "masked_suffix", "skip", "group", "stop"]


def frame(rows: pd.DataFrame, **columns) -> pd.DataFrame:
    """``rows`` (``train_set`` columns) as a set: ``skip`` 0, group 0, ``stop`` unless given."""
    out = rows.assign(**({"skip": 0, "group": 0, "stop": True} | columns))
    return out[COLUMNS].reset_index(drop=True)


def directions(rows: pd.DataFrame, translation: pd.DataFrame) -> pd.Series:
    """Each row's translation direction ``src-tgt`` (``""``: not a translation pair)."""
    pairs = translation[translation.split == "train"]
    by_id = dict(zip(pairs.id, pairs.src_lang + "-" + pairs.tgt_lang))
    return rows.id.map(by_id).fillna("")


def per_direction(rows: pd.DataFrame, dirs: pd.Series, n: int, seed: int) -> pd.DataFrame:
    """The first ``n`` rows of each direction in a seeded order of their ids.

    The order depends on the seed and the ids alone, so methods whose eligible rows overlap
    share their samples (the paper compares RaDis and Seq-KD on one validation set).
    """
    picked = []
    for direction in sorted(set(dirs) - {""}):
        ids = sorted(rows.id[dirs == direction])
        random.Random(f"gradcos:{seed}:{direction}").shuffle(ids)
        picked += ids[:n]
    return rows.set_index("id").loc[picked].reset_index()


def sample(rows: pd.DataFrame, n: int, seed: int, what: str) -> pd.DataFrame:
    """A seeded sample of ``n`` rows (0, or more than there are: all), in the rows' order."""
    if n == 0 or n >= len(rows):
        return rows.reset_index(drop=True)
    keep = sorted(random.Random(f"gradcos:{seed}:{what}").sample(range(len(rows)), n))
    return rows.iloc[keep].reset_index(drop=True)


def rationale_split(rows, translation, n, seed, where):
    """RaDis: each sampled row's reference tokens (MT) and rationale tokens (regulariser).

    Rows with a rationale are eligible (a proportion below 1 leaves some with the reference
    alone); the reference is the translation table's, which every row's completion starts with.
    """
    dirs = directions(rows, translation)
    pairs = rows[dirs != ""].assign(
        reference=rows.id.map(dict(zip(translation.id, translation.reference)))
    )
    bad = [i for i, c, r in zip(pairs.id, pairs.completion, pairs.reference) if not c.startswith(r)]
    if bad:
        raise RadisError(
            f"{where}: row {bad[0]!r}: its completion does not start with the reference of "
            "data/fetch/translation.parquet (rebuild it: dvc repro build)"
        )
    enriched = pairs[pairs.completion.str.len() > pairs.reference.str.len()]
    chosen = per_direction(enriched, dirs[enriched.index], n, seed)
    rest = [
        c[len(r) :] + m
        for c, r, m in zip(chosen.completion, chosen.reference, chosen.masked_suffix)
    ]
    mt = frame(chosen, completion=chosen.reference, masked_suffix=rest)
    reg = frame(chosen, skip=chosen.reference.str.len())
    return mt, reg


def selfgen_split(rows, translation, n, seed, where):
    """Seq-KD: sampled (x, y) rows (MT) and the (x, y′) rows of the same sources (regulariser)."""
    kd = rows[rows.id.str.endswith(KD_SUFFIX)]
    base = rows[rows.id.isin(set(kd.id.str.removesuffix(KD_SUFFIX)))]
    chosen = per_direction(base, directions(base, translation), n, seed)
    own = kd.set_index("id").loc[chosen.id + KD_SUFFIX].reset_index()
    return frame(chosen), frame(own)


def replay_split(rows, translation, n, seed, where):
    """Multi-task: sampled translation rows (MT) and as many open instruction rows (replay)."""
    dirs = directions(rows, translation)
    chosen = per_direction(rows[dirs != ""], dirs[dirs != ""], n, seed)
    extra = sample(rows[dirs == ""], len(chosen), seed, "replay")
    return frame(chosen), frame(extra)


#: The regularisation term of each recipe that has one: (params, rows, translation table,
#: rows per direction, seed, file for errors) → the MT set and the regulariser's set.
REGULARISERS = {"radis": rationale_split, "seqkd": selfgen_split, "multitask": replay_split}


def has_regulariser(recipe) -> bool:
    """Whether a method's params (``build.<method>``) add a term to its MT loss."""
    return recipe.recipe in REGULARISERS and getattr(recipe, "rationale_loss", True)


def mt_and_reg(rows, recipe, translation, n: int, seed: int, where: str):
    """The ``mt`` and ``reg`` sets of a method, or None when it has no regularisation term.

    A training set where no row has one (every rationale empty, no y′ or instruction row) also
    gives None, with a warning on stderr naming ``where`` (its file): the pair is left out, as
    FR is when it is undefined.
    """
    if not has_regulariser(recipe):
        return None
    mt, reg = REGULARISERS[recipe.recipe](rows, translation, n, seed, where)
    if mt.empty or reg.empty:
        print(
            f"warning: {where}: no translation row with a {recipe.recipe} regularisation target "
            "(a rationale, a y' row or an instruction row); mt_vs_reg left out",
            file=sys.stderr,
        )
        return None
    return mt, reg


def train_sample(rows: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A seeded sample of a training set, each row in its loss group (numbered over all rows)."""
    groups = pd.factorize(rows.group, sort=True)[0]
    return sample(frame(rows, group=groups), n, seed, "train")


def own_answers(predictions: pd.DataFrame) -> pd.DataFrame:
    """The backbone's answers to the general items of its evaluation, as chats.

    An answer cut at ``max_new_tokens`` is learned without the end-of-turn tokens, which the
    backbone did not write.
    """
    rows = predictions[predictions.task != "translation"]
    chats = pd.DataFrame({"id": rows.id, "prompt": rows.prompt, "completion": rows.output})
    return frame(chats.assign(masked_suffix=""), stop=rows.finish_reason.values != "length")


def answered(prompts: pd.DataFrame, completions: list) -> pd.DataFrame:
    """Generated answers (:class:`~radis.generate.backend.Completion`) as a set."""
    chats = pd.DataFrame(
        {"id": prompts.id, "prompt": prompts.prompt, "completion": [c.text for c in completions]}
    )
    stop = [c.finish_reason != "length" for c in completions]
    return frame(chats.assign(masked_suffix=""), stop=stop)


def reply_end(tokenizer, prompt: str, reply: str) -> int:
    """The position after a single-turn chat's last reply token (the template's end follows).

    The chat is tokenized as :func:`radis.train.loop.tokenize_chat` does: the rendered prompt,
    then the rest of the rendered conversation.
    """
    prompt_text = generation_prompt(tokenizer, prompt)
    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply}]
    rest = tokenizer.apply_chat_template(messages, tokenize=False)[len(prompt_text) :]
    n_prompt = len(tokenizer(prompt_text, add_special_tokens=False)["input_ids"])
    spans = tokenizer(rest, add_special_tokens=False, return_offsets_mapping=True)
    return n_prompt + sum(start < len(reply) for start, _ in spans["offset_mapping"])


def tokenize(tokenizer, rows: pd.DataFrame, max_length: int) -> list[Example]:
    """The examples of a set: each row as trained, its first ``skip`` characters unlearned.

    A row without ``stop`` (a reply cut at ``max_new_tokens``) leaves its end-of-turn tokens
    unlearned too.
    """
    out = []
    for r in rows.itertuples(index=False):
        full = tokenize_chat(tokenizer, r.prompt, r.completion, max_length, r.masked_suffix)
        if not r.stop:
            end = reply_end(tokenizer, r.prompt, r.completion + r.masked_suffix)
            full = Example(full.input_ids, full.labels[:end] + [IGNORE] * len(full.labels[end:]))
        if r.skip:
            head, tail = r.completion[: r.skip], r.completion[r.skip :] + r.masked_suffix
            part = tokenize_chat(tokenizer, r.prompt, head, max_length, tail)
            if part.input_ids != full.input_ids:
                raise RadisError(f"row {r.id!r}: the split reply tokenizes differently")
            labels = [t if h == IGNORE else IGNORE for t, h in zip(full.labels, part.labels)]
            full = Example(full.input_ids, labels)
        out.append(Example(full.input_ids, full.labels, int(r.group)))
    return out
