"""Assignments are coerced to the declared CIM type the way MI does, or refused."""

from __future__ import annotations

import datetime as dt

import pytest

from hyperv_emulator.cimtypes import (
    coerce,
    format_datetime,
    format_interval,
    parse_datetime,
    parse_interval,
)
from hyperv_emulator.errors import WBEM_E_TYPE_MISMATCH, CimError


@pytest.mark.parametrize(
    ("cim_type", "value", "expected"),
    [
        ("string", 3, "3"),  # os-win: AddressOnParent = 3
        ("string", True, "True"),
        ("boolean", "True", True),  # os-win: StaticMacAddress = 'True'
        ("boolean", "false", False),
        ("boolean", 1, True),
        ("uint64", "1073741824", 1073741824),  # os-win: VRAMSizeBytes as a string
        ("uint16", " 7 ", 7),
        ("uint16", 2.0, 2),
        ("sint8", "-5", -5),
        ("real64", "1.5", 1.5),
        ("char16", 65, "A"),
        ("datetime", dt.timedelta(seconds=120), "00000000000200.000000:000"),
    ],
)
def test_mi_style_conversions(cim_type: str, value: object, expected: object) -> None:
    assert coerce(cim_type, False, value, "X.P") == expected


@pytest.mark.parametrize(
    ("cim_type", "array", "value", "fragment"),
    [
        ("uint16", False, 70000, "0..65535"),
        ("uint8", False, -1, "0..255"),
        ("uint32", False, "12a", "uint32"),
        ("boolean", False, "maybe", "True/False"),
        ("string", True, "not-a-list", "takes a list"),
        ("uint16", False, [1], "uint16"),
        ("datetime", False, "yesterday", "yyyymmdd"),
        ("ref", False, "Msvm_X.", "reference"),
        ("char16", False, "AB", "one character"),
    ],
)
def test_refusals_name_property_value_and_type(cim_type: str, array: bool, value: object,
                                               fragment: str) -> None:
    with pytest.raises(CimError) as info:
        coerce(cim_type, array, value, "Msvm_X.Prop")
    assert info.value.hresult == WBEM_E_TYPE_MISMATCH
    assert "Msvm_X.Prop" in info.value.message and fragment in info.value.message


def test_arrays_become_tuples_and_bytes_fill_uint8_arrays() -> None:
    assert coerce("uint16", True, [1, "2"], "X.P") == (1, 2)
    assert coerce("uint8", True, b"\x01\x02", "X.P") == (1, 2)
    assert coerce("string", True, [], "X.P") == ()
    assert coerce("string", True, None, "X.P") is None


def test_references_are_kept_as_canonical_paths() -> None:
    text = '\\\\H\\root\\virtualization\\v2:Msvm_X.InstanceID="a\\\\b"'
    assert coerce("ref", False, text.replace("\\", "/"), "X.P") == text


def test_datetime_and_interval_formats_round_trip() -> None:
    moment = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    text = format_datetime(moment)
    assert text == "20240506070809.123456-120"
    assert parse_datetime(text) == moment
    span = dt.timedelta(days=1, minutes=30, microseconds=5)
    assert format_interval(span) == "00000001003000.000005:000"
    assert parse_interval(format_interval(span)) == span
    assert format_interval(dt.timedelta(minutes=30)) == "00000000003000.000000:000"
    with pytest.raises(ValueError):
        format_interval(dt.timedelta(seconds=-1))
    with pytest.raises(ValueError):
        parse_datetime("00000000003000.000000:000")
