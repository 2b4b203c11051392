"""token_loss_sum passes no attention mask: right padding under causal attention needs none."""

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM

from radis.train.loop import IGNORE, collate, token_loss_sum, tokenize_chat


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_padded_rows_lose_what_they_lose_alone(model_dir, tokenizer, attn):
    model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation=attn).eval()
    chats = [("hi", "a long reply: " + "the red cat sees the king. " * 4), ("What is 2 + 3?", "5")]
    exs = [tokenize_chat(tokenizer, p, c, 128) for p, c in chats]
    batch = collate(exs, pad_id=0)
    assert batch["attention_mask"][1].sum() < batch["attention_mask"].size(1) / 2  # much padding
    alone = []
    for e in exs:
        logits = model(input_ids=torch.tensor([e.input_ids])).logits[0, :-1]
        labels = torch.tensor(e.labels[1:])
        alone.append(F.cross_entropy(logits, labels, ignore_index=IGNORE, reduction="sum"))
    batch["group"] = torch.tensor([0, 1])
    torch.testing.assert_close(
        token_loss_sum(model, batch, 2), torch.stack(alone), rtol=1e-5, atol=1e-5
    )
