"""The CimSession seam between the Hyper-V client and a CIM host (real or emulated).

`connect(host_uri)` opens the session `[hyperv] host_uri` names: `emulated:///path`
(the emulated host's engine, in process) or `wmi://.` (PyMI's `wmi` on Windows). See
`cim.base` for the interface and its conventions, `cim.errors` for what it raises and
`cim.wql` for building queries from untrusted text.
"""

from __future__ import annotations

from types import ModuleType

from nova_hyperv.cim.base import (
    CIMV2,
    V2,
    CimInstance,
    CimSession,
    MethodResult,
    RoundTripCounter,
    SessionBase,
    count_round_trips,
)
from nova_hyperv.cim.errors import (
    CimConnectionError,
    CimError,
    CimInvalidClass,
    CimInvalidProperty,
    CimInvalidQuery,
    CimInvalidState,
    CimJobFailed,
    CimJobTimeout,
    CimMethodFailed,
    CimNotFound,
    CimNotSupported,
)
from nova_hyperv.cim.wql import (
    ObjectPath,
    build_path,
    like_prefix,
    parse_path,
    quote,
    same_path,
)

__all__ = [
    "CIMV2",
    "V2",
    "CimConnectionError",
    "CimError",
    "CimInstance",
    "CimInvalidClass",
    "CimInvalidProperty",
    "CimInvalidQuery",
    "CimInvalidState",
    "CimJobFailed",
    "CimJobTimeout",
    "CimMethodFailed",
    "CimNotFound",
    "CimNotSupported",
    "CimSession",
    "MethodResult",
    "ObjectPath",
    "RoundTripCounter",
    "SessionBase",
    "build_path",
    "connect",
    "count_round_trips",
    "like_prefix",
    "parse_path",
    "quote",
    "same_path",
]


def connect(scheme: str, path: str | None = None, *,
            wmi_module: ModuleType | None = None) -> CimSession:
    """A session to the host a parsed `[hyperv] host_uri` names.

    scheme "emulated" needs the state file `path`; scheme "wmi" uses PyMI's `wmi`
    module (or `wmi_module`, e.g. the emulator's facade in tests).
    """
    if scheme == "emulated":
        if not path:
            raise CimConnectionError("an emulated host needs the path of its state file")
        from nova_hyperv.cim.emulated import open_emulated

        return open_emulated(path)
    if scheme == "wmi":
        from nova_hyperv.cim.wmi import WmiSession

        try:
            return WmiSession(wmi_module)
        except ImportError as exc:
            raise CimConnectionError(
                "host_uri wmi://. needs PyMI's `wmi` module (pip install PyMI), which "
                f"exists on Windows only: {exc}"
            ) from exc
    raise CimConnectionError(f"unknown host scheme {scheme!r}; expected emulated or wmi")
