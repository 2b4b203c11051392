"""Report: per-method metrics with the forgetting rate, and a table like the paper's Table 1."""

import sys
from pathlib import Path

from radis.core.io import RadisError, read_json
from radis.evaluate.metrics import forgetting_rate, general_benchmarks


def model_scores(eval_dir: Path, name: str) -> dict[str, float]:
    """Every evaluation suite's flat scores of model ``name`` (``<eval_dir>/<name>/<suite>.json``).

    Raises:
        RadisError: If the main evaluation (suite ``evaluate``) has no scores for the model.
    """
    flat = read_json(Path(eval_dir) / name / "evaluate.json")
    for path in sorted((Path(eval_dir) / name).glob("*.json")):
        flat |= read_json(path)
    return flat


def method_metrics(base: dict[str, float], tuned: dict[str, float]) -> dict[str, float | None]:
    """The method's scores plus FR and preservation against the backbone.

    FR and preservation are None (with a warning on stderr) when the backbone scores 0 on every
    general benchmark, where the relative drop is undefined.
    """
    try:
        fr = forgetting_rate(general_benchmarks(base), general_benchmarks(tuned))
    except RadisError as err:
        print(f"warning: {err}; fr and preservation left empty", file=sys.stderr)
        return tuned | {"fr": None, "preservation": None}
    return tuned | {"fr": round(fr, 2), "preservation": round(100 - fr, 2)}


#: SDRRL's target-language averages (suite ``multilingual``) and their column names.
MULTILINGUAL_COLUMNS = {
    "belebele.xx": "BELEBELE X",
    "flores.xx-en.bleu": "FLORES X→EN BLEU",
    "flores.en-xx.bleu": "FLORES EN→X BLEU",
    "xlsum.xx.rougeL": "XL-SUM X R-L",
    "mkqa.xx.f1": "MKQA X F1",
    "offtarget.xx": "Off-target X %",  # answers not in the language asked for (Figure 3)
}

#: Table 1's general benchmarks, in the paper's order, and their column names.
PAPER_BENCHMARKS = {
    "general.mt_bench": "MT-Bench",
    "general.alpaca_eval": "AlpacaEval",
    "general.alpaca_eval2": "AlpacaEval 2.0",
    "general.advbench": "AdvBench",
    "general.gsm8k": "GSM8K",
}

#: Translation columns: COMET by direction group when the ``comet`` suite ran (Table 1), else
#: BLEU and chrF (the toy world, or a setup without COMET).
COMET_COLUMNS = {"mt.xx-en.comet": "COMET X→EN", "mt.en-xx.comet": "COMET EN→X"}
BLEU_CHRF_COLUMNS = {
    "mt.xx-en.bleu": "X→EN BLEU",
    "mt.xx-en.chrf": "X→EN chrF",
    "mt.en-xx.bleu": "EN→X BLEU",
    "mt.en-xx.chrf": "EN→X chrF",
}


def has_comet(rows: dict[str, dict[str, float]]) -> bool:
    """Whether the ``comet`` suite scored every model (the paper's translation metric)."""
    return all("mt.comet" in r for r in rows.values())


def columns(rows: dict[str, dict[str, float]]) -> dict[str, str]:
    """The main table's metric keys and column names, in order.

    Translation (COMET per direction group when every model has it, else BLEU and chrF), the
    general benchmarks (the paper's five in Table 1's order, then any other task sorted), the
    target-language averages of the ``multilingual`` suite where a model has them (``<task> X``:
    the general task asked in the toy languages), FR and preservation.
    """
    tasks = sorted({k for r in rows.values() for k in general_benchmarks(r)})
    tasks = [t for t in PAPER_BENCHMARKS if t in tasks] + [
        t for t in tasks if t not in PAPER_BENCHMARKS
    ]
    general = {t: PAPER_BENCHMARKS.get(t, t.split(".", 1)[1]) for t in tasks}
    names_x = {f"{t}.xx": f"{t.split('.', 1)[1]} X" for t in tasks} | MULTILINGUAL_COLUMNS
    extra = {c: names_x[c] for c in names_x if any(c in r for r in rows.values())}
    mt = COMET_COLUMNS if has_comet(rows) else BLEU_CHRF_COLUMNS
    return mt | general | extra | {"fr": "FR ↓", "preservation": "Preservation ↑"}


def table(rows: dict[str, dict[str, float]]) -> str:
    """The main markdown table (the paper's Table 1), one row per model (the backbone first)."""
    return markdown(rows, columns(rows))


def markdown(rows: dict[str, dict[str, float]], cols: dict[str, str]) -> str:
    """A markdown table of ``rows`` over the metric keys ``cols`` (key -> column name)."""
    lines = ["| model | " + " | ".join(cols.values()) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in rows.items():
        cells = [f"{r[c]:.2f}" if r.get(c) is not None else "–" for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def direction_table(rows: dict[str, dict[str, float]], group: str) -> str:
    """COMET per language of one direction group (``xx-en``: Table 6, ``en-xx``: Table 7).

    One column per language with a ``mt.<src>-<tgt>.comet`` score, then the group's average.
    """
    into_english = group == "xx-en"
    directions = sorted(
        {
            k.split(".")[1]
            for r in rows.values()
            for k in r
            if k.startswith("mt.") and k.endswith(".comet") and k.count(".") == 2
        }
        - {"xx-en", "en-xx"}
    )
    directions = [d for d in directions if d.endswith("-en") == into_english]
    cols = {f"mt.{d}.comet": d.split("-")[0 if into_english else 1] for d in directions}
    return markdown(rows, cols | {f"mt.{group}.comet": "Avg."})


#: Table 2's columns: formality steering on CoCoA-MT (suite ``formality``).
FORMALITY_COLUMNS = {
    "formality.formal.comet": "Formal COMET",
    "formality.formal.accuracy": "Formal Acc",
    "formality.informal.comet": "Informal COMET",
    "formality.informal.accuracy": "Informal Acc",
}


def report(rows: dict[str, dict[str, float]]) -> str:
    """``metrics/table.md``: the main table, then the tables of the suites that ran.

    COMET per language (Tables 6 and 7) when every model has COMET; formality steering
    (Table 2) for the models the ``formality`` suite scored.
    """
    text = table(rows)
    if has_comet(rows):
        text += "\n### COMET X→EN per language (Table 6)\n\n" + direction_table(rows, "xx-en")
        text += "\n### COMET EN→X per language (Table 7)\n\n" + direction_table(rows, "en-xx")
    steered = {n: r for n, r in rows.items() if "formality.formal.accuracy" in r}
    if steered:
        text += "\n### Formality steering, CoCoA-MT EN→DE (Table 2)\n\n"
        text += markdown(steered, FORMALITY_COLUMNS)
    return text


def figure_axes(rows: dict[str, dict[str, float]]) -> tuple[str, str, dict]:
    """The axes of Figure 1 and each model's point.

    The paper draws COMET against MT-Bench; a setup without both (the toy world) draws chrF
    against general ability, the mean of the general benchmarks (the scores FR is computed from).
    """
    if has_comet(rows) and all("general.mt_bench" in r for r in rows.values()):
        points = {n: (r["general.mt_bench"], r["mt.comet"]) for n, r in rows.items()}
        return "MT-Bench (GPT-4 judge, 1-10)", "COMET (mean over directions)", points
    points = {}
    for name, r in rows.items():
        general = general_benchmarks(r)
        points[name] = (sum(general.values()) / len(general), r["mt.chrf"])
    return "general ability (mean score, %)", "translation chrF (mean over directions)", points


def figure(rows: dict[str, dict[str, float]], path) -> dict[str, tuple[float, float]]:
    """The paper's Figure 1: translation against general ability, one point per model.

    The backbone is drawn as a star, and a dotted cross through it splits better from worse.

    Returns:
        The plotted point (general ability, translation) of every model.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xlabel, ylabel, points = figure_axes(rows)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    for name, (x, y) in points.items():
        if name == "backbone":
            ax.scatter(x, y, marker="*", s=220, color="black", zorder=3)
            ax.axvline(x, ls=":", color="grey")
            ax.axhline(y, ls=":", color="grey")
        else:
            ax.scatter(x, y, s=60, zorder=3)
        ax.annotate(name, (x, y), xytext=(6, 4), textcoords="offset points", fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("Translation vs. general ability")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return points


def curve_at(curve: list[tuple[float, float]], x: float) -> float | None:
    """The piecewise-linear ``curve`` (points ``(x, y)``, any order) at ``x``.

    Returns:
        The interpolated ``y``, or None when ``x`` is outside the curve's range (no
        extrapolation: a point beyond the sweep is not compared).
    """
    pts = sorted(curve)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return None


def tradeoff_points(rows: dict[str, dict[str, float]]) -> dict[str, tuple]:
    """Each method's ``(fr, chrF gain, 0, 0)`` against the backbone (row ``backbone``)."""
    base = rows["backbone"]["mt.chrf"]
    return {
        name: (r["fr"], r["mt.chrf"] - base, 0.0, 0.0)
        for name, r in rows.items()
        if name != "backbone" and r["fr"] is not None
    }


def tradeoff_figure(curves: dict, points: dict, path) -> None:
    """Forgetting rate against chrF gain: curves over training budgets and single methods.

    Args:
        curves: Name -> list of ``(fr, gain, fr_sd, gain_sd, label)``, one per budget (the sd
            may be 0 for one seed); drawn as a line with error bars, each point labelled.
        points: Name -> ``(fr, gain, fr_sd, gain_sd)``: one method at the shared default.
        path: Where to write the PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for name, pts in curves.items():
        pts = sorted(pts)
        xs, ys, xe, ye, labels = zip(*pts)
        ax.errorbar(xs, ys, xerr=xe, yerr=ye, marker="o", ms=4, capsize=2, label=name)
        for x, y, label in zip(xs, ys, labels):
            ax.annotate(label, (x, y), xytext=(4, -10), textcoords="offset points", fontsize=7)
    for name, (x, y, sx, sy) in points.items():
        ax.errorbar(x, y, xerr=sx, yerr=sy, marker="s", ms=7, capsize=2, ls="none", label=name)
    ax.set_xlabel("forgetting rate FR (%)")
    ax.set_ylabel("chrF gain over the backbone")
    ax.set_title("Translation gain vs. forgetting")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
