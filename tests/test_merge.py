import pandas as pd
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from radis.lora import merge, train_lora
from radis.train import TrainConfig


def test_merged_logits_equal_adapter_logits(model_dir, tokenizer, tmp_path):
    rows = pd.DataFrame(
        {"prompt": ["What is the last word of this list: a b c?"] * 4, "completion": ["c"] * 4}
    ).assign(masked_suffix="", group="")
    cfg = TrainConfig(
        lora={"r": 4, "lora_alpha": 16, "target_modules": "all-linear"},
        learning_rate=5.0e-2,
        epochs=2,
        batch_size=4,
        micro_batch_size=4,
    )
    train_lora(model_dir, rows, cfg, tmp_path / "adapter")
    merge(model_dir, tmp_path / "adapter", tmp_path / "merged", "float32")

    ids = tokenizer("<|im_start|>user\nthe red cat sees 3 dogs.<|im_end|>\n", return_tensors="pt")
    with torch.no_grad():
        adapter = PeftModel.from_pretrained(
            AutoModelForCausalLM.from_pretrained(model_dir), tmp_path / "adapter"
        ).eval()
        merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged").eval()
        base = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        a, m, b = (x(**ids).logits for x in (adapter, merged, base))
    torch.testing.assert_close(m, a, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(m, b, atol=1e-3)  # the adapter did change the model
    assert (tmp_path / "merged" / "tokenizer.json").is_file()
