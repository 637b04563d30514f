"""Reading loosely typed values: text, whole numbers, numbers, booleans."""

from __future__ import annotations

import math

import pytest

from nova_hyperv.rules import RuleViolation
from nova_hyperv.rules.values import Spot, number, text, to_bool, to_int, whole

SPOT = Spot("flavor extra spec", "k", "flavor-invalid", "anything")


@pytest.mark.parametrize(("value", "result"), [(3, 3), ("3", 3), (" 3 ", 3), ("+3", 3),
                                                ("-3", -3), (3.0, 3)])
def test_to_int_accepts(value: object, result: int) -> None:
    assert to_int(value, SPOT) == result


@pytest.mark.parametrize("value", [True, 3.5, "3.0", "", "0x10", "٣", None, [3], "1" * 31])
def test_to_int_refuses(value: object) -> None:
    with pytest.raises(RuleViolation):
        to_int(value, SPOT)


def test_to_int_bounds() -> None:
    assert to_int("5", SPOT, minimum=5, maximum=5) == 5
    with pytest.raises(RuleViolation, match="at least 6"):
        to_int("5", SPOT, minimum=6)
    with pytest.raises(RuleViolation, match="at most 4"):
        to_int("5", SPOT, maximum=4)


@pytest.mark.parametrize(("value", "result"), [(2, 2.0), ("1.5", 1.5), (".5", 0.5),
                                                ("2.", 2.0), (0.25, 0.25)])
def test_number_accepts(value: object, result: float) -> None:
    assert number(value, SPOT) == result


@pytest.mark.parametrize("value", [math.inf, math.nan, "inf", "nan", "1e3", False, "", None])
def test_number_refuses(value: object) -> None:
    with pytest.raises(RuleViolation):
        number(value, SPOT)


@pytest.mark.parametrize(("value", "result"), [(True, True), ("TRUE", True), (" yes ", True),
                                                ("on", True), (1, True), ("false", False),
                                                ("No", False), (0, False), ("off", False)])
def test_to_bool(value: object, result: bool) -> None:
    assert to_bool(value, SPOT) is result


@pytest.mark.parametrize("value", ["maybe", 2, None, 1.0])
def test_to_bool_refuses(value: object) -> None:
    with pytest.raises(RuleViolation):
        to_bool(value, SPOT)


def test_text_and_whole_treat_blank_as_unset() -> None:
    assert text({"k": "  "}, SPOT) is None
    assert text({"k": " a "}, SPOT) == "a"
    assert whole({"k": " "}, SPOT) is None
    assert whole({}, SPOT) is None
    with pytest.raises(RuleViolation, match="must be text"):
        text({"k": 5}, SPOT)
