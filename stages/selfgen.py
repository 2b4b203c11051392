"""Stage selfgen: the backbone's own translations (Seq-KD) or rewrites (SDFT) of training pairs."""

from pathlib import Path

import typer

from radis.cli import skip_unless, stage_errors
from radis.core.io import read_table, write_table
from radis.core.params import base, params
from radis.core.schemas import SELFGEN, TRANSLATION
from radis.data.selfgen import SelfGenConfig, check_kind, self_generate
from radis.generate.serve import open_backend

app = typer.Typer(add_completion=False)


@app.command()
def main(
    kind: str = typer.Argument(..., help="translate (Seq-KD) or rewrite (SDFT)."),
    data: Path = Path("data/fetch/translation.parquet"),
    out_dir: Path = Path("data/selfgen"),
) -> None:
    """Write OUT_DIR/KIND.parquet."""
    with stage_errors():
        check_kind(kind)
        out = out_dir / f"{kind}.parquet"
        cfg = params("selfgen", SelfGenConfig)
        if skip_unless(kind in cfg.kinds, f"selfgen.kinds does not list {kind}", (out, SELFGEN)):
            return
        b = base()
        rows = read_table(data, TRANSLATION)
        backend = open_backend(b, b.model_dir, f"selfgen@{kind}")
        table = self_generate(kind, rows[rows.split == "train"], backend, cfg, b.seed)
        write_table(table, out, SELFGEN)
        backend.clean()


if __name__ == "__main__":
    app()
