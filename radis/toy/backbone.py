"""The toy chat backbone: a byte-level BPE tokenizer and a tiny instruction-tuned Qwen2.

The tokenizer carries a ChatML chat template; the model is tuned on the toy world's chats. Both
are saved with ``save_pretrained``, so every later stage loads them as it would load a hub id.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

from radis.train.loop import TrainConfig, fit, tokenize_chat

#: Qwen2's ChatML format without a default system prompt.
CHATML = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@dataclass
class BackboneConfig:
    """Params ``toy.backbone``.

    Attributes:
        vocab_size: BPE vocabulary size.
        model: ``Qwen2Config`` keyword arguments.
        train: Full fine-tuning on the toy chats.
    """

    vocab_size: int = 1024
    model: dict = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on ``texts`` and give it the ChatML chat template.

    Normalizer and pre-tokenizer are Qwen2's (NFC; digits split one by one), because a folder
    with a Qwen2 ``config.json`` is loaded by ``AutoTokenizer`` as a ``Qwen2Tokenizer``, which
    keeps only the vocabulary and merges and sets its own: the backbone must be trained with the
    tokenization every later stage sees. End of turn ``<|im_end|>`` is the EOS token;
    ``<|endoftext|>`` pads.
    """
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHATML,
        model_max_length=2048,
    )


def build_model(tokenizer: PreTrainedTokenizerFast, config: dict, seed: int) -> Qwen2ForCausalLM:
    """A randomly initialised Qwen2 model; ``config`` holds ``Qwen2Config`` keyword arguments."""
    torch.manual_seed(seed)
    cfg = Qwen2Config(
        vocab_size=len(tokenizer),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        **config,
    )
    model = Qwen2ForCausalLM(cfg)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def instruction_tune(
    model, tokenizer, chats: list[dict], cfg: TrainConfig, seed: int, on_log=None
) -> list[dict]:
    """Full fine-tuning of ``model`` on ``chats`` (prompt/completion dicts), prompts masked.

    ``seed`` (``base.seed``) orders the data (``cfg``'s own ``seed`` is replaced).
    """
    cfg = replace(cfg, seed=seed)
    examples = [
        tokenize_chat(tokenizer, c["prompt"], c["completion"], cfg.max_length) for c in chats
    ]
    return fit(model, examples, cfg, tokenizer.pad_token_id, on_log=on_log)
