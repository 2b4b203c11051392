"""Seeds x learning rates on the toy world: chrF gain and forgetting rate of each method.

Usage, from the repository root (each seed trains its own backbone, ~5-7 min on 2 cores):
    .venv/bin/python bench/toy_sweep.py --seeds 0 1 2 --lrs 3.0e-3
    .venv/bin/python bench/toy_sweep.py --seeds 0 --lrs 1.0e-3 3.0e-3 1.0e-2 --methods vanilla radis

Runs the pipeline's library calls in one process, with params.yaml's `toy`, `rationales`,
`train` and `evaluate` sections and `base.seed` replaced by each seed: toy world -> backbone ->
backbone's rationales -> each method's training set -> LoRA -> merged model -> translation test
and general tasks -> FR against the backbone. Methods: vanilla, radis and the two controls
(radis-gloss, radis-masked). Backbones are kept in data/.sweep/<key>/ (the key hashes the world,
backbone params and seed), so a second sweep over learning rates reuses them. Prints one line per
run and a mean ± sd table over the seeds; writes every score to data/.sweep/results.jsonl.
"""

import argparse
import hashlib
import json
import statistics
import sys
from pathlib import Path

import pandas as pd
from peft import PeftModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radis.core.params import params  # noqa: E402
from radis.data.build import MethodConfig, radis, vanilla  # noqa: E402
from radis.data.rationales import RationaleConfig, generate_rationales, rule_rationales  # noqa: E402
from radis.evaluate.metrics import forgetting_rate  # noqa: E402
from radis.evaluate.translation import EvaluateConfig, answer_general, scores, translate  # noqa: E402
from radis.generate.hf import HFBackend  # noqa: E402
from radis.toy.backbone import BackboneConfig, build_model, instruction_tune, train_tokenizer  # noqa: E402
from radis.toy.world import WorldConfig, build_world  # noqa: E402
from radis.train.loop import TrainConfig  # noqa: E402
from radis.train.lora import train_lora  # noqa: E402

ROOT = Path("data/.sweep")
METHODS = ["vanilla", "radis", "radis-gloss", "radis-masked"]


def backbone(world: dict, seed: int) -> Path:
    """Train (or reuse) the toy backbone of this world and seed, as the backbone stage does."""
    cfg = params("toy.backbone", BackboneConfig)
    key = json.dumps([params("toy.world"), params("toy.backbone"), seed], sort_keys=True)
    out = ROOT / hashlib.sha256(key.encode()).hexdigest()[:12]
    if not (out / "config.json").exists():
        chat, par = world["chat"], world["parallel"]
        texts = [c["prompt"] + "\n" + c["completion"] for c in chat] + [r["source"] for r in par]
        tokenizer = train_tokenizer(texts, cfg.vocab_size)
        model = build_model(tokenizer, cfg.model, seed)
        instruction_tune(model, tokenizer, chat, cfg.train, seed)
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
    return out


def evaluate(backend, test: pd.DataFrame, general: pd.DataFrame, seed: int) -> dict:
    """Translation and general-task scores, as the evaluate stage computes them."""
    cfg = params("evaluate", EvaluateConfig)
    answers = [translate(backend, test, cfg, seed), answer_general(backend, general, cfg, seed)]
    preds = pd.concat(answers)
    return scores(preds.reset_index(drop=True))


def general(s: dict) -> dict:
    """The per-task general scores FR is computed over."""
    return {k: v for k, v in s.items() if k.startswith("general.") and k.count(".") == 1}


def run_seed(seed: int, lrs: list[float], methods: list[str]) -> list[dict]:
    """Every method at every learning rate on one seed's world and backbone."""
    world = build_world(params("toy.world", WorldConfig), seed)
    par, gen = pd.DataFrame(world["parallel"]), pd.DataFrame(world["general"])
    test, train = (par[par.split == s].reset_index(drop=True) for s in ("test", "train"))
    model_dir = backbone(world, seed)
    bb = HFBackend(model_dir)
    base = evaluate(bb, test, gen, seed)
    rat = generate_rationales(train, bb, params("rationales", RationaleConfig), seed)
    glosses = rule_rationales(train, pd.DataFrame(world["glosses"]), bb.tokenizer, seed)
    sets = {
        "vanilla": vanilla(train, seed),
        "radis": radis(rat, MethodConfig(recipe="radis"), seed),
        "radis-gloss": radis(glosses, MethodConfig(recipe="radis"), seed),
        "radis-masked": radis(rat, MethodConfig(recipe="radis", rationale_loss=False), seed),
    }
    rows = [dict(seed=seed, method="backbone", lr=0.0, chrf=base["mt.chrf"], fr=0.0)]
    rows[0] |= general(base)
    print(json.dumps(rows[0]), flush=True)
    for lr in lrs:
        cfg = params("train", TrainConfig, seed=seed, learning_rate=lr)
        for m in methods:
            adapter = ROOT / "adapters" / f"{seed}-{m}-{lr}"
            train_lora(model_dir, sets[m], cfg, adapter)
            tuned = HFBackend(model_dir)
            tuned.model = PeftModel.from_pretrained(tuned.model, adapter).merge_and_unload()
            s = evaluate(tuned, test, gen, seed)
            fr = forgetting_rate(general(base), general(s))
            rows.append(dict(seed=seed, method=m, lr=lr, chrf=s["mt.chrf"], fr=fr, **general(s)))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def summary(rows: list[dict]) -> str:
    """A markdown table: mean ± sd over seeds of chrF gain and FR per method and lr."""
    df = pd.DataFrame(rows)
    base = df[df.method == "backbone"].set_index("seed").chrf
    df["gain"] = df.chrf - df.seed.map(base)
    lines = [
        "| method | lr | seeds | chrF | chrF gain | FR | instruct / math / safety |",
        "|---|---|---|---|---|---|---|",
    ]
    tasks = ("general.instruct", "general.math", "general.safety")
    for (m, lr), g in df.groupby(["method", "lr"], sort=False):
        cells = [mean_sd(g[c].tolist()) for c in ("chrf", "gain", "fr")]
        skills = " / ".join(f"{g[c].mean():.0f}" for c in tasks)
        lines.append(f"| {m} | {lr:g} | {len(g)} | {' | '.join(cells)} | {skills} |")
    return "\n".join(lines)


def mean_sd(values: list[float]) -> str:
    """``mean ± sd`` (sample sd) of ``values``, or the value alone."""
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--lrs", type=float, nargs="+", default=[params("train.learning_rate")])
    ap.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    args = ap.parse_args()
    rows = [r for seed in args.seeds for r in run_seed(seed, args.lrs, args.methods)]
    ROOT.mkdir(parents=True, exist_ok=True)
    with open(ROOT / "results.jsonl", "a") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    print(summary(rows))


if __name__ == "__main__":
    main()
