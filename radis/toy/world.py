"""Synthetic parallel corpora, general-ability tasks and chat data for the toy world.

The source language is English-like. Each target language has its own seeded lexicon and its own
grammar (word order, plural marking, adpositions), so translation is learnable but not a word
substitution. Every general-ability item is checkable by a rule (:mod:`radis.evaluate.general`).
"""

import random
from dataclasses import dataclass, field

from radis.core.config import positive, probability
from radis.core.io import RadisError
from radis.core.templates import LANGUAGES, TEMPLATES, instruction
from radis.toy import lexicon as lx
from radis.toy.foreign import foreign_chats, shares
from radis.toy.lexicon import SYLLABLES, make_lexicon

#: Between a translation and its explanation. The space keeps the sentence's final "." its own
#: token: Qwen2's pre-tokenizer glues punctuation to the line breaks after it (".\n\n"), and a
#: rationale prompt that ends with the reference must end where the backbone's tokens ended.
EXPLANATION_BREAK = " \n\n"


@dataclass
class WorldConfig:
    """Sizes of the toy world (params ``toy.world``).

    Attributes:
        languages: Target languages paired with ``en`` (codes in ``SYLLABLES``).
        train_pairs: Parallel pairs per language for fine-tuning (each gives two directions).
        valid_pairs: Held-out pairs per language for validation.
        test_pairs: Test pairs per language.
        backbone_pairs: Pairs per language the backbone sees as chat translation requests.
        backbone_items: Items per general task in the backbone's chat data (``safety`` counts
            harmful requests; as many benign ones are added).
        foreign_items: Share of each general task's backbone items (benign requests included)
            also asked in each toy language, in the backbone's chats (:mod:`radis.toy.foreign`):
            a weak skill in a low-resource language, as a real chat model has; 0 = none. One
            share, or one per task (``{math: ..., instruct: ..., safety: ...}``).
        eval_items: Items per general task in the evaluation sets.
        max_operand: Largest number in the arithmetic word problems and in the sentences.
        rare_nouns: Share of the nouns kept out of the fine-tuning (train and valid) sentences:
            they appear only in the backbone's own translation chats and in the test, so the
            test holds words the fine-tuning data does not teach.
        new_nouns: Share of the nouns (none of them rare) kept out of the backbone's own
            translation chats and word lookups: fine-tuning and the test hold words the
            backbone has not learned to translate, which fine-tuning teaches.
        explanation: What the backbone's explanation of a translation states, in order (a
            subset of ``EXPLANATION_PARTS``): each part exercises one general skill.
        dictionary_chats: Word lookups per language in the backbone's chats ("What does the
            Aurish word 'rimi' mean?"), both directions: its knowledge of the lexicon.

    The seed of every random choice is ``base.seed``, an argument of :func:`build_world`.
    """

    languages: list = field(default_factory=lambda: ["qa", "qb"])
    train_pairs: int = 400
    valid_pairs: int = 30
    test_pairs: int = 50
    backbone_pairs: int = 300
    backbone_items: dict = field(
        default_factory=lambda: {"math": 1500, "instruct": 1500, "safety": 1500}
    )
    foreign_items: float | dict = 0.0
    eval_items: int = 60
    max_operand: int = 9
    rare_nouns: float = 0.0
    new_nouns: float = 0.0
    explanation: list = field(default_factory=lambda: ["gloss", "last", "count", "sum"])
    dictionary_chats: int = 0

    def __post_init__(self):
        if self.dictionary_chats < 0:
            raise ValueError(f"dictionary_chats: must be >= 0, got {self.dictionary_chats}")
        positive(
            train_pairs=self.train_pairs,
            test_pairs=self.test_pairs,
            eval_items=self.eval_items,
            max_operand=self.max_operand,
        )
        probability(rare_nouns=self.rare_nouns, new_nouns=self.new_nouns)
        if self.rare_nouns + self.new_nouns > 1:
            raise ValueError("rare_nouns + new_nouns: the two shares must not exceed 1")
        shares(self.foreign_items, GENERAL_TASKS)
        if not self.explanation or set(self.explanation) - set(EXPLANATION_PARTS):
            raise ValueError(f"explanation: a non-empty list of {list(EXPLANATION_PARTS)}")
        if set(self.backbone_items) != set(GENERAL_TASKS):
            raise ValueError(f"backbone_items: give a count for each of {list(GENERAL_TASKS)}")
        for lang in self.languages:
            if lang not in SYLLABLES:
                raise ValueError(
                    f"languages: unknown toy language {lang!r}; known {list(SYLLABLES)}"
                )


@dataclass
class NP:
    """A noun phrase: noun, optional adjective, optional number (plural when set)."""

    noun: str
    adj: str | None
    num: int | None


@dataclass
class Clause:
    """Subject, verb, object and an optional 'near' phrase."""

    subj: NP
    verb: tuple
    obj: NP
    near: NP | None


def new_nouns(share: float, rare: set[str], seed: int) -> set[str]:
    """The seeded ``share`` of all nouns, none in ``rare``, the backbone never translates."""
    nouns = [n for n in lx.NOUNS if n not in rare]
    random.Random(f"new:{seed}").shuffle(nouns)
    return set(nouns[: round(share * len(lx.NOUNS))])


def rare_nouns(share: float, seed: int) -> set[str]:
    """The seeded ``share`` of the nouns that the fine-tuning sentences never use."""
    nouns = list(lx.NOUNS)
    random.Random(f"rare:{seed}").shuffle(nouns)
    return set(nouns[: round(share * len(nouns))])


def sample_clause(rng: random.Random, nouns: list[str], max_operand: int) -> Clause:
    """Draw a random clause from the toy grammar, its nouns from ``nouns``."""

    def np() -> NP:
        adj = rng.choice(lx.ADJECTIVES) if rng.random() < 0.5 else None
        num = rng.randint(2, max_operand) if rng.random() < 0.3 else None
        return NP(rng.choice(nouns), adj, num)

    near = np() if rng.random() < 0.3 else None
    return Clause(np(), rng.choice(lx.VERBS), np(), near)


def render_en(c: Clause) -> str:
    """The English sentence for clause ``c``."""

    def np(p: NP) -> str:
        words = (
            [str(p.num) if p.num else "the"]
            + ([p.adj] if p.adj else [])
            + [p.noun + ("s" if p.num else "")]
        )
        return " ".join(words)

    verb = c.verb[0] if c.subj.num else c.verb[1]
    near = f" near {np(c.near)}" if c.near else ""
    return f"{np(c.subj)} {verb} {np(c.obj)}{near}."


def render_target(c: Clause, lang: str, lex: dict[str, str]) -> str:
    """Clause ``c`` in toy language ``lang``.

    qa is SOV, noun-adjective, with a plural suffix and a postposition; qb is VSO, with an
    article, adjective-noun and a plural prefix.
    """
    if lang == "qa":

        def np(p: NP) -> str:
            noun = lex[p.noun] + ("en" if p.num else "")
            return " ".join(
                [noun] + ([lex[p.adj]] if p.adj else []) + ([str(p.num)] if p.num else [])
            )

        near = f" {np(c.near)} ta" if c.near else ""
        return f"{np(c.subj)} {np(c.obj)}{near} {lex[c.verb[0]]}."

    def np(p: NP) -> str:
        noun = ("mi" + lex[p.noun]) if p.num else lex[p.noun]
        return " ".join(
            ["lo"] + ([str(p.num)] if p.num else []) + ([lex[p.adj]] if p.adj else []) + [noun]
        )

    near = f" ke {np(c.near)}" if c.near else ""
    return f"{lex[c.verb[0]]} {np(c.subj)} {np(c.obj)}{near}."


def content_words(c: Clause) -> list[str]:
    """Nouns, adjectives and the verb of ``c``, in English order, without repeats."""
    words = []
    for p in [c.subj, c.obj] + ([c.near] if c.near else []):
        words += ([p.adj] if p.adj else []) + [p.noun]
        if p is c.subj:
            words.append(c.verb[0])
    return list(dict.fromkeys(words))


def reference_order(c: Clause, lang: str) -> list[str]:
    """Content words of ``c`` (English base forms) in the order ``lang`` says them."""
    if lang == "en":
        return content_words(c)
    nps = [c.subj, c.obj] + ([c.near] if c.near else [])
    if lang == "qa":  # noun before adjective, verb last
        words = [w for p in nps for w in [p.noun] + ([p.adj] if p.adj else [])] + [c.verb[0]]
    else:  # verb first, adjective before noun
        words = [c.verb[0]] + [w for p in nps for w in ([p.adj] if p.adj else []) + [p.noun]]
    return list(dict.fromkeys(words))


#: The parts an explanation may hold, each drawing on a general skill of the backbone.
EXPLANATION_PARTS = ("gloss", "align", "last", "reverse", "count", "sum")


def explanation(
    c: Clause, src: str, tgt: str, source: str, lex: dict[str, str], parts: list[str]
) -> str:
    """The rationale the toy backbone learns to write after a translation.

    It draws on the backbone's general skills, the ones its general tasks test, as ``parts``
    say: a word gloss of the source's first three content words (``gloss``), or of the
    translation's, in its own word order and each with its meaning in the source (``align``:
    it explains the translation in front of it, read back), the source's last word
    (``last``), its first three words in reverse order (``reverse``), its word count
    (``count``) and, when the sentence holds two numbers, their sum (``sum``).
    """
    words = source.rstrip(".").split()
    pairs = [(w, lex[w]) if src == "en" else (lex[w], w) for w in content_words(c)[:3]]
    aligned = [(lex[w], w) if src == "en" else (w, lex[w]) for w in reference_order(c, tgt)[:3]]
    nums = [p.num for p in (c.subj, c.obj, c.near) if p and p.num]
    text = {
        "gloss": ", ".join(f"'{a}' means '{b}'" for a, b in pairs) + ".",
        "align": ", ".join(f"'{a}' means '{b}'" for a, b in aligned) + ".",
        "last": f"The last word is '{words[-1]}'.",
        "reverse": f"The first words in reverse order: {' '.join(reversed(words[:3]))}.",
        "count": f"It has {len(words)} words.",
        "sum": f"There are {nums[0]} + {nums[1]} = {nums[0] + nums[1]} things in all."
        if len(nums) >= 2
        else "",
    }
    return "Explanation: " + " ".join(text[p] for p in parts if text[p])


def _math(rng: random.Random, cfg: WorldConfig) -> dict:
    name, thing = rng.choice(lx.NAMES), rng.choice(lx.THINGS)
    a, b = rng.randint(1, cfg.max_operand), rng.randint(1, cfg.max_operand)
    if rng.random() < 0.5:
        prompt = (
            f"{name} has {a} {thing} and finds {b} more. How many {thing} does {name} have now?"
        )
        steps, c, sub = f"{a} + {b} = {a + b}", a + b, "add"
    else:
        a = a + b
        prompt = (
            f"{name} has {a} {thing} and gives away {b}. How many {thing} does {name} have left?"
        )
        steps, c, sub = f"{a} - {b} = {a - b}", a - b, "sub"
    reply = f"{name} has {steps} {thing}. The answer is {c}."
    return dict(
        task="math", subtask=sub, prompt=prompt, answer=str(c), checker="number", reply=reply
    )


def _instruct(rng: random.Random, cfg: WorldConfig) -> dict:
    kind = rng.choice(["repeat", "reverse", "last"])
    words = rng.sample(lx.NOUNS + lx.ADJECTIVES, 4)
    if kind == "repeat":
        n = rng.randint(2, 4)
        prompt, answer = f"Repeat the word '{words[0]}' {n} times.", " ".join([words[0]] * n)
    elif kind == "reverse":
        prompt = f"Write these words in reverse order: {' '.join(words[:3])}"
        answer = " ".join(reversed(words[:3]))
    else:
        prompt, answer = f"What is the last word of this list: {' '.join(words)}?", words[-1]
    return dict(
        task="instruct", subtask=kind, prompt=prompt, answer=answer, checker="exact", reply=answer
    )


def _safety(rng: random.Random, cfg: WorldConfig) -> dict:
    """A harmful request (to refuse) or, in the backbone's training data only, a benign one."""
    ask, target = rng.choice(lx.ASK), rng.choice(lx.TARGETS)
    return dict(
        task="safety",
        subtask="harmful",
        prompt=ask.format(f"{rng.choice(lx.HARM_VERBS)} {target}"),
        answer="refuse",
        checker="refusal",
        reply=lx.REFUSAL,
    )


def _benign(rng: random.Random, cfg: WorldConfig) -> dict:
    ask, act = rng.choice(lx.ASK), f"{rng.choice(lx.BENIGN_VERBS)} {rng.choice(lx.TARGETS)}"
    reply = f"Sure. To {act}, take your time, start with the first step and ask a friend to help."
    return dict(
        task="safety",
        subtask="benign",
        prompt=ask.format(act),
        answer="comply",
        checker="compliance",
        reply=reply,
    )


GENERAL_TASKS = {"math": _math, "instruct": _instruct, "safety": _safety}


def _unique(make, rng: random.Random, cfg: WorldConfig, n: int, exclude: set[str]) -> list[dict]:
    """``n`` items from ``make`` whose prompts are distinct and not in ``exclude`` (updated)."""
    items = []
    for _ in range(n * 100):
        it = make(rng, cfg)
        if it["prompt"] not in exclude:
            exclude.add(it["prompt"])
            items.append(it)
            if len(items) == n:
                return items
    raise RadisError(
        f"params.yaml: toy.world.eval_items: cannot draw {n} distinct items for task "
        f"{make.__name__[1:]}"
    )


def general_items(cfg: WorldConfig, seed: int) -> tuple[list[dict], list[dict]]:
    """Backbone training items and evaluation items for every general task.

    Evaluation items are drawn first and are distinct; no training item repeats an evaluation
    prompt, so the evaluation measures the skill, not recall.
    """
    rng = random.Random(f"general:{seed}")
    train, evals = [], []
    for task, make in GENERAL_TASKS.items():
        held_out: set[str] = set()
        fresh = _unique(make, rng, cfg, cfg.eval_items, held_out)
        evals += [dict(it, id=f"{task}-{i:04d}") for i, it in enumerate(fresh)]
        n = cfg.backbone_items[task]
        items = [make(rng, cfg) for _ in range(n)]
        if task == "safety":  # the backbone also answers benign requests: it is no blanket refuser
            items += [_benign(rng, cfg) for _ in range(n)]
        train += [it for it in items if it["prompt"] not in held_out]
    return train, evals


def parallel_data(cfg: WorldConfig, seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Parallel rows (both directions, all splits), chats and training rows' explanations.

    The chats are the backbone's translation requests; the explanations are the rule-written
    rationale of every training row (the non-self rationale control).
    """
    rows, chats, glosses = [], [], []
    sizes = {
        "backbone": cfg.backbone_pairs,
        "train": cfg.train_pairs,
        "valid": cfg.valid_pairs,
        "test": cfg.test_pairs,
    }
    rare = rare_nouns(cfg.rare_nouns, seed)
    common = [n for n in lx.NOUNS if n not in rare]
    known = [n for n in lx.NOUNS if n not in new_nouns(cfg.new_nouns, rare, seed)]
    for lang in cfg.languages:
        lex = make_lexicon(lang, seed)
        rng = random.Random(f"parallel:{lang}:{seed}")
        seen: set[str] = set()
        for split, n in sizes.items():
            nouns = {"train": common, "valid": common, "backbone": known}.get(split, lx.NOUNS)
            for i in range(n):
                while (
                    en := render_en(clause := sample_clause(rng, nouns, cfg.max_operand))
                ) in seen:
                    pass
                seen.add(en)
                tgt = render_target(clause, lang, lex)
                for src_lang, tgt_lang, src, ref in (("en", lang, en, tgt), (lang, "en", tgt, en)):
                    sid = f"{split}-{src_lang}-{tgt_lang}-{i:05d}"
                    why = explanation(clause, src_lang, tgt_lang, src, lex, cfg.explanation)
                    if split == "train":
                        glosses.append(dict(id=sid, rationale=EXPLANATION_BREAK + why))
                    if split != "backbone":
                        rows.append(
                            dict(
                                id=sid,
                                split=split,
                                src_lang=src_lang,
                                tgt_lang=tgt_lang,
                                source=src,
                                reference=ref,
                            )
                        )
                        continue
                    user = instruction(rng.randint(1, len(TEMPLATES)), src_lang, tgt_lang, src)
                    chats.append(
                        dict(id=sid, prompt=user, completion=ref + EXPLANATION_BREAK + why)
                    )
    return rows, chats, glosses


def dictionary_chats(cfg: WorldConfig, seed: int) -> list[dict]:
    """Word lookups in the backbone's chats: ``cfg.dictionary_chats`` per toy language.

    Each asks for one content word's meaning, from English or into it, and is answered in the
    form of the explanations' glosses ("'rimi' means 'river'.").
    """
    chats = []
    new = new_nouns(cfg.new_nouns, rare_nouns(cfg.rare_nouns, seed), seed)
    words = [n for n in lx.NOUNS if n not in new] + lx.ADJECTIVES + [v for v, _ in lx.VERBS]
    for lang in cfg.languages:
        lex, name = make_lexicon(lang, seed), LANGUAGES[lang]
        rng = random.Random(f"dictionary:{lang}:{seed}")
        for i in range(cfg.dictionary_chats):
            w = rng.choice(words)
            if rng.random() < 0.5:
                prompt, a, b = f"What does the {name} word '{lex[w]}' mean?", lex[w], w
            else:
                prompt, a, b = f"How do you say '{w}' in {name}?", w, lex[w]
            chats.append(
                dict(id=f"dict-{lang}-{i:05d}", prompt=prompt, completion=f"'{a}' means '{b}'.")
            )
    return chats


def build_world(cfg: WorldConfig, seed: int) -> dict[str, list[dict]]:
    """Every table of the toy world, every random choice seeded with ``seed`` (``base.seed``).

    Returns:
        ``parallel`` (translation rows), ``general`` (evaluation items), ``instructions`` (the
        general chat data the backbone is tuned on; open instruction data for later methods) and
        ``chat`` (all the backbone's training conversations, translation requests and general
        items asked in the toy languages, ``foreign_items``, included) and
        ``glosses`` (the rule-written explanation of each training row, as the backbone was
        taught to write them: rationales not generated by the backbone).
    """
    parallel, translation_chats, glosses = parallel_data(cfg, seed)
    train, evals = general_items(cfg, seed)
    instructions = [
        dict(id=f"inst-{i:05d}", prompt=it["prompt"], completion=it["reply"])
        for i, it in enumerate(train)
    ]
    general = [
        {k: it[k] for k in ("id", "task", "subtask", "prompt", "answer", "checker")} for it in evals
    ]
    chat = instructions + translation_chats + dictionary_chats(cfg, seed)
    chat += foreign_chats(train, evals, cfg.languages, cfg.foreign_items, seed)
    random.Random(f"chat:{seed}").shuffle(chat)
    return dict(
        parallel=parallel, general=general, instructions=instructions, chat=chat, glosses=glosses
    )
