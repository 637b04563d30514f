"""The errors a CimSession raises, whichever adapter is behind it.

Callers branch on the type (a missing object, a refused method, a failed job), never on
an adapter's own exception or on HRESULT numbers; the HRESULT and the method's return
code stay on the exception for logs and for the rare caller that needs them.
"""

from __future__ import annotations

__all__ = [
    "CimConnectionError",
    "CimError",
    "CimInvalidClass",
    "CimInvalidProperty",
    "CimInvalidQuery",
    "CimInvalidState",
    "CimJobFailed",
    "CimJobTimeout",
    "CimMethodFailed",
    "CimNotFound",
    "CimNotSupported",
    "error_for_hresult",
]

# WBEMSTATUS codes (wbemcli.h) and the RPC code of an unreachable server.
WBEM_E_NOT_FOUND = 0x80041002
WBEM_E_INVALID_PARAMETER = 0x80041008
WBEM_E_NOT_SUPPORTED = 0x8004100C
WBEM_E_INVALID_NAMESPACE = 0x8004100E
WBEM_E_INVALID_CLASS = 0x80041010
WBEM_E_INVALID_QUERY = 0x80041017
WBEM_E_INVALID_METHOD = 0x8004102E
WBEM_E_INVALID_PROPERTY = 0x80041031
RPC_S_SERVER_UNAVAILABLE = 0x800706BA

# Method return codes that mean "not in a state to do that": DMTF's Invalid State (the
# VSMS methods) and Hyper-V's vendor 32775 (RequestStateChange, the image service).
INVALID_STATE_CODES = frozenset({5, 32775})


class CimError(Exception):
    """A CIM operation failed. `hresult` is the WMI status code when there is one."""

    def __init__(self, message: str, *, hresult: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hresult = hresult


class CimConnectionError(CimError):
    """The host (or the namespace) cannot be reached at all."""


class CimNotFound(CimError):
    """The object named by a path does not exist (any more)."""


class CimInvalidClass(CimError):
    """This host has no such class or namespace: a feature of another Windows build."""


class CimNotSupported(CimError):
    """The host does not implement this method."""


class CimInvalidQuery(CimError):
    """The WQL text was refused (or cannot be sent through this adapter)."""


class CimInvalidProperty(CimError):
    """The class has no property of that name (on this Windows build)."""


class CimMethodFailed(CimError):
    """A method ran and returned a failure code (synchronously, without a job)."""

    def __init__(self, method: str, target: str, return_value: int, detail: str = "") -> None:
        text = f"{method} on {target} returned {return_value}"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.method = method
        self.target = target
        self.return_value = return_value


class CimInvalidState(CimMethodFailed):
    """The object is not in a state that allows the method (32775, or DMTF 5)."""


class CimJobFailed(CimError):
    """A job ended in failure; `error_code` is Hyper-V's code (32775 invalid state ...)."""

    def __init__(self, what: str, job: str, job_state: int, error_code: int,
                 description: str) -> None:
        super().__init__(
            f"{what} failed (job state {job_state}, error {error_code}): "
            f"{description or 'no description'}"
        )
        self.what = what
        self.job = job
        self.job_state = job_state
        self.error_code = error_code
        self.description = description

    @property
    def invalid_state(self) -> bool:
        return self.error_code in INVALID_STATE_CODES


class CimJobTimeout(CimError):
    """A job did not finish in the time allowed (it was asked to stop)."""

    def __init__(self, what: str, job: str, timeout: float) -> None:
        super().__init__(f"{what} did not finish within {timeout:g} s (job {job})")
        self.what = what
        self.job = job
        self.timeout = timeout


_BY_HRESULT: dict[int, type[CimError]] = {
    WBEM_E_NOT_FOUND: CimNotFound,
    WBEM_E_INVALID_CLASS: CimInvalidClass,
    WBEM_E_INVALID_NAMESPACE: CimInvalidClass,
    WBEM_E_NOT_SUPPORTED: CimNotSupported,
    WBEM_E_INVALID_METHOD: CimNotSupported,
    WBEM_E_INVALID_QUERY: CimInvalidQuery,
    WBEM_E_INVALID_PROPERTY: CimInvalidProperty,
    RPC_S_SERVER_UNAVAILABLE: CimConnectionError,
}


def error_for_hresult(hresult: int | None, message: str) -> CimError:
    """Our typed error for a WMI status code (signed or unsigned)."""
    code = None if hresult is None else hresult & 0xFFFFFFFF
    kind = _BY_HRESULT.get(code, CimError) if code is not None else CimError
    shown = f" (0x{code:08X})" if code is not None else ""
    return kind(f"{message}{shown}", hresult=code)
