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


def coerce(annotation, value, key: str):
    """`value` read from YAML, JSON or `--set`, converted to the field's annotated type where the
    reader could not: YAML reads 1e-3 (no dot) as a string, JSON writes --set x=1e2 as 100.0
    and has no tuples. Numbers in numeric fields and in lists of numbers, whole numbers in int
    fields (3e3, 100.0) and lists in tuple fields are converted; anything else passes through
    unchanged for `check_types` (or the spec's own checks) to judge."""
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)  # a module without
    kinds = [k.strip() for k in text.split("|")]  # `from __future__ import annotations` gives int, not "int"
    tuples = [k for k in kinds if k.startswith("tuple[")]
    if isinstance(value, list) and tuples:
        inner = tuples[0][len("tuple["):-1].split(", ")[0]
        try:
            return tuple(coerce(inner, v, key) for v in value)
        except ValueError:
            raise ValueError(f"{key} must be a list of {'whole numbers' if inner == 'int' else 'numbers'}, "
                             f"got {value!r}") from None
    if "int" in kinds and (isinstance(value, str) or isinstance(value, float) and value.is_integer()):
        number = _number(value)
        if number is None or not number.is_integer():
            raise ValueError(f"{key} must be a whole number, e.g. 64 or 1e4, got {value!r}")
        return int(number)
    if "float" in kinds and isinstance(value, str):
        number = _number(value)
        if number is None:
            raise ValueError(f"{key} must be a number, e.g. 1e-3, got {value!r}")
        return number
    return value


def _number(text) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def check_name(value: str, what: str) -> str:
    """A name that becomes a folder: letters, digits, '.', '_', '+', '-', not starting with '.'
    (so it can never climb out of its parent folder)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"{what} must be a name of letters, digits, '.', '_', '+' or '-' that does not start "
                         f"with '.', got {value!r}")
    return value
