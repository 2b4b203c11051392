"""Paper-setup MT and language identification: NLLB-200 on a tiny random model, lingua."""

import string

import pytest
import torch

from radis.core.io import RadisError
from radis.generate.backend import GenerationConfig
from radis.sdrrl.filter import FilterConfig, identify, lingua_identify
from radis.sdrrl.machine_translate import (
    NLLB_CODES,
    NllbTranslator,
    TranslateConfig,
    fingerprint,
    load_translator,
    split_text,
    target_language,
)
from radis.toy.sdrrl import ToyNoiseConfig, ToyTranslator


@pytest.fixture(scope="module")
def nllb_dir(tmp_path_factory):
    """A tiny random M2M-100 model with a character-level NLLB tokenizer (all 202 codes)."""
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for char in string.ascii_letters + string.digits + ".,!?'▁":
        vocab.setdefault(char, len(vocab))
    tokenizer = NllbTokenizer(vocab=vocab, merges=[])
    config = M2M100Config(
        vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
    )
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-nllb")
    M2M100ForConditionalGeneration(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_split_text_round_trip():
    text = "First one. Second one!\n\nThird line\nFourth? Yes."
    parts = split_text(text)
    assert "".join(parts) == text
    assert parts[::2] == ["First one.", "Second one!", "Third line", "Fourth?", "Yes."]
    assert split_text("no break") == ["no break"]


def test_nllb_codes_are_nllb_language_codes():
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    assert set(NLLB_CODES.values()) <= set(FAIRSEQ_LANGUAGE_CODES)
    with pytest.raises(RadisError, match="no NLLB code for language 'qa'"):
        TranslateConfig(model="some/nllb").code("qa")


def test_nllb_source_code_forced_target_and_beams(nllb_dir, monkeypatch):
    translator = NllbTranslator(str(nllb_dir), "ces_Latn", "deu_Latn", num_beams=4)
    tok = translator.text_tokenizer
    calls = []
    generate = translator.model.generate

    def spy(**kwargs):
        calls.append(kwargs)
        return generate(**kwargs)

    monkeypatch.setattr(translator.model, "generate", spy)
    outs = translator.generate(["Ahoj svete.", "Dobry den"], GenerationConfig(max_new_tokens=6))
    assert len(outs) == 2 and len(calls) == 1
    (call,) = calls
    assert call["forced_bos_token_id"] == tok.convert_tokens_to_ids("deu_Latn")
    assert call["num_beams"] == 4 and call["do_sample"] is False
    for row, mask in zip(call["input_ids"].tolist(), call["attention_mask"].tolist()):
        ids = [i for i, m in zip(row, mask) if m]
        assert ids[0] == tok.convert_tokens_to_ids("ces_Latn") and ids[-1] == tok.eos_token_id
    assert all(o.prompt_tokens > 0 and o.completion_tokens <= 7 for o in outs)
    with pytest.raises(RadisError, match="no language code 'xxx_Latn'"):
        NllbTranslator(str(nllb_dir), "eng_Latn", "xxx_Latn", num_beams=1)


def test_nllb_batches_keep_order_and_texts_keep_their_layout(nllb_dir):
    translator = NllbTranslator(str(nllb_dir), "eng_Latn", "deu_Latn", num_beams=2)
    texts = [
        "A short one.",
        "A much longer sentence than the others here.",
        "Two lines.\nA short one.",
        "Mid",
        "",
    ]
    wide = translator.generate(texts, GenerationConfig(max_new_tokens=8, batch_tokens=4096))
    narrow = translator.generate(texts, GenerationConfig(max_new_tokens=8, batch_tokens=8))
    alone = [translator.generate([t], GenerationConfig(max_new_tokens=8))[0] for t in texts]
    assert [o.text for o in wide] == [o.text for o in narrow] == [o.text for o in alone]
    assert wide[2].text.count("\n") == 1
    assert wide[2].text.split("\n")[1] == wide[0].text  # a piece is translated once, reused
    assert wide[4].text == "" and wide[4].completion_tokens == 0
    short = translator.generate(["A much longer sentence."], GenerationConfig(max_new_tokens=1))
    assert short[0].finish_reason == "length"


def test_load_translator_and_fingerprint(nllb_dir):
    cfg = TranslateConfig()
    assert isinstance(load_translator(cfg, "qa", 0), ToyTranslator)
    keys = {
        fingerprint(cfg, "qa", 0),
        fingerprint(cfg, "qb", 0),
        fingerprint(cfg, "qa", 1),
        fingerprint(TranslateConfig(toy=ToyNoiseConfig(0.1, 0.05)), "qa", 0),
    }
    assert len(keys) == 4
    nllb = TranslateConfig(model=str(nllb_dir), num_beams=1)
    assert fingerprint(nllb, "de", 0) != fingerprint(nllb, "cs", 0)
    assert isinstance(load_translator(nllb, "de", 0), NllbTranslator)


def test_lingua_identifies_languages_and_names_unknown_codes():
    texts = [
        "The weather is lovely today and we are going for a long walk.",
        "Das Wetter ist heute schön und wir machen einen langen Spaziergang.",
        "Počasí je dnes krásné a jdeme na dlouhou procházku.",
    ]
    assert lingua_identify(texts, ["en", "de", "cs"]) == ["en", "de", "cs"]
    cfg = FilterConfig(lid="lingua", lid_languages=["de"])
    assert identify(cfg, texts, ["cs"]) == ["en", "de", "cs"]
    with pytest.raises(RadisError, match="lingua has no language 'qa'"):
        identify(cfg, texts, ["qa"])


def test_french_source_reaches_the_translator(nllb_dir):
    # Appendix C: French as the resource-rich language; NLLB then reads French.
    nllb = TranslateConfig(model=str(nllb_dir), num_beams=1)
    french = load_translator(nllb, "de", 0, source="fr")
    assert french.text_tokenizer.src_lang == "fra_Latn"
    first = french.text_tokenizer("Bonjour.")["input_ids"][0]
    assert first == french.text_tokenizer.convert_tokens_to_ids("fra_Latn")
    assert load_translator(nllb, "de", 0).text_tokenizer.src_lang == "eng_Latn"
    assert fingerprint(nllb, "de", 0, source="fr") != fingerprint(nllb, "de", 0)
    with pytest.raises(RadisError, match="toy translates from English only, but selfanswer"):
        load_translator(TranslateConfig(), "qa", 0, source="fr")
    with pytest.raises(RadisError, match="'fr' is params.yaml selfanswer.source_language"):
        target_language("fr", ["fr", "de"], source="fr")
