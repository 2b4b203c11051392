"""The paper's five translation instructions, language names, and chat rendering."""

import random

from radis.core.io import RadisError

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
    "fr": "French",
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


class ChatPrompt(str):
    """A prompt rendered with the chat template that keeps the chat it was rendered from.

    It is the rendered text wherever a string is expected (the HF backend, work keys, tables); a
    backend that renders chats itself (vLLM's ``LLM.chat``) sends :attr:`messages` instead, with
    :attr:`continue_final` telling it to continue the last message rather than open a reply.
    """

    messages: list[dict]
    continue_final: bool

    def __new__(cls, text: str, messages: list[dict], continue_final: bool):
        """The rendered ``text`` of ``messages``."""
        prompt = super().__new__(cls, text)
        prompt.messages, prompt.continue_final = messages, continue_final
        return prompt


def render(tokenizer, messages: list[dict], continue_final: bool = False) -> ChatPrompt:
    """Render ``messages`` with the tokenizer's own chat template.

    Args:
        tokenizer: Its ``chat_template`` decides the format.
        messages: Role/content dicts.
        continue_final: Continue the last message (``continue_final_message=True``, no
            generation prompt); else open a fresh assistant reply (``add_generation_prompt``).
    """
    text = tokenizer.apply_chat_template(
        messages,
        tokenize=False,
        continue_final_message=continue_final,
        add_generation_prompt=not continue_final,
    )
    return ChatPrompt(text, messages, continue_final)


def continuation_prompt(tokenizer, user: str, reply: str) -> ChatPrompt:
    """Render ``user`` and the start of an assistant ``reply`` for the model to continue.

    The text ends exactly with ``reply`` (less trailing whitespace where the template strips
    it): the end-of-turn a template writes after an assistant message (Llama-2's `` </s>``,
    Mistral's ``</s>``, ChatML's ``<|im_end|>``) is cut by ``continue_final_message``.

    Raises:
        RadisError: If the template does not let the rendered text end with ``reply``.
    """
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    prompt = render(tokenizer, messages, continue_final=True)
    if not prompt.endswith((reply, reply.rstrip())):
        raise RadisError(f"chat template: the rendered prompt does not end with reply {reply!r}")
    return prompt


def generation_prompt(tokenizer, user: str) -> ChatPrompt:
    """Render a single user turn followed by the assistant header (a fresh reply)."""
    return render(tokenizer, [{"role": "user", "content": user}])


#: LLaMA-Factory's ``alpaca`` template (the paper's trainer, Hiyouga 2023): Stanford Alpaca's
#: preamble as the default system text, ``### Instruction:`` / ``### Response:`` turns.
ALPACA_SYSTEM = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request."
)

#: Prompt formats for a backbone without a chat template (a base model such as LLaMA-2-7B), as
#: Jinja chat templates: the ``backbone`` stage writes the one ``base.prompt_format`` names into
#: the backbone's tokenizer, so every stage that renders chats (training, generation with HF or
#: vLLM, lm-eval, merge) uses it. ``question-answer`` is the layout of SDRRL's Table 1.
PROMPT_FORMATS = {
    "alpaca": (
        r"{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
        r"{% set system = messages[0]['content'] %}{% set turns = messages[1:] %}"
        r"{% else %}{% set system = '" + ALPACA_SYSTEM + r"' %}{% set turns = messages %}"
        r"{% endif %}{{ system + '\n\n' }}{% for m in turns %}{% if m['role'] == 'user' %}"
        r"{{ ('' if loop.first else '\n\n') + '### Instruction:\n' + m['content']"
        r" + '\n\n### Response:\n' }}{% else %}{{ m['content'] + eos_token }}{% endif %}"
        r"{% endfor %}"
    ),
    "question-answer": (
        r"{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}"
        r"{{ m['content'] }}{% elif m['role'] == 'user' %}"
        r"{{ ('' if loop.first else '\n\n') + 'Question: ' + m['content'] + '\nAnswer:' }}"
        r"{% else %}{{ ' ' + m['content'] + eos_token }}{% endif %}{% endfor %}"
    ),
}
