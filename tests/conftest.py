"""Tiny tokenizer, model and data shared by the tests (built locally, no hub)."""

import pytest
import torch

from radis.toy.backbone import build_model, train_tokenizer
from radis.toy.world import WorldConfig, build_world

TINY_MODEL = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    max_position_embeddings=256,
    tie_word_embeddings=True,
)


@pytest.fixture(scope="session")
def world():
    return build_world(
        WorldConfig(
            train_pairs=20,
            valid_pairs=2,
            test_pairs=4,
            backbone_pairs=10,
            backbone_items={"math": 20, "instruct": 20, "safety": 20},
            eval_items=4,
        ),
        seed=0,
    )


@pytest.fixture(scope="session")
def tokenizer(world):
    texts = [c["prompt"] + "\n" + c["completion"] for c in world["chat"]]
    return train_tokenizer(texts + [r["source"] for r in world["parallel"]], vocab_size=400)


@pytest.fixture(scope="session")
def model_dir(tokenizer, tmp_path_factory):
    """A randomly initialised tiny Qwen2 chat model saved like a hub checkpoint."""
    path = tmp_path_factory.mktemp("tiny-model")
    model = build_model(tokenizer, TINY_MODEL, seed=0)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
