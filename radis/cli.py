"""What the stage entry points share: arguments, errors as one line, the thread count, idling.

The arguments and options every stage that takes them declares the same way (``typing.Annotated``
aliases, so ``--help`` shows one text everywhere): ``name: ModelName``, ``model: ModelOption =
""``, ``adapter: AdapterOption = ""``, ``method: MethodName``.
"""

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from radis.core.io import RadisError, Schema, write_table
from radis.core.params import sdrrl_data

#: NAME: the model a stage evaluates (its folder data/models/NAME, its outputs' NAME folders).
ModelName = Annotated[
    str,
    typer.Argument(
        help="Model: backbone or a method of params methods (data/models/NAME).",
        show_default=False,
    ),
]
#: --model: another folder to load in place of data/models/NAME.
ModelOption = Annotated[
    str, typer.Option("--model", help="Model folder instead of NAME's (data/models/NAME).")
]
#: --adapter: a LoRA adapter to serve on --model.
AdapterOption = Annotated[
    str, typer.Option("--adapter", help="LoRA adapter folder on MODEL (default: the backbone).")
]
#: METHOD: a fine-tuning method of params ``methods``.
MethodName = Annotated[
    str, typer.Argument(help="Method: one of params methods.", show_default=False)
]


@contextlib.contextmanager
def stage_errors() -> Iterator[None]:
    """Report a :class:`RadisError` as one line on stderr and exit 1, without a traceback."""
    threads = os.environ.get("RADIS_THREADS")
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    try:
        yield
    except RadisError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)


def skip_unless(wanted: bool, why: str, *tables: tuple[Path, Schema]) -> bool:
    """Write empty ``tables`` and say ``why`` when the stage is not ``wanted``; True if skipped.

    A stage whose output no listed method reads idles in a second instead of loading models.
    """
    if wanted:
        return False
    for path, schema in tables:
        write_table([], path, schema)
    print(f"{why}: wrote empty tables", file=sys.stderr)
    return True


def skip_sdrrl(*tables: tuple[Path, Schema]) -> bool:
    """:func:`skip_unless` SDRRL's data is wanted (its stages need MT and QE models)."""
    return skip_unless(sdrrl_data(), "selfanswer.enabled is false", *tables)
