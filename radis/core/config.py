"""Reading ``params.yaml`` into typed, validated dataclasses.

Each stage declares the params it reads as a dataclass; :func:`parse` checks that no key is
unknown, that every value has the declared type and that ranges hold, and names the offending
``params.yaml`` field in a one-line :class:`~radis.core.io.RadisError`.
"""

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from radis.core.io import RadisError

T = TypeVar("T")
PARAMS = Path("params.yaml")


def load_params(path: str | Path = PARAMS) -> dict:
    """Load the whole params file as a dict."""
    path = Path(path)
    if not path.is_file():
        raise RadisError(f"{path}: params file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise RadisError(f"{path}: invalid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise RadisError(f"{path}: expected a mapping at the top level")
    return data


def section(params: dict, dotted: str, path: str | Path = PARAMS) -> Any:
    """Return ``params[a][b]...`` for ``dotted`` = ``"a.b"``, with a clear error if absent."""
    node: Any = params
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            raise RadisError(f"{path}: missing field {dotted!r}")
        node = node[key]
    return node


def parse(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from ``data``, validating keys and types.

    Args:
        cls: A dataclass whose fields carry real (not string) type annotations.
        data: The mapping read from YAML.
        where: The field's location for error messages, e.g. ``"params.yaml: train"``.

    Raises:
        RadisError: On an unknown key, a missing required key, a wrong type, or a value that the
            dataclass's ``__post_init__`` rejects (it raises ``ValueError``).
    """
    if not isinstance(data, dict):
        raise RadisError(f"{where}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise RadisError(f"{where}: unknown field(s) {unknown}; expected some of {sorted(fields)}")
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _convert(fields[name].type, value, f"{where}.{name}")
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise RadisError(f"{where}: {err}") from None
    except ValueError as err:
        raise RadisError(f"{where}.{err}") from None


def _convert(typ: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(typ):
        return parse(typ, value, where)
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(typ)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, where)
            except RadisError as err:
                errors.append(str(err))
        raise RadisError(errors[0])
    if origin is typing.Literal:
        if value not in typing.get_args(typ):
            raise RadisError(f"{where}: {value!r} is not one of {list(typing.get_args(typ))}")
        return value
    base = origin or typ
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if base is Any or (isinstance(value, base) and not (base is int and isinstance(value, bool))):
        return value
    hint = " (write floats as 1.0e-4: YAML reads 1e-4 as a string)" if base is float else ""
    raise RadisError(f"{where}: expected {base.__name__}, got {value!r}{hint}")


def positive(**values: float) -> None:
    """Raise ``ValueError("name: must be > 0 ...")`` for the first non-positive value."""
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{name}: must be > 0, got {value}")


def probability(**values: float) -> None:
    """Raise ``ValueError`` unless every value lies in [0, 1]."""
    for name, value in values.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name}: must be in [0, 1], got {value}")
