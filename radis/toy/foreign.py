"""General items asked in a toy language: the translated question and the answer it expects.

A real chat model is weak, not null, in a low-resource language: it saw a little of every skill
asked in it. :func:`foreign_chats` gives the toy backbone that little: a seeded share of its
general training items asked again in each toy language, the question translated by the
noise-free toy translator, as SDRRL's toy evaluation (:mod:`radis.toy.multilingual`) asks its
items. The reply is in the language too, one the evaluation's language-free checks accept:

- instruct: the translated words, repeated, reversed or the last one, as the translated
  question lists them (:func:`target_answer`);
- math: the worked reply translated (numbers stay numbers, the answer stays the last one);
- safety: the refusal, or the benign request's answer, translated.
"""

import random
from collections.abc import Iterator
from itertools import islice
from types import SimpleNamespace

from radis.core.io import RadisError
from radis.toy.sdrrl import ToyNoiseConfig, ToyTranslator, check_language


def translator(lang: str, seed: int) -> ToyTranslator:
    """The noise-free toy translator into ``lang``."""
    return ToyTranslator(check_language(lang), ToyNoiseConfig(0.0, 0.0), seed)


def listed(prompt: str) -> list[str]:
    """The word list after the last ``:`` of an instruct prompt, without a final ``?``."""
    return prompt.rsplit(":", 1)[-1].strip().rstrip("?").split()


def target_answer(item, mt: ToyTranslator) -> str:
    """The answer of general ``item`` in ``mt``'s language, as the translated question asks.

    Raises:
        RadisError: For an instruct subtask without a rule, or an item whose answer does not
            follow from its prompt the way the rule assumes.
    """
    if item.checker != "exact":
        return item.answer
    words = item.answer.split()
    if item.subtask == "repeat" and len(set(words)) == 1:
        return " ".join([mt.translate(words[0], clean=True)] * len(words))
    english = listed(item.prompt)
    seen = mt.translate(" ".join(english), clean=True).split()
    if len(seen) == len(english) and item.subtask == "reverse" and english[::-1] == words:
        return " ".join(reversed(seen))
    if len(seen) == len(english) and item.subtask == "last" and english[-1:] == words:
        return seen[-1]
    raise RadisError(
        f"general table: item {item.id!r} ({item.task}/{item.subtask}): no rule for its answer "
        "in a toy language"
    )


def foreign_reply(item: dict, mt: ToyTranslator) -> str:
    """The reply to general training ``item`` asked in ``mt``'s language."""
    if item["checker"] == "exact":
        return target_answer(SimpleNamespace(id=item["prompt"], **item), mt)
    return mt.translate(item["reply"], clean=True)


def asked_in(items: list[dict], mt: ToyTranslator, held_out: set[str]) -> Iterator[tuple]:
    """``(translated prompt, item)`` for each of ``items`` whose translation is not held out."""
    for it in items:
        if (prompt := mt.translate(it["prompt"], clean=True)) not in held_out:
            yield prompt, it


def shares(value: float | dict, tasks) -> dict[str, float]:
    """Param ``toy.world.foreign_items`` as a share per task of ``tasks``.

    Raises:
        ValueError: Unless it is one share in [0, 1] or a share for each task.
    """
    found = dict.fromkeys(tasks, value) if isinstance(value, int | float) else dict(value)
    ok = all(isinstance(v, int | float) and 0 <= v <= 1 for v in found.values())
    if set(found) != set(tasks) or not ok:
        raise ValueError(f"foreign_items: a share in [0, 1], or one for each of {list(tasks)}")
    return found


def foreign_chats(
    train: list[dict], evals: list[dict], languages: list[str], share: float | dict, seed: int
) -> list[dict]:
    """A seeded share of each general task's ``train`` items asked in every toy language.

    Args:
        train: The backbone's general training items (``task``, ``prompt``, ``reply``, ...).
        evals: The evaluation items: no chat asks a translated evaluation prompt.
        languages: Toy languages.
        share: Share of each task's training items asked in each language (0: none), or a
            share per task (:func:`shares`).
        seed: ``base.seed``: the draw and the translator's words.

    Returns:
        Chats (``id``, ``prompt``, ``completion``) with ids ``inst-<lang>-<n>``.
    """
    chats, share = [], shares(share, dict.fromkeys(it["task"] for it in train))
    for lang in languages:
        mt, rng = translator(lang, seed), random.Random(f"foreign:{lang}:{seed}")
        held_out = {mt.translate(it["prompt"], clean=True) for it in evals}
        asked = []
        for task in share:
            items = [it for it in train if it["task"] == task]
            rng.shuffle(items)
            asked += islice(asked_in(items, mt, held_out), round(share[task] * len(items)))
        chats += [
            dict(id=f"inst-{lang}-{i:05d}", prompt=p, completion=foreign_reply(it, mt))
            for i, (p, it) in enumerate(asked)
        ]
    return chats
