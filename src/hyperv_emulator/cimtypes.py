"""CIM values: coercion to a property's declared type, and the CIM date/time formats.

Clients rely on the server (MI) converting what they assign: os-win writes a Python
int into the string property `AddressOnParent`, the string 'True' into the boolean
`StaticMacAddress` and a string of digits into the uint64 `VRAMSizeBytes`. `coerce`
does those conversions and refuses the rest with WBEM_E_TYPE_MISMATCH, naming the
property, the value and the type, so a client bug surfaces where it is made.

In memory, values are plain Python: integers for every integer type, bool, str for
strings, datetimes and references (a reference is its object path), float for reals,
a tuple for an array, and `Instance` for an embedded object.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from hyperv_emulator.errors import WBEM_E_TYPE_MISMATCH, CimError

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "uint8": (0, 0xFF),
    "sint8": (-0x80, 0x7F),
    "uint16": (0, 0xFFFF),
    "sint16": (-0x8000, 0x7FFF),
    "uint32": (0, 0xFFFFFFFF),
    "sint32": (-0x80000000, 0x7FFFFFFF),
    "uint64": (0, 0xFFFFFFFFFFFFFFFF),
    "sint64": (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF),
}

_INT_TEXT = re.compile(r"^\s*[-+]?\d+\s*$")
# yyyymmddHHMMSS.mmmmmmsUUU (a point in time) and ddddddddHHMMSS.mmmmmm:000 (an
# interval); DSP0004 allows '*' for fields that are not significant.
_DATETIME = re.compile(r"^[\d*]{14}\.[\d*]{6}[+-][\d*]{3}$")
_INTERVAL = re.compile(r"^[\d*]{8}[\d*]{6}\.[\d*]{6}:000$")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _mismatch(where: str, value: Any, cim_type: str, why: str = "") -> CimError:
    suffix = f" ({why})" if why else ""
    return CimError(
        WBEM_E_TYPE_MISMATCH,
        f"{where}: {value!r} is not a valid {cim_type} value{suffix}",
    )


def coerce(cim_type: str, array: bool, value: Any, where: str) -> Any:
    """The value as stored for a property (or parameter) of this type, or CimError."""
    if value is None:
        return None
    if array:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            if isinstance(value, bytes) and cim_type == "uint8":
                return tuple(value)
            raise _mismatch(where, value, f"{cim_type}[]", "an array property takes a list")
        return tuple(coerce_scalar(cim_type, item, where) for item in value)
    return coerce_scalar(cim_type, value, where)


def coerce_scalar(cim_type: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if cim_type in INTEGER_RANGES:
        return _to_int(cim_type, value, where)
    if cim_type == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, (int, float)):
            return str(value)
        raise _mismatch(where, value, cim_type)
    if cim_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _mismatch(where, value, cim_type, "use True/False")
    if cim_type in ("real32", "real64"):
        if isinstance(value, bool):
            raise _mismatch(where, value, cim_type)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _mismatch(where, value, cim_type) from None
    if cim_type == "datetime":
        return _to_datetime(value, where)
    if cim_type == "char16":
        if isinstance(value, str) and len(value) == 1:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF:
            return chr(value)
        raise _mismatch(where, value, cim_type, "one character")
    if cim_type == "ref":
        return _to_ref(value, where)
    if cim_type == "object":
        from hyperv_emulator.instances import Instance

        if isinstance(value, Instance):
            return value
        raise _mismatch(where, value, "embedded object")
    raise _mismatch(where, value, cim_type, "unknown CIM type")


def _to_int(cim_type: str, value: Any, where: str) -> int:
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INT_TEXT.match(value):
        number = int(value.strip())
    else:
        raise _mismatch(where, value, cim_type)
    low, high = INTEGER_RANGES[cim_type]
    if not low <= number <= high:
        raise _mismatch(where, value, cim_type, f"allowed range {low}..{high}")
    return number


def _to_datetime(value: Any, where: str) -> str:
    if isinstance(value, _dt.timedelta):
        return format_interval(value)
    if isinstance(value, _dt.datetime):
        return format_datetime(value)
    if isinstance(value, str) and (_DATETIME.match(value) or _INTERVAL.match(value)):
        return value
    raise _mismatch(
        where, value, "datetime",
        "use yyyymmddHHMMSS.mmmmmm+UUU or the interval ddddddddHHMMSS.mmmmmm:000",
    )


def _to_ref(value: Any, where: str) -> str:
    from hyperv_emulator.instances import Instance
    from hyperv_emulator.paths import parse_path

    if isinstance(value, Instance):
        return str(value.path)
    if isinstance(value, str):
        try:
            return str(parse_path(value))
        except CimError as exc:
            raise _mismatch(where, value, "reference", exc.message) from None
    raise _mismatch(where, value, "reference", "an object path string")


# -- CIM date/time formats ----------------------------------------------------------


def format_datetime(moment: _dt.datetime) -> str:
    """A point in time as CIM writes it: local digits plus the UTC offset in minutes."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    offset = moment.utcoffset() or _dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{moment:%Y%m%d%H%M%S}.{moment.microsecond:06d}{sign}{abs(minutes):03d}"


def parse_datetime(text: str) -> _dt.datetime:
    if not _DATETIME.match(text) or "*" in text:
        raise ValueError(f"{text!r} is not a CIM datetime")
    moment = _dt.datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(
        microsecond=int(text[15:21])
    )
    minutes = int(text[22:25]) * (1 if text[21] == "+" else -1)
    return moment.replace(tzinfo=_dt.timezone(_dt.timedelta(minutes=minutes)))


def format_interval(span: _dt.timedelta) -> str:
    """A duration as a CIM interval: ddddddddHHMMSS.mmmmmm:000 (120 s -> ...000200...)."""
    if span < _dt.timedelta(0):
        raise ValueError("a CIM interval cannot be negative")
    seconds = span.seconds
    return (
        f"{span.days:08d}{seconds // 3600:02d}{seconds % 3600 // 60:02d}"
        f"{seconds % 60:02d}.{span.microseconds:06d}:000"
    )


def parse_interval(text: str) -> _dt.timedelta:
    if not _INTERVAL.match(text) or "*" in text:
        raise ValueError(f"{text!r} is not a CIM interval")
    return _dt.timedelta(
        days=int(text[0:8]),
        hours=int(text[8:10]),
        minutes=int(text[10:12]),
        seconds=int(text[12:14]),
        microseconds=int(text[15:21]),
    )


def now() -> str:
    return format_datetime(_dt.datetime.now(_dt.UTC))
