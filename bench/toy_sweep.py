"""Seeds x training budgets on the toy world: each method's chrF gain and forgetting rate.

Usage, from the repository root (each seed trains its own backbone, ~3-5 min on 2 cores; each
training run with its evaluation ~1-2 min):
    .venv/bin/python bench/toy_sweep.py --seeds 0 1 2 --out data/.sweep/tradeoff
    .venv/bin/python bench/toy_sweep.py --seeds 0 --budgets 1.0e-3 3.0e-3 --curves vanilla \\
        --methods radis radis-gloss --set toy.world.dictionary_chats=0

Runs the pipeline's library calls in one process, with params.yaml (and each ``--set`` dotted
override, a YAML value) and ``base.seed`` replaced by each seed: toy world -> backbone ->
backbone's rationales -> each method's training set -> LoRA -> merged model -> translation test
and general tasks -> FR against the backbone. ``--curves`` methods train at every learning rate
of ``--budgets`` (their trade-off curves); ``--methods`` train at ``train.learning_rate`` only.
Backbones are kept in data/.sweep/backbones/<key>/ (the key hashes the world, backbone params and
seed), so a second sweep reuses them.

``--merge`` summarises earlier runs' ``results.jsonl`` files (e.g. one process per seed)
instead of running. Writes to ``--out``: ``results.jsonl`` (every run's scores), ``summary.md``
(mean ± sd over the seeds; each method against Vanilla-FT's curve at its own FR) and
``tradeoff.png``.
"""

import argparse
import hashlib
import json
import re
import statistics
import sys
from pathlib import Path

import pandas as pd
import yaml
from peft import PeftModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import radis.core.params as radis_params  # noqa: E402
from radis.core.config import load_params  # noqa: E402
from radis.data.build import MethodConfig, radis, vanilla  # noqa: E402
from radis.data.rationales import RationaleConfig, generate_rationales, rule_rationales  # noqa: E402
from radis.evaluate.metrics import forgetting_rate  # noqa: E402
from radis.evaluate.report import curve_at, tradeoff_figure  # noqa: E402
from radis.evaluate.translation import EvaluateConfig, answer_general, scores, translate  # noqa: E402
from radis.generate.hf import HFBackend  # noqa: E402
from radis.toy.backbone import BackboneConfig, build_model, instruction_tune, train_tokenizer  # noqa: E402
from radis.toy.world import WorldConfig, build_world  # noqa: E402
from radis.train.loop import TrainConfig  # noqa: E402
from radis.train.lora import train_lora  # noqa: E402

ROOT = Path("data/.sweep")
METHODS = ["vanilla", "radis", "radis-gloss", "radis-masked"]
params = radis_params.params


def override(sets: list[str]) -> None:
    """Apply ``key.path=value`` overrides (YAML values) to every later params read."""
    data = load_params()
    for item in sets:
        key, value = item.split("=", 1)
        *parents, last = key.split(".")
        node = data
        for k in parents:
            node = node[k]
        node[last] = yaml.safe_load(value)
    radis_params.load_params = lambda *a, **k: data


def backbone(world: dict, seed: int) -> Path:
    """Train (or reuse) the toy backbone of this world and seed, as the backbone stage does."""
    cfg = params("toy.backbone", BackboneConfig)
    key = json.dumps([params("toy.world"), params("toy.backbone"), seed], sort_keys=True)
    out = ROOT / "backbones" / hashlib.sha256(key.encode()).hexdigest()[:12]
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


GLOSS = re.compile(r"'([^']+)' means '([^']+)'")


def explains(rationales: pd.DataFrame) -> float:
    """Share (%) of a rationale's "'a' means 'b'" glosses whose words are both in the pair.

    One word must occur in the source and the other in the reference (either order).
    """
    hits = total = 0
    for src, ref, text in zip(rationales.source, rationales.reference, rationales.rationale):
        for a, b in GLOSS.findall(text):
            total += 1
            hits += (a in src and b in ref) or (a in ref and b in src)
    return 100 * hits / max(total, 1)


def run_seed(seed: int, budgets: list[float], curves: list[str], methods: list[str]) -> list[dict]:
    """The curve methods at every budget and the other methods at the default, on one seed."""
    world = build_world(params("toy.world", WorldConfig), seed)
    par, gen = pd.DataFrame(world["parallel"]), pd.DataFrame(world["general"])
    test, train = (par[par.split == s].reset_index(drop=True) for s in ("test", "train"))
    model_dir = backbone(world, seed)
    bb = HFBackend(model_dir)
    base = evaluate(bb, test, gen, seed)
    rat = generate_rationales(train, bb, params("rationales", RationaleConfig), seed)
    glosses = rule_rationales(train, pd.DataFrame(world["glosses"]), bb.tokenizer, seed)
    sets = {
        "vanilla": lambda: vanilla(train, seed),
        "radis": lambda: radis(rat, MethodConfig(recipe="radis"), seed),
        "radis-gloss": lambda: radis(glosses, MethodConfig(recipe="radis"), seed),
        "radis-masked": lambda: radis(rat, MethodConfig("radis", rationale_loss=False), seed),
    }
    info = dict(explains=explains(rat.merge(train[["id", "source"]], on="id")))
    info["rationale_tokens"] = float(rat.rationale_tokens.mean())
    rows = [dict(seed=seed, method="backbone", lr=0.0, chrf=base["mt.chrf"], fr=0.0) | info]
    rows[0] |= general(base)
    print(json.dumps(rows[0]), flush=True)
    default = params("train.learning_rate")
    runs = [(m, lr) for lr in budgets for m in curves] + [(m, default) for m in methods]
    for m, lr in dict.fromkeys(runs):
        cfg = params("train", TrainConfig, seed=seed, learning_rate=lr)
        adapter = ROOT / "adapters" / f"{seed}-{m}-{lr}"
        train_lora(model_dir, sets[m](), cfg, adapter)
        tuned = HFBackend(model_dir)
        tuned.model = PeftModel.from_pretrained(tuned.model, adapter).merge_and_unload()
        s = evaluate(tuned, test, gen, seed)
        fr = forgetting_rate(general(base), general(s))
        rows.append(dict(seed=seed, method=m, lr=lr, chrf=s["mt.chrf"], fr=fr, **general(s)))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample sd (0 for one value)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def fmt(values: list[float]) -> str:
    """``mean ± sd`` of ``values``, or the value alone."""
    m, sd = mean_sd(values)
    return f"{m:.1f}" if len(values) == 1 else f"{m:.1f} ± {sd:.1f}"


def with_gain(rows: list[dict]) -> pd.DataFrame:
    """The runs with their chrF gain over their seed's backbone."""
    df = pd.DataFrame(rows)
    base = df[df.method == "backbone"].set_index("seed").chrf
    return df.assign(gain=df.chrf - df.seed.map(base))


def summary(rows: list[dict], default: float) -> tuple[str, dict, dict]:
    """The mean ± sd table, the curves and the default points (for :func:`tradeoff_figure`)."""
    df = with_gain(rows)
    lines = [
        "| method | lr | seeds | chrF | chrF gain | FR | instruct / math / safety |",
        "|---|---|---|---|---|---|---|",
    ]
    tasks = ("general.instruct", "general.math", "general.safety")
    curves, points = {}, {}
    for (m, lr), g in df.groupby(["method", "lr"], sort=False):
        cells = [fmt(g[c].tolist()) for c in ("chrf", "gain", "fr")]
        skills = " / ".join(f"{g[c].mean():.0f}" for c in tasks)
        lines.append(f"| {m} | {lr:g} | {len(g)} | {' | '.join(cells)} | {skills} |")
        if m == "backbone":
            continue
        (fr, fr_sd), (gain, gain_sd) = mean_sd(g.fr.tolist()), mean_sd(g.gain.tolist())
        curves.setdefault(m, []).append((fr, gain, fr_sd, gain_sd, f"{lr:g}"))
        if lr == default:
            points[m] = (fr, gain, fr_sd, gain_sd)
    return "\n".join(lines), curves, points


def against_curve(rows: list[dict], default: float, reference: str = "vanilla") -> str:
    """Each method at the default lr against the ``reference`` curve, per seed and on average.

    Per seed: the reference's gain interpolated at the method's FR (over that seed's budgets;
    below its least FR, the gain at that point: a lower bound on the margin),
    the method's margin above it, its share of the reference's gain at the default and of its FR.
    """
    df = with_gain(rows)
    ref = df[df.method == reference]
    out = [
        f"| method | margin over {reference}'s curve (chrF) | share of its gain | of its FR |",
        "|---|---|---|---|",
    ]
    for m in df[(df.lr == default) & ~df.method.isin(["backbone", reference])].method.unique():
        margins, gains, frs, bounded = [], [], [], []
        for seed, g in df[(df.method == m) & (df.lr == default)].groupby("seed"):
            r = ref[ref.seed == seed]
            at = curve_at(list(zip(r.fr, r.gain)), g.fr.iloc[0])
            if at is None and g.fr.iloc[0] < r.fr.min():  # below the curve's least forgetting:
                at = r.gain[r.fr == r.fr.min()].max()  # its gain there bounds the curve's (≥)
                bounded.append(int(seed))
            if at is not None:
                margins.append(g.gain.iloc[0] - at)
            d = r[r.lr == default]
            if len(d):
                gains.append(100 * g.gain.iloc[0] / d.gain.iloc[0])
                frs.append(100 * g.fr.iloc[0] / d.fr.iloc[0])
        cells = [fmt(v) if v else "–" for v in (margins, gains, frs)]
        if bounded:  # a lower bound there: the curve's least-forgetting point has more FR
            cells[0] += f" (seeds {bounded}: at least, RaDis forgets less than every budget)"
        out.append(f"| {m} | {' | '.join(cells)} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budgets", type=float, nargs="+", default=[1.0e-3, 2.0e-3, 3.0e-3, 5.0e-3])
    ap.add_argument("--curves", nargs="*", default=["vanilla", "radis"], choices=METHODS)
    ap.add_argument("--methods", nargs="*", default=["radis-gloss", "radis-masked"])
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", type=Path, default=ROOT / "tradeoff")
    ap.add_argument("--merge", type=Path, nargs="+", help="summarise these results.jsonl instead")
    args = ap.parse_args()
    override(args.sets)
    default = params("train.learning_rate")
    if args.merge:
        rows = [json.loads(line) for f in args.merge for line in f.read_text().splitlines()]
    else:
        rows = [r for s in args.seeds for r in run_seed(s, args.budgets, args.curves, args.methods)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    table, curves, points = summary(rows, default)
    text = f"{' '.join(args.sets)}\n\n{table}\n\n{against_curve(rows, default)}\n"
    (args.out / "summary.md").write_text(text)
    tradeoff_figure(
        {f"{m} (learning rates)": c for m, c in curves.items() if len(c) > 1},
        {f"{m} at {default:g}": p for m, p in points.items()},
        args.out / "tradeoff.png",
    )
    print(text)


if __name__ == "__main__":
    main()
