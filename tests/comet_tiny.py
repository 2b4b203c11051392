"""Build tiny COMET checkpoints offline; run in the COMET environment by tests/test_comet.py.

Usage: ``.venv-comet/bin/python -I tests/comet_tiny.py OUT``. Writes OUT/encoder (a tiny BERT
config and word-level tokenizer, no weights: COMET rebuilds the encoder from its config when it
loads a checkpoint), and two checkpoints in the hub's layout (NAME/hparams.yaml,
NAME/checkpoints/model.ckpt), each trained for a few steps on a handful of scored triplets:

- OUT/da: a RegressionMetric (src, mt, ref), like Unbabel/wmt22-comet-da;
- OUT/kiwi: a UnifiedMetric on (mt, src) only, reference-free, like Unbabel/wmt22-cometkiwi-da.
"""

import sys
import warnings
from pathlib import Path

import pytorch_lightning as ptl
import torch
import yaml
from comet.models import RegressionMetric, UnifiedMetric
from transformers import BertConfig, BertTokenizerFast

TRIPLETS = [
    ("the cat sees the dog .", "vopa mirirak rian .", "vopa mirirak rian .", 1.0),
    ("the king holds the key .", "kami tumi .", "kami tumi riusrak lituka .", 0.3),
    ("the red stone near 7 apples .", "lituka nesel miri 7 ta .", "lituka nesel miri 7 ta .", 0.9),
    ("the green lamp .", "rian rian rian", "nesel miri lituka .", 0.0),
]
COMMON = dict(
    encoder_model="BERT",
    load_pretrained_weights=False,
    nr_frozen_epochs=0,
    keep_embeddings_frozen=False,
    hidden_sizes=[16],
    dropout=0.0,
    learning_rate=1e-3,
    encoder_learning_rate=1e-3,
    batch_size=4,
)


def build_encoder(path: Path) -> None:
    words = sorted({w for row in TRIPLETS for text in row[:3] for w in text.split()})
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789" if c not in words]
    path.mkdir(parents=True)
    (path / "vocab.txt").write_text("\n".join(special + words + chars) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"))
    tokenizer.save_pretrained(path)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    config.save_pretrained(path)


def train(model, steps: int = 3) -> None:
    samples = [dict(src=s, mt=m, ref=r, score=y) for s, m, r, y in TRIPLETS]
    optimizer = model.configure_optimizers()[0][0]
    model.train()
    for _ in range(steps):
        inputs, target = model.prepare_sample(samples, stage="fit")
        inputs = inputs[0] if isinstance(inputs, tuple) else inputs
        loss = model.compute_loss(model(**inputs), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def save(model, path: Path) -> None:
    (path / "checkpoints").mkdir(parents=True)
    hparams = dict(model.hparams)
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": hparams,
        "pytorch-lightning_version": ptl.__version__,
    }
    torch.save(checkpoint, path / "checkpoints" / "model.ckpt")
    (path / "hparams.yaml").write_text(yaml.safe_dump(hparams))


def main(out: str) -> None:
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    out = Path(out)
    build_encoder(out / "encoder")
    encoder = dict(COMMON, pretrained_model=str(out / "encoder"))
    da = RegressionMetric(**encoder, layer_transformation="softmax")
    train(da)
    save(da, out / "da")
    kiwi = UnifiedMetric(**encoder, input_segments=["mt", "src"], word_layer=2, layer_norm=False)
    train(kiwi)
    save(kiwi, out / "kiwi")


if __name__ == "__main__":
    main(sys.argv[1])
