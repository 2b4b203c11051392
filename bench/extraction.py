"""Accuracy of :func:`radis.generate.extraction.extract` on the labelled chat outputs.

Usage, from the repository root (no model is loaded; it runs in a second):
    .venv/bin/python bench/extraction.py [--data tests/data/extraction.jsonl] [--no-target]

The set holds replies written in the styles of the three paper backbones (LLaMA-2-7B-Chat,
Mistral-7B-Instruct-v0.2, Qwen2.5-7B-Instruct) to the translation instructions (cs, de, ru, zh
with English, both ways) and the CoCoA-MT formality prompts, each with the translation a human
would extract. ``batch`` says when an item was written: 1 together with the rules, 2 after the
rules were frozen (its misses then became rules), 3 after that, with the rules frozen again.
Printed: exact-match accuracy overall, per model style and per batch; per model how many
replies needed a non-trivial rule (the translation is not the first line as it stands) and
which rules fired; then every miss. ``--no-target`` extracts without the target language, as
callers that do not know it do.
"""

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radis.generate.extraction import extract  # noqa: E402


def load(path: Path) -> list[dict]:
    """The labelled items of ``path`` (JSON lines)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def report(items: list[dict], use_target: bool = True) -> list[str]:
    """The lines this script prints."""
    found = [extract(it["output"], it["tgt_lang"] if use_target else None) for it in items]
    right = [f.text == it["expected"] for f, it in zip(found, items)]
    lines = [f"overall: {accuracy(right)}"]
    for key in ("model", "batch"):
        groups = defaultdict(list)
        for it, ok in zip(items, right):
            groups[it[key]].append(ok)
        lines += [f"{key} {name}: {accuracy(oks)}" for name, oks in sorted(groups.items())]
    for model in sorted({it["model"] for it in items}):
        mine = [f for f, it in zip(found, items) if it["model"] == model]
        rules = Counter(r for f in mine for r in f.rules)
        hard = sum(not f.trivial for f in mine)
        fired = ", ".join(f"{r} {n}" for r, n in sorted(rules.items()))
        lines.append(f"non-trivial {model}: {hard}/{len(mine)} ({fired})")
    for f, it, ok in zip(found, items, right):
        if not ok:
            lines.append(f"miss {it['id']}: got {f.text!r}, expected {it['expected']!r}")
    return lines


def accuracy(oks: list[bool]) -> str:
    """``right/total (percent)``."""
    return f"{sum(oks)}/{len(oks)} ({100 * sum(oks) / len(oks):.1f} %)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("tests/data/extraction.jsonl"))
    ap.add_argument("--no-target", action="store_true", help="extract without tgt_lang")
    args = ap.parse_args()
    print("\n".join(report(load(args.data), use_target=not args.no_target)))


if __name__ == "__main__":
    main()
