"""Stage toy-dictionary: the toy world's bilingual dictionaries, in MUSE's format."""

from pathlib import Path

import typer

from radis.cli import stage_errors
from radis.core.io import atomic_path
from radis.core.params import base
from radis.sdrrl.codeswitch import reverse_pairs
from radis.toy.sdrrl import dictionary, muse_text, toy_languages

app = typer.Typer(add_completion=False)


@app.command()
def main(out: Path = Path("data/toy/dictionaries")) -> None:
    """Write OUT/en-<lang>.txt and OUT/<lang>-en.txt for every toy language in base.languages.

    Real languages get none: their dictionaries are fetched (``fetch.hub.dictionaries``).
    """
    with stage_errors():
        b = base()
        with atomic_path(out) as tmp:
            tmp.mkdir()
            for lang in toy_languages(b.languages):
                pairs = dictionary(lang, b.seed)
                (tmp / f"en-{lang}.txt").write_text(muse_text(pairs))
                (tmp / f"{lang}-en.txt").write_text(muse_text(reverse_pairs(pairs)))


if __name__ == "__main__":
    app()
