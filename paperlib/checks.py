"""Type checks for frozen config dataclasses: every field's value must be of its annotated
type (a bool is not a number, a float is not a whole number, no NaN or infinity), with a
one-line error naming the field, the value and what is accepted."""

from __future__ import annotations

import math
import re
from dataclasses import fields

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def _accepts(kind: str, value) -> bool:
    if kind == "None":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "str":
        return isinstance(value, str)
    if kind.startswith("tuple["):
        inner = kind[len("tuple["):-1].split(", ")[0]
        return isinstance(value, tuple) and all(_accepts(inner, v) for v in value)
    if kind == "dict":
        return isinstance(value, dict)
    return True  # nested configs and specs check themselves


_WORDS = {"int": "a whole number", "float": "a finite number", "str": "a string", "bool": "true or false",
          "None": "null", "dict": "a mapping"}


def check_types(obj, prefix: str = "") -> None:
    """Raise ValueError for the first field of the dataclass `obj` whose value is not of its
    annotated type (annotations as strings: "int", "float | None", "tuple[float, float]")."""
    for f in fields(obj):
        kinds = [k.strip() for k in str(f.type).split("|")]
        value = getattr(obj, f.name)
        if not any(_accepts(k, value) for k in kinds):
            wanted = " or ".join(_WORDS.get(k, f"a list of {_WORDS.get(k[6:-1].split(', ')[0], 'values')}"
                                            if k.startswith("tuple[") else k) for k in kinds)
            raise ValueError(f"{prefix}{f.name} must be {wanted}, got {value!r}")


def check_name(value: str, what: str) -> str:
    """A name that becomes a folder: letters, digits, '.', '_', '+', '-', not starting with '.'
    (so it can never climb out of its parent folder)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"{what} must be a name of letters, digits, '.', '_', '+' or '-' that does not start "
                         f"with '.', got {value!r}")
    return value
