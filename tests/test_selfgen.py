import pandas as pd

from radis.data.selfgen import SDFT_SYSTEM, SelfGenConfig, self_generate
from radis.generate.backend import Completion, GenerationConfig

TRAIN = pd.DataFrame(
    {
        "id": ["a", "b", "c"],
        "src_lang": "en",
        "tgt_lang": "qa",
        "source": ["x.", "y.", "z."],
        "reference": ["X.", "Y.", "Z."],
    }
)


class Scripted:
    """A stand-in backend that answers with fixed texts and records the prompts it got."""

    def __init__(self, tokenizer, texts):
        self.tokenizer, self.texts, self.prompts = tokenizer, texts, []

    def generate(self, prompts, cfg):
        self.prompts += prompts
        return [Completion(t, "stop", 1, 1) for t in self.texts]


def test_rewrite_uses_the_sdft_template_and_filters_talk_about_the_reference(tokenizer):
    backend = Scripted(tokenizer, ["X!", "Using the reference answer as a guide: Y.", ""])
    out = self_generate("rewrite", TRAIN, backend, SelfGenConfig(GenerationConfig()), seed=0)
    assert out.response.tolist() == ["X!", "Y.", "Z."]
    prompt = backend.prompts[0]
    assert prompt.startswith(f"<|im_start|>system\n{SDFT_SYSTEM}<|im_end|>")
    assert "### Reference Answer:\nX.\n\n### Response:\n<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_seqkd_target_is_the_raw_reply_by_default(tokenizer):
    """Eq. 5: y' ~ P(.|x, I) is the backbone's reply as generated, rationale and all."""
    replies = ["X2.\n\nExplanation: ...", "Y2.", "Z2."]
    out = self_generate("translate", TRAIN, Scripted(tokenizer, replies), SelfGenConfig(), seed=0)
    assert out.response.tolist() == replies
    assert out.output.tolist() == replies


def test_seqkd_target_extracted_keeps_only_the_translation(tokenizer):
    backend = Scripted(tokenizer, ["X2.\n\nExplanation: ...", "Y2.", "Z2."])
    cfg = SelfGenConfig(seqkd_target="extracted")
    out = self_generate("translate", TRAIN, backend, cfg, seed=0)
    assert out.response.tolist() == ["X2.", "Y2.", "Z2."]
    assert out.output[0].startswith("X2.\n\nExplanation")


def test_seqkd_target_is_checked():
    import pytest

    from radis.core.config import parse
    from radis.core.io import RadisError

    with pytest.raises(RadisError, match="selfgen.seqkd_target"):
        parse(SelfGenConfig, {"seqkd_target": "clean"}, "params.yaml: selfgen")
