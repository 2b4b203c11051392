"""The paper's five translation instructions, language names, and chat rendering."""

import random

from radis.io import RadisError

#: RaDis (Wu et al., 2025), the five instructions, verbatim; one is drawn per training sample.
TEMPLATES = {
    1: "Could you please translate this sentence from {lang1} to {lang2}?\n{sent1}",
    2: "Translate the following sentence from {lang1} to {lang2}:\n{sent1}",
    3: "Translate this sentence from {lang1} to {lang2}.\n{sent1}",
    4: "Translate from {lang1} to {lang2}:\n{sent1}",
    5: "{sent1}\nTranslate this sentence to {lang2}.",
}

#: Language code to the English name used in instructions: both papers' languages and the toy
#: world's synthetic ones.
LANGUAGES = {
    "en": "English",
    "cs": "Czech",
    "de": "German",
    "ru": "Russian",
    "zh": "Chinese",
    "is": "Icelandic",
    "da": "Danish",
    "uk": "Ukrainian",
    "bg": "Bulgarian",
    "fi": "Finnish",
    "hu": "Hungarian",
    "nb": "Norwegian",
    "id": "Indonesian",
    "ja": "Japanese",
    "ko": "Korean",
    "pt": "Portuguese",
    "sl": "Slovenian",
    "vi": "Vietnamese",
    "pl": "Polish",
    "th": "Thai",
    "km": "Khmer",
    "qa": "Aurish",
    "qb": "Bexic",
}


def language_name(code: str, where: str = "language") -> str:
    """English name of language ``code``; a one-line error naming ``where`` if unknown."""
    if code not in LANGUAGES:
        raise RadisError(f"{where}: unknown language {code!r}; known: {sorted(LANGUAGES)}")
    return LANGUAGES[code]


def pick_template(seed: int, sample_id: str) -> int:
    """The template id (1-5) for a sample: seeded, and independent of row order.

    Every stage that needs a sample's instruction (rationale generation, every method's training
    set) calls this, so all methods see the same instruction for the same pair.
    """
    return random.Random(f"{seed}:{sample_id}").randint(1, len(TEMPLATES))


def instruction(template: int, src_lang: str, tgt_lang: str, source: str) -> str:
    """Render translation instruction ``template`` for ``source``."""
    if template not in TEMPLATES:
        raise RadisError(f"template: unknown template id {template}; known: {sorted(TEMPLATES)}")
    return TEMPLATES[template].format(
        lang1=language_name(src_lang, "src_lang"),
        lang2=language_name(tgt_lang, "tgt_lang"),
        sent1=source,
    )


def continuation_prompt(tokenizer, user: str, reply: str) -> str:
    """Render ``user`` and the start of an assistant ``reply`` for the model to continue.

    Uses the tokenizer's own chat template with ``continue_final_message=True`` and no
    generation prompt, so the text ends exactly with ``reply``: no end-of-turn token follows it.
    """
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    return tokenizer.apply_chat_template(
        messages, tokenize=False, continue_final_message=True, add_generation_prompt=False
    )


def generation_prompt(tokenizer, user: str) -> str:
    """Render a single user turn followed by the assistant header (a fresh reply)."""
    messages = [{"role": "user", "content": user}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
