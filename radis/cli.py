"""What the stage entry points share: errors as one line, the thread count, idling."""

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from radis.core.io import RadisError, Schema, write_table
from radis.core.params import sdrrl_data


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
