"""SDRRL's per-language tables (paper Tables 2-5) from ``dvc exp show --json``.

The paper trains one model per target language; here that is one experiment per language
(``configs/sdrrl.yaml``). This reads every experiment's ``base.languages`` (one code) and the
``multilingual`` scores of each model it evaluated, and writes one Markdown table per score:
a row per model, a column per language and their average, as the paper lays them out (the
target language's score, then English's). Run::

    dvc exp show --json > exps.json && python -m radis.evaluate.sdrrl_table exps.json
"""

import json
import re
from pathlib import Path

import typer

from radis.core.io import RadisError

#: (title, score key of the target language, score key of English); ``{x}`` is the language.
SCORES = [
    ("BELEBELE accuracy", "belebele.{x}", "belebele.en"),
    ("FLORES BLEU, X to English", "flores.{x}-en.bleu", None),
    ("FLORES BLEU, English to X", "flores.en-{x}.bleu", None),
    ("FLORES COMET, X to English", "flores.{x}-en.comet", None),
    ("FLORES COMET, English to X", "flores.en-{x}.comet", None),
    ("XL-SUM ROUGE-1", "xlsum.{x}.rouge1", "xlsum.en.rouge1"),
    ("XL-SUM ROUGE-L", "xlsum.{x}.rougeL", "xlsum.en.rougeL"),
    ("MKQA F1", "mkqa.{x}.f1", "mkqa.en.f1"),
]
_METRICS = re.compile(r"metrics/eval/([^/]+)/multilingual\.json$")


def experiments(shown) -> list[tuple[str, dict, dict]]:
    """Every experiment of ``dvc exp show --json``: (name, params.yaml, {model: scores})."""
    out = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "params" in data and "metrics" in data:
                params = (data["params"] or {}).get("params.yaml", {}).get("data", {})
                scores = {
                    m.group(1): (v or {}).get("data", {})
                    for path, v in (data["metrics"] or {}).items()
                    if (m := _METRICS.search(path))
                }
                out.append((node.get("name") or node.get("rev", "?"), params, scores))
            for value in node.values():
                walk(value)

    walk(shown)
    return out


def by_language(shown) -> dict[str, dict[str, dict]]:
    """``{language: {model: scores}}`` over the experiments trained on a single language.

    Raises:
        RadisError: If two experiments hold the same language (name both).
    """
    out, seen = {}, {}
    for name, params, scores in experiments(shown):
        langs = params.get("base", {}).get("languages", [])
        if len(langs) != 1 or not scores:
            continue
        (lang,) = langs
        if lang in out and out[lang] != scores:
            raise RadisError(
                f"sdrrl_table: experiments {seen[lang]!r} and {name!r} both train {lang}"
            )
        out[lang], seen[lang] = scores, name
    return out


def _cell(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def _table(title: str, key: str, results: dict, langs: list[str], models: list[str]) -> str:
    head = f"**{title}**\n\n| model | " + " | ".join(langs) + " | avg |\n"
    head += "|---" * (len(langs) + 2) + "|\n"
    lines = []
    for model in models:
        values = [results[x].get(model, {}).get(key.format(x=x)) for x in langs]
        known = [v for v in values if v is not None]
        mean = sum(known) / len(known) if known else None
        lines.append(f"| {model} | " + " | ".join(map(_cell, values + [mean])) + " |")
    return head + "\n".join(lines) + "\n"


def tables(results: dict[str, dict[str, dict]]) -> str:
    """The Markdown tables, languages in sorted order, models in first-seen order."""
    if not results:
        raise RadisError("sdrrl_table: no experiment trained on a single language has scores")
    langs = sorted(results)
    models = list(dict.fromkeys(m for x in langs for m in results[x]))
    parts = []
    for title, target, english in SCORES:
        parts.append(_table(f"{title}, target language", target, results, langs, models))
        if english:
            parts.append(_table(f"{title}, English", english, results, langs, models))
    return "\n".join(parts)


def main(shown: Path, out: Path | None = None) -> None:
    """Write the tables of SHOWN (``dvc exp show --json``) to OUT, or print them."""
    try:
        text = tables(by_language(json.loads(shown.read_text())))
    except (RadisError, json.JSONDecodeError, OSError) as err:
        typer.echo(f"error: {shown}: {err}", err=True)
        raise typer.Exit(1) from None
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)


if __name__ == "__main__":
    typer.run(main)
