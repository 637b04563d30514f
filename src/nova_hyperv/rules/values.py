"""Reading loosely typed request values (image properties, extra specs, options).

Glance properties and flavor extra specs arrive as strings, Nova objects give ints and
bools, and a user may type anything at all. Every rule reads its inputs through these
helpers, so that whatever arrives becomes either the typed value the rule wants or one
RuleViolation naming the key: never a TypeError from deep inside a rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from nova_hyperv.rules.errors import RuleViolation

__all__ = ["Spot", "number", "text", "to_bool", "to_int", "whole"]

_INT = re.compile(r"^[+-]?[0-9]{1,30}$")
_FLOAT = re.compile(r"^[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})$")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


@dataclass(frozen=True)
class Spot:
    """Where a value sits: enough to name it in an error."""

    source: str  # "image property", "flavor extra spec", "[hyperv] option", ...
    field: str
    code: str
    allowed: str

    def fail(self, value: object, reason: str, *, code: str | None = None) -> RuleViolation:
        return RuleViolation(
            code or self.code, self.field, value, self.allowed, reason, source=self.source
        )


def text(mapping: Mapping[str, object], spot: Spot) -> str | None:
    """The stripped text under spot.field; None when absent or blank (blank = unset)."""
    value = mapping.get(spot.field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise spot.fail(value, "must be text")
    stripped = value.strip()
    return stripped or None


def to_int(
    value: object,
    spot: Spot,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """A whole number from an int or its decimal text, within [minimum, maximum]."""
    if isinstance(value, bool):
        raise spot.fail(value, "must be a whole number, not a boolean")
    if isinstance(value, int):
        number_ = value
    elif isinstance(value, float) and value.is_integer():
        number_ = int(value)
    elif isinstance(value, str) and _INT.match(value.strip()):
        number_ = int(value.strip())
    else:
        raise spot.fail(value, "must be a whole number")
    if minimum is not None and number_ < minimum:
        raise spot.fail(value, f"must be at least {minimum}")
    if maximum is not None and number_ > maximum:
        raise spot.fail(value, f"must be at most {maximum}")
    return number_


def whole(
    mapping: Mapping[str, object],
    spot: Spot,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """to_int of spot.field in mapping; None when absent or blank."""
    value = mapping.get(spot.field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return to_int(value, spot, minimum=minimum, maximum=maximum)


def number(value: object, spot: Spot) -> float:
    """A finite real number from an int, float or decimal text."""
    if isinstance(value, bool):
        raise spot.fail(value, "must be a number, not a boolean")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and _FLOAT.match(value.strip()):
        result = float(value.strip())
    else:
        raise spot.fail(value, "must be a number")
    if not math.isfinite(result):
        raise spot.fail(value, "must be a finite number")
    return result


def to_bool(value: object, spot: Spot) -> bool:
    """A boolean from a bool or the usual words (true/false, yes/no, on/off, 1/0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise spot.fail(value, "must be true or false")
