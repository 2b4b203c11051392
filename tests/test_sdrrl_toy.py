"""The toy world's SDRRL stand-ins: dictionary, translator, quality score, language identifier."""

import random

import pytest

from radis.core.io import RadisError
from radis.generate.backend import GenerationConfig
from radis.sdrrl.codeswitch import load_muse_dictionary
from radis.toy import lexicon as lx
from radis.toy.sdrrl import (
    ToyNoiseConfig,
    ToyTranslator,
    dictionary,
    identify,
    muse_text,
    quality,
    toy_languages,
)
from radis.toy.world import make_lexicon

CLEAN = ToyNoiseConfig(word_noise=0.0, english_rate=0.0)


def clean(lang, text, seed=0):
    return ToyTranslator(lang, CLEAN, seed).translate(text)


def test_gloss_follows_the_toy_morphology():
    qa, qb = make_lexicon("qa", 0), make_lexicon("qb", 0)
    text = "the big dog sees 3 cats near the river."
    assert clean("qa", text) == (
        f"{qa['dog']} {qa['big']} {qa['see']} 3 {qa['cat']}en ta {qa['river']}."
    )
    assert clean("qb", text) == (
        f"lo {qb['big']} {qb['dog']} {qb['see']} 3 mi{qb['cat']} ke lo {qb['river']}."
    )
    out = clean("qb", "Tom has 3 eggs.\nHe helps Ana!").split("\n")
    assert out[0].startswith("Tom ") and " 3 " in out[0] and out[0].endswith(f"mi{qb['egg']}.")
    assert out[1].startswith(out[1][0].upper()) and out[1].endswith(f"{qb['help']} Ana!")
    other = clean("qb", "He has 3 eggs.")
    assert other.split()[1] == out[0].split()[1]  # the same pseudo-word for "has" every time
    assert clean("qb", "He has 3 eggs.", seed=1) != other


def test_dictionary_is_muse_and_agrees_with_the_translator(tmp_path):
    for lang in ("qa", "qb"):
        path = tmp_path / f"en-{lang}.txt"
        path.write_text(muse_text(dictionary(lang, 0)))
        loaded = load_muse_dictionary(path)
        forms = set(lx.NOUNS) | {n + "s" for n in lx.NOUNS} | set(lx.ADJECTIVES)
        forms |= {f for pair in lx.VERBS for f in pair} | {"near"}
        assert forms <= set(loaded)
        assert ("the" in loaded) == (lang == "qb")  # qa has no article
        for english, targets in loaded.items():
            assert targets == [clean(lang, english)]
    with pytest.raises(RadisError, match="'xx' is not a toy language"):
        dictionary("xx", 0)
    assert toy_languages(["cs", "qb", "de", "qa"]) == ["qb", "qa"]


def test_translator_is_a_backend_and_independent_of_order():
    texts = [f"the {n} sees the {a} cat." for n in lx.NOUNS[:10] for a in lx.ADJECTIVES[:3]]
    translator = ToyTranslator("qa", ToyNoiseConfig(0.3, 0.2), seed=0)
    outs = translator.generate(texts, GenerationConfig())
    backwards = translator.generate(texts[::-1], GenerationConfig())
    assert [o.text for o in outs] == [o.text for o in backwards][::-1]
    assert {o.finish_reason for o in outs} == {"stop"}
    assert [o.text for o in outs] != [clean("qa", t) for t in texts]


def test_noise_rates_match_their_params():
    """2,000 texts of 10 distinct nouns in qb (no reordering, no dropped word).

    A copied word is the only English word in the output, a dropped one the only missing word:
    each happens to a word with probability word_noise / 3 (sd 0.007 over 20,000 words).
    """
    rng = random.Random(0)
    texts = [" ".join(rng.sample(lx.NOUNS, 10)) for _ in range(2000)]
    noisy = ToyTranslator("qb", ToyNoiseConfig(word_noise=0.3, english_rate=0.0), seed=0)
    outs = [noisy.translate(t).split() for t in texts]
    words = 10 * len(texts)
    copied = sum(w in lx.NOUNS for out in outs for w in out)
    dropped = words - sum(len(out) for out in outs)
    assert abs(copied / words - 0.1) < 0.03
    assert abs(dropped / words - 0.1) < 0.03
    off = ToyTranslator("qb", ToyNoiseConfig(word_noise=0.0, english_rate=0.2), seed=0)
    english = sum(off.translate(t) == t for t in texts) / len(texts)
    assert abs(english - 0.2) < 0.03  # sd 0.009
    assert all(off.translate(t) in (t, clean("qb", t)) for t in texts[:200])


def test_quality_score():
    qb = make_lexicon("qb", 0)
    src = "the big dog sees 3 cats."
    good = clean("qb", src)
    assert quality([src], [good], "qb", 0) == [1.0]
    dropped = good.replace(f"{qb['big']} ", "")
    assert quality([src], [dropped], "qb", 0) == [pytest.approx(1 - 1 / 6)]
    swapped = f"lo {qb['dog']} {qb['big']} {qb['see']} 3 mi{qb['cat']}."
    assert quality([src], [swapped], "qb", 0) == [pytest.approx(1 - 2 / 6)]
    assert quality([src], [src], "qb", 0) == [pytest.approx(1 / 6)]  # only "3" is right
    assert quality([src, ""], ["", ""], "qb", 0) == [0.0, 1.0]
    texts = [
        f"the {a} {n} helps the {b} cat."
        for a in lx.ADJECTIVES
        for b in lx.ADJECTIVES
        for n in lx.NOUNS[:10]
    ]

    def mean_quality(p):
        noisy = ToyTranslator("qa", ToyNoiseConfig(p, 0.0), seed=0)
        scores = quality(texts, [noisy.translate(t) for t in texts], "qa", 0)
        return sum(scores) / len(scores)

    assert 1.0 > mean_quality(0.1) > mean_quality(0.3) > 0.5


def test_language_identifier():
    english = [
        "Lia has 3 eggs and finds 1 more. How many eggs does Lia have now?",
        "Repeat the word 'cat' 3 times.",
        "I am sorry, but I cannot help with that. It could hurt people.",
        "Tell me how to feed a dog.",
    ]
    for text in english:
        assert identify(text) == "en"
        assert identify(clean("qa", text)) == "qa"
        assert identify(clean("qb", text)) == "qb"
    assert identify("") == "und" and identify("3 + 4 = 7") == "und"
    qa = clean("qa", "the old teacher paints the dark river.").split()
    assert identify(" ".join(qa[:2] + ["the", "house"])) == "und"  # a tie
    assert identify(" ".join(qa + ["house"])) == "qa"
