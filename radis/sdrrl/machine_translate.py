"""SDRRL step 2: machine translation of the transfer set's texts into each target language.

A translator is a :class:`~radis.generate.backend.Backend` over source texts, so translation shards
and resumes like generation (:mod:`radis.generate.shards`): the toy world's rule-based translator
(:class:`radis.toy.sdrrl.ToyTranslator`) or an NLLB-200 checkpoint (:class:`NllbTranslator`,
the paper's MT system). NLLB translates sentences: a text is cut into lines and sentences, every
piece is translated (beam search, batched under a token budget) and the pieces are joined back
with the original separators.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radis.core import progress
from radis.core.config import positive
from radis.core.io import RadisError
from radis.generate.backend import (
    Backend,
    Completion,
    GenerationConfig,
    resolve_model,
    token_batches,
)
from radis.generate.shards import ShardedBackend, model_fingerprint
from radis.toy.sdrrl import ToyNoiseConfig, ToyTranslator

#: NLLB-200 (FLORES-200) codes of the languages in :data:`radis.core.templates.LANGUAGES`.
NLLB_CODES = {
    "en": "eng_Latn",
    "cs": "ces_Latn",
    "de": "deu_Latn",
    "ru": "rus_Cyrl",
    "zh": "zho_Hans",
    "is": "isl_Latn",
    "da": "dan_Latn",
    "uk": "ukr_Cyrl",
    "bg": "bul_Cyrl",
    "fi": "fin_Latn",
    "hu": "hun_Latn",
    "nb": "nob_Latn",
    "id": "ind_Latn",
    "ja": "jpn_Jpan",
    "ko": "kor_Hang",
    "pt": "por_Latn",
    "sl": "slv_Latn",
    "vi": "vie_Latn",
    "pl": "pol_Latn",
    "th": "tha_Thai",
    "km": "khm_Khmr",
    "fr": "fra_Latn",
}
#: The texts of a question that are translated, as the ``field`` column names them.
FIELDS = ("question", "reference", "self")
_BREAK = re.compile(r"(\n+|(?<=[.!?])[ \t]+)")


@dataclass
class TranslateConfig:
    """Params ``machine_translate``.

    Attributes:
        model: ``toy`` (the toy world's translator) or an NLLB-200 checkpoint: a hub id
            (paper: facebook/nllb-200-3.3B) or a local folder.
        num_beams: Beam size (paper: 4).
        max_new_tokens: Longest translation of one sentence, in tokens.
        batch_tokens: Token budget of a batch: rows × beams × (longest sentence + max_new_tokens).
        codes: Language code → NLLB code (src_lang / forced BOS token).
        toy: The toy translator's noise.
    """

    model: str = "toy"
    num_beams: int = 4
    max_new_tokens: int = 256
    batch_tokens: int = 16384
    codes: dict = field(default_factory=lambda: dict(NLLB_CODES))
    toy: ToyNoiseConfig = field(default_factory=ToyNoiseConfig)

    def __post_init__(self):
        positive(
            num_beams=self.num_beams,
            max_new_tokens=self.max_new_tokens,
            batch_tokens=self.batch_tokens,
        )

    def generation(self, seed: int) -> GenerationConfig:
        """The decoding params a sharded translator's work key covers."""
        return GenerationConfig(
            max_new_tokens=self.max_new_tokens, batch_tokens=self.batch_tokens, seed=seed
        )

    def code(self, lang: str) -> str:
        """The NLLB code of ``lang``, or a one-line error naming the param."""
        if lang not in self.codes:
            raise RadisError(
                f"params.yaml: machine_translate.codes: no NLLB code for language {lang!r}"
            )
        return self.codes[lang]


def split_text(text: str) -> list[str]:
    """``text`` as alternating pieces and separators (line breaks, spaces after . ! ?).

    ``"".join(split_text(t)) == t``; the pieces are at even positions.
    """
    return _BREAK.split(text)


class NllbTranslator:
    """Translation with an NLLB-200 (M2M-100) checkpoint: beam search, length-sorted batches."""

    tokenizer = None

    def __init__(self, model: str, src: str, tgt: str, num_beams: int, dtype: str = "float32"):
        """Load ``model`` to translate from NLLB code ``src`` into NLLB code ``tgt``."""
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        model = resolve_model(model)
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.text_tokenizer = AutoTokenizer.from_pretrained(model, src_lang=src)
        self.text_tokenizer.src_lang = src
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model, dtype=getattr(torch, dtype))
        self.model.to(self.device).eval()
        self.tgt_id = self.text_tokenizer.convert_tokens_to_ids(tgt)
        if self.tgt_id == self.text_tokenizer.unk_token_id:
            raise RadisError(f"{model}: the tokenizer has no language code {tgt!r}")
        self.num_beams = num_beams

    def generate(self, prompts: list[str], cfg: GenerationConfig) -> list[Completion]:
        """Translate every text, piece by piece; see :class:`~radis.generate.backend.Backend`."""
        layouts = [split_text(p) for p in prompts]
        pieces = sorted({s for parts in layouts for s in parts[::2] if s.strip()})
        done = dict(zip(pieces, self.translate_pieces(pieces, cfg)))
        out = []
        for parts in layouts:
            hits = [done[s] if s.strip() else (s, "stop", 0, 0) for s in parts[::2]]
            parts[::2] = [h[0] for h in hits]
            reason = "length" if any(h[1] == "length" for h in hits) else "stop"
            tokens = [sum(h[k] for h in hits) for k in (2, 3)]
            out.append(Completion("".join(parts), reason, *tokens))
        return out

    def translate_pieces(self, pieces: list[str], cfg: GenerationConfig) -> list[tuple]:
        """``(translation, finish reason, source tokens, new tokens)`` per piece, in order."""
        import torch

        encoded = [self.text_tokenizer(p)["input_ids"] for p in pieces]
        budget = max(1, cfg.batch_tokens // self.num_beams)
        out: list[tuple] = [()] * len(pieces)
        batches = token_batches([len(e) for e in encoded], budget, cfg.max_new_tokens)
        with torch.inference_mode(), progress.bar(len(pieces), "translate", "piece") as bar:
            for batch in batches:
                results = self._batch([encoded[i] for i in batch], cfg)
                for i, result in zip(batch, results):
                    out[i] = (result[0], result[1], len(encoded[i]), result[2])
                bar.update(len(batch), tokens=sum(r[2] for r in results))
        return out

    def _batch(self, encoded: list[list[int]], cfg: GenerationConfig) -> list[tuple]:
        tok = self.text_tokenizer
        batch = tok.pad({"input_ids": encoded}, return_tensors="pt").to(self.device)
        seqs = self.model.generate(
            **batch,
            forced_bos_token_id=self.tgt_id,
            num_beams=self.num_beams,
            max_new_tokens=cfg.max_new_tokens,
            do_sample=False,
        ).tolist()
        results = []
        for seq in seqs:
            body = seq[1:]  # after the decoder start token
            stopped = tok.eos_token_id in body
            kept = body[: body.index(tok.eos_token_id)] if stopped else body
            text = tok.decode(kept, skip_special_tokens=True).strip()
            results.append((text, "stop" if stopped else "length", len(kept) + stopped))
        return results


def load_translator(
    cfg: TranslateConfig, lang: str, seed: int, dtype: str = "float32", source: str = "en"
) -> Backend:
    """The translator from ``source`` into ``lang`` that ``cfg.model`` names.

    Raises:
        RadisError: For the toy translator from another language than English.
    """
    if cfg.model == "toy":
        if source != "en":
            raise RadisError(
                f"params.yaml: machine_translate.model: toy translates from English only, but "
                f"selfanswer.source_language is {source!r}: name an NLLB checkpoint"
            )
        return ToyTranslator(lang, cfg.toy, seed)
    return NllbTranslator(cfg.model, cfg.code(source), cfg.code(lang), cfg.num_beams, dtype)


def fingerprint(cfg: TranslateConfig, lang: str, seed: int, source: str = "en") -> str:
    """Everything besides the texts and decoding params that decides a translation."""
    model = "toy" if cfg.model == "toy" else model_fingerprint(cfg.model)
    detail = [cfg.toy.word_noise, cfg.toy.english_rate, seed] if cfg.model == "toy" else []
    codes = [] if cfg.model == "toy" else [cfg.code(source), cfg.code(lang), cfg.num_beams]
    return json.dumps([model, lang, *codes, *detail])


def sources(answers: pd.DataFrame) -> pd.DataFrame:
    """The texts to translate: each question, reference and non-empty self answer.

    Returns:
        Columns id, field (one of :data:`FIELDS`), source.
    """
    parts = [
        pd.DataFrame({"id": answers.id, "field": name, "source": answers[column]})
        for name, column in zip(FIELDS, ("question", "reference", "answer"))
    ]
    table = pd.concat(parts, ignore_index=True)
    return table[table.source.str.strip() != ""].reset_index(drop=True)


def translate_sources(
    texts: pd.DataFrame, translator: Backend, cfg: TranslateConfig, lang: str, seed: int
) -> pd.DataFrame:
    """Translate ``texts`` (from :func:`sources`) into ``lang``: an ``sdrrl_mt`` table."""
    outs = translator.generate(texts.source.tolist(), cfg.generation(seed))
    return texts.assign(
        lang=lang,
        translation=[o.text for o in outs],
        finish_reason=[o.finish_reason for o in outs],
    )


def target_language(lang: str, languages: list[str], source: str = "en") -> str:
    """Check that ``lang`` is one of ``base.languages`` and not the ``source`` language."""
    if lang not in languages:
        raise RadisError(
            f"machine_translate: {lang!r} is not in params.yaml base.languages {languages}"
        )
    if lang == source:
        raise RadisError(
            f"machine_translate: {lang!r} is params.yaml selfanswer.source_language, not a target"
        )
    return lang


def open_translator(
    cfg: TranslateConfig, lang: str, seed: int, dtype: str, shard_rows: int, source: str = "en"
) -> ShardedBackend:
    """The translator from ``source`` into ``lang``, resumable under ``data/.work``."""
    inner = load_translator(cfg, lang, seed, dtype, source)
    work = Path("data/.work") / f"machine_translate@{lang}"
    return ShardedBackend(inner, work, shard_rows, fingerprint(cfg, lang, seed, source))
