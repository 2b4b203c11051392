"""Report: per-method metrics with the forgetting rate, and a table like the paper's Table 1."""

import sys
from pathlib import Path

from radis.io import RadisError, read_json
from radis.metrics import forgetting_rate, general_benchmarks


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
}


def table(rows: dict[str, dict[str, float]]) -> str:
    """A markdown table, one row per model (the backbone first).

    Columns: translation by direction group, each general task, the target-language averages of
    the ``multilingual`` suite where a model has them (``<task> X``: the general task asked in
    the toy languages), FR and preservation.
    """
    tasks = sorted({k for r in rows.values() for k in general_benchmarks(r)})
    names_x = {f"{t}.xx": f"{t.split('.', 1)[1]} X" for t in tasks} | MULTILINGUAL_COLUMNS
    extra = [c for c in names_x if any(c in r for r in rows.values())]
    cols = [
        "mt.xx-en.bleu",
        "mt.xx-en.chrf",
        "mt.en-xx.bleu",
        "mt.en-xx.chrf",
        *tasks,
        *extra,
        "fr",
        "preservation",
    ]
    names = [
        "X→EN BLEU",
        "X→EN chrF",
        "EN→X BLEU",
        "EN→X chrF",
        *[t.split(".", 1)[1] for t in tasks],
        *[names_x[c] for c in extra],
        "FR ↓",
        "Preservation ↑",
    ]
    lines = ["| model | " + " | ".join(names) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in rows.items():
        cells = [f"{r[c]:.2f}" if r.get(c) is not None else "–" for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(rows: dict[str, dict[str, float]], path) -> dict[str, tuple[float, float]]:
    """The paper's Figure 1: translation chrF against general ability, one point per model.

    General ability is the mean of the general benchmarks (the scores FR is computed from); the
    backbone is drawn as a star, and a dotted cross through it splits better from worse.

    Returns:
        The plotted point (general ability, chrF) of every model.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    points = {}
    for name, r in rows.items():
        general = general_benchmarks(r)
        x = sum(general.values()) / len(general)
        y = r["mt.chrf"]
        points[name] = (x, y)
        if name == "backbone":
            ax.scatter(x, y, marker="*", s=220, color="black", zorder=3)
            ax.axvline(x, ls=":", color="grey")
            ax.axhline(y, ls=":", color="grey")
        else:
            ax.scatter(x, y, s=60, zorder=3)
        ax.annotate(name, (x, y), xytext=(6, 4), textcoords="offset points", fontsize=9)
    ax.set_xlabel("general ability (mean score, %)")
    ax.set_ylabel("translation chrF (mean over directions)")
    ax.set_title("Translation vs. general ability")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return points
