"""Report: per-method metrics with the forgetting rate, and a table like the paper's Table 1."""

import sys

from radis.io import RadisError
from radis.metrics import forgetting_rate, general_benchmarks


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


def table(rows: dict[str, dict[str, float]]) -> str:
    """A markdown table, one row per model (the backbone first).

    Columns: translation by direction group, each general task, FR and preservation.
    """
    tasks = sorted({k for r in rows.values() for k in general_benchmarks(r)})
    cols = [
        "mt.xx-en.bleu",
        "mt.xx-en.chrf",
        "mt.en-xx.bleu",
        "mt.en-xx.chrf",
        *tasks,
        "fr",
        "preservation",
    ]
    names = [
        "X→EN BLEU",
        "X→EN chrF",
        "EN→X BLEU",
        "EN→X chrF",
        *[t.split(".", 1)[1] for t in tasks],
        "FR ↓",
        "Preservation ↑",
    ]
    lines = ["| model | " + " | ".join(names) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in rows.items():
        cells = [f"{r[c]:.2f}" if r.get(c) is not None else "–" for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
