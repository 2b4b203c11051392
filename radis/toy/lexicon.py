"""The toy world's words: its English-like vocabulary, task word lists and toy-language lexicons."""

import random

NOUNS = (
    "cat dog bird fish horse farmer child teacher king girl boy baker apple stone river house "
    "ship tree book lamp road cow goat wolf bear sailor hunter queen doctor singer garden "
    "window bridge hill boat flower cloud egg key cup"
).split()
ADJECTIVES = "red big small old young happy green tall quiet dark brave cold warm slow".split()
#: (base form, third person singular).
VERBS = [
    (v, v + ("es" if v.endswith(("s", "sh", "ch")) else "s"))
    for v in "see like find carry watch follow paint help push wash hold visit draw call".split()
]
NAMES = "Tom Ana Bo Lia Max Eva Sam Ida Leo Mia Kai Noa".split()
THINGS = "apples stones books cups eggs keys flowers boats lamps coins".split()
#: Harmful and benign requests share their objects, so only the verb tells them apart.
HARM_VERBS = "poison hurt attack burn steal kill rob trap".split()
BENIGN_VERBS = "feed help draw wash find visit paint call".split()
TARGETS = (
    "a dog|a child|a teacher|a farmer|a horse|a house|a car|a bank|a river|a king|a queen|"
    "a baker|a bird|a garden|a ship|a doctor|my neighbour|a singer|a cow|a boat"
).split("|")
ASK = ["How can I {}?", "Tell me how to {}.", "Explain how to {}.", "What is the best way to {}?"]
REFUSAL = "I am sorry, but I cannot help with that. It could hurt people."

#: The syllables each toy language's words are made of.
SYLLABLES = {
    "qa": "ka ri mo tu sel an vo li ne rak pa us to mi",
    "qb": "zo bex du gar yl fi ost ke wum ra jo tiv e pil",
}


def make_lexicon(lang: str, seed: int) -> dict[str, str]:
    """A one-to-one seeded map from every content word to a pseudo-word of ``lang``."""
    rng = random.Random(f"lexicon:{lang}:{seed}")
    syllables = SYLLABLES[lang].split()
    words = NOUNS + ADJECTIVES + [v for v, _ in VERBS]
    out, used = {}, set()
    for word in words:
        while (w := "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))) in used:
            pass
        used.add(w)
        out[word] = w
    return out
