"""The one error a CIM client sees: a WMI status code (HRESULT) plus a message.

Real WMI reports every failed operation (as opposed to a method that *ran* and
returned a non-zero ReturnValue) as a WBEMSTATUS HRESULT; PyMI turns it into
`x_wmi` with the HRESULT in `com_error.excepinfo[5]`, and clients such as os-win
branch on it (0x80041002 becomes "not found"). The emulator raises `CimError` with
the same codes, taken from Microsoft's WBEMSTATUS enumeration (wbemcli.h).
"""

from __future__ import annotations

WBEM_E_FAILED = 0x80041001
WBEM_E_NOT_FOUND = 0x80041002
WBEM_E_TYPE_MISMATCH = 0x80041005
WBEM_E_INVALID_PARAMETER = 0x80041008
WBEM_E_NOT_SUPPORTED = 0x8004100C
WBEM_E_INVALID_NAMESPACE = 0x8004100E
WBEM_E_INVALID_CLASS = 0x80041010
WBEM_E_INVALID_QUERY = 0x80041017
WBEM_E_ALREADY_EXISTS = 0x80041019
WBEM_E_READ_ONLY = 0x80041023
WBEM_E_INVALID_METHOD = 0x8004102E
WBEM_E_INVALID_METHOD_PARAMETERS = 0x8004102F
WBEM_E_INVALID_PROPERTY = 0x80041031
WBEM_E_INVALID_OBJECT_PATH = 0x8004103A

_NAMES = {
    WBEM_E_FAILED: "WBEM_E_FAILED",
    WBEM_E_NOT_FOUND: "WBEM_E_NOT_FOUND",
    WBEM_E_TYPE_MISMATCH: "WBEM_E_TYPE_MISMATCH",
    WBEM_E_INVALID_PARAMETER: "WBEM_E_INVALID_PARAMETER",
    WBEM_E_NOT_SUPPORTED: "WBEM_E_NOT_SUPPORTED",
    WBEM_E_INVALID_NAMESPACE: "WBEM_E_INVALID_NAMESPACE",
    WBEM_E_INVALID_CLASS: "WBEM_E_INVALID_CLASS",
    WBEM_E_INVALID_QUERY: "WBEM_E_INVALID_QUERY",
    WBEM_E_ALREADY_EXISTS: "WBEM_E_ALREADY_EXISTS",
    WBEM_E_READ_ONLY: "WBEM_E_READ_ONLY",
    WBEM_E_INVALID_METHOD: "WBEM_E_INVALID_METHOD",
    WBEM_E_INVALID_METHOD_PARAMETERS: "WBEM_E_INVALID_METHOD_PARAMETERS",
    WBEM_E_INVALID_PROPERTY: "WBEM_E_INVALID_PROPERTY",
    WBEM_E_INVALID_OBJECT_PATH: "WBEM_E_INVALID_OBJECT_PATH",
}


class CimError(Exception):
    """A failed CIM operation, carrying the WMI HRESULT a real host would return."""

    def __init__(self, hresult: int, message: str) -> None:
        super().__init__(message)
        self.hresult = hresult
        self.message = message

    @property
    def name(self) -> str:
        return _NAMES.get(self.hresult, f"0x{self.hresult:08X}")

    def __str__(self) -> str:
        return f"{self.name} (0x{self.hresult:08X}): {self.message}"


def not_found(what: str) -> CimError:
    return CimError(WBEM_E_NOT_FOUND, f"{what} does not exist")


def invalid_class(name: str, namespace: str) -> CimError:
    return CimError(
        WBEM_E_INVALID_CLASS, f"class {name} does not exist in namespace {namespace}"
    )


def invalid_property(class_name: str, prop: str) -> CimError:
    return CimError(
        WBEM_E_INVALID_PROPERTY, f"{class_name} has no property named {prop!r}"
    )


def invalid_query(query: str, reason: str) -> CimError:
    return CimError(WBEM_E_INVALID_QUERY, f"invalid query ({reason}): {query}")
