"""The CimSession adapter over PyMI's `wmi` module (Windows), or any module like it.

On a Hyper-V host `[hyperv] host_uri = wmi://.` uses PyMI (`pip install PyMI`), which
speaks MI/DCOM to the local WMI service. On Linux the same code runs against the
emulator's PyMI-compatible facade (`hyperv_emulator.wmi`), which is how CI covers this
path. What this adapter has to know about PyMI (read from cloudbase/PyMI, wmi/__init__.py
and MI/MI++.cpp):

- `conn.query(text)` doubles every backslash before sending, so a query is handed over
  with its backslash runs halved; a run of odd length (a backslash-escaped quote, which
  `cim.wql.quote` produces only for text holding both quote marks) cannot be sent and
  is refused with CimInvalidQuery.
- A method call returns a tuple of every output parameter *including ReturnValue*,
  sorted by name; the names themselves are not returned, and PyMI's parameter sets hold
  only the IN parameters (MI++ NewMethodParamsInstance), so the output names come from
  `OUTPUTS` below (Microsoft's MOF for each method we call; a unit test checks the
  table against the emulated host's schema).
- A reference argument must be a path string: PyMI fetches the object it names (one
  more round trip per reference). An embedded-instance argument is sent as the
  instance's CIM-XML text (`GetText_(1)`).
- Reading a reference property fetches the referenced object (a round trip); read the
  two ends of an association from its path instead (`cim.wql.parse_path`).
- Failures are `wmi.x_wmi` with the HRESULT in `com_error.excepinfo[5]` (signed).
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from nova_hyperv.cim.base import V2, CimInstance, MethodResult, RoundTripCounter, SessionBase
from nova_hyperv.cim.errors import (
    CimError,
    CimInvalidProperty,
    CimInvalidQuery,
    CimNotFound,
    CimNotSupported,
    error_for_hresult,
)
from nova_hyperv.cim.pipes import SerialPipe, open_windows_pipe
from nova_hyperv.cim.wql import parse_path

__all__ = ["OBJECT_INPUTS", "OUTPUTS", "WmiSession", "output_names", "pymi_query_text"]

# Output parameters (without ReturnValue) of the methods the driver calls, by method
# name; (class, method) entries override where two classes share a method name.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "definesystem": ("Job", "ResultingSystem"),
    "destroysystem": ("Job",),
    "modifysystemsettings": ("Job",),
    "addresourcesettings": ("Job", "ResultingResourceSettings"),
    "modifyresourcesettings": ("Job", "ResultingResourceSettings"),
    "removeresourcesettings": ("Job",),
    "addfeaturesettings": ("Job", "ResultingFeatureSettings"),
    "modifyfeaturesettings": ("Job", "ResultingFeatureSettings"),
    "removefeaturesettings": ("Job",),
    "modifyservicesettings": ("Job",),
    "getsummaryinformation": ("SummaryInformation",),
    "requeststatechange": ("Job",),
    "initiateshutdown": (),
    "initiatereboot": (),
    "geterror": ("Error",),
    "geterrorex": ("Errors",),
    "get": ("cmdletOutput",),
    "getdeviceproperties": ("deviceProperties",),
    # vTPM and shielded VM provisioning (Msvm_SecurityService, root/msps)
    "setkeyprotector": ("Job",),
    "setsecuritypolicy": ("Job",),
    "modifysecuritysettings": ("Job",),
    "populatefromfile": ("ProvisioningFile",),
    "serializetofile": (),
    "provisionmachine": ("ProvisioningJob",),
}
# Embedded-instance inputs typed `object` in the MOF (not `string` with EmbeddedInstance):
# PyMI takes its own instance for them, not its CIM-XML text (os-win passes the Msps_FSK
# object to SerializeToFile).
OBJECT_INPUTS: dict[str, frozenset[str]] = {
    "serializetofile": frozenset({"provisioningfile"}),
}
CLASS_OUTPUTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("msvm_concretejob", "requeststatechange"): (),
    # Host storage (root/Microsoft/Windows/Storage, .../SMB, root/WMI): volumes.
    ("msft_iscsitargetportal", "new"): ("CreatedTargetPortal",),
    ("msft_iscsitarget", "connect"): ("CreatediSCSISession",),
    ("msft_iscsitarget", "disconnect"): (),
    ("msft_iscsisession", "unregister"): (),
    ("msft_disk", "refresh"): ("ExtendedStatus",),
    ("msft_storagesetting", "updatehoststoragecache"): (),
    ("msft_smbmapping", "create"): ("CreatedMapping",),
    ("msft_smbmapping", "remove"): (),
    ("msfc_hbafcpinfo", "getfcptargetmapping"): ("Entry", "HBAStatus", "OutEntryCount",
                                                 "TotalEntryCount"),
}


def output_names(class_name: str, method: str) -> tuple[str, ...]:
    """Every output of `class_name.method` as PyMI orders them (ReturnValue included)."""
    key = (class_name.lower(), method.lower())
    if key in CLASS_OUTPUTS:
        names = CLASS_OUTPUTS[key]
    elif method.lower() in OUTPUTS:
        names = OUTPUTS[method.lower()]
    else:
        raise CimNotSupported(
            f"{class_name}.{method}: the wmi adapter does not know this method's output "
            "parameters (add them to nova_hyperv.cim.wmi.OUTPUTS from Microsoft's MOF)"
        )
    return tuple(sorted((*names, "ReturnValue")))


_BACKSLASHES = re.compile(r"\\+")


def pymi_query_text(wql: str) -> str:
    """The text to give PyMI's query() so that WMI receives exactly `wql`."""
    def halve(match: re.Match[str]) -> str:
        run = match.group(0)
        if len(run) % 2:
            raise CimInvalidQuery(
                f"{wql!r} holds a backslash-escaped quote, which PyMI cannot send (it "
                "doubles every backslash); the text holds both quote marks"
            )
        return run[: len(run) // 2]

    return _BACKSLASHES.sub(halve, wql)


class WmiInstance:
    """A view of a PyMI instance (`wmi._Instance`)."""

    __slots__ = ("_object", "_session")

    def __init__(self, session: WmiSession, obj: Any) -> None:
        self._session = session
        self._object = obj

    @property
    def native(self) -> Any:
        return self._object

    @property
    def class_name(self) -> str:
        with self._session.translated("reading a class name"):
            return str(self._object.path().Class)

    @property
    def path(self) -> str:
        with self._session.translated("reading a path"):
            return str(self._object.path_() or "")

    def __getitem__(self, name: str) -> Any:
        with self._session.translated(f"reading {name}"):
            try:
                value = getattr(self._object, name)
            except AttributeError as exc:
                raise CimInvalidProperty(f"{self.class_name} has no property {name!r}") \
                    from exc
        if callable(value) and not isinstance(value, (str, bytes)) and \
                not hasattr(value, "path_"):
            raise CimInvalidProperty(f"{self.class_name}.{name} is a method, not a property")
        return self._session.wrap(value)

    def get(self, name: str, default: Any = None) -> Any:
        value = self[name]
        return default if value is None else value

    def __setitem__(self, name: str, value: Any) -> None:
        # An embedded object property takes PyMI's own instances (os-win sets
        # Msps_FSK.FabricDataPairs so), not our views of them.
        if isinstance(value, WmiInstance):
            value = value.native
        elif isinstance(value, (list, tuple)):
            value = [v.native if isinstance(v, WmiInstance) else v for v in value]
        with self._session.translated(f"setting {name}"):
            setattr(self._object, name, value)

    def __repr__(self) -> str:
        return f"<WmiInstance {self.path or self.class_name}>"


class WmiSession(SessionBase):
    """`module` is PyMI's `wmi` (the default) or a module with its interface."""

    def __init__(self, module: ModuleType | None = None, server: str = ".") -> None:
        self._wmi = module if module is not None else importlib.import_module("wmi")
        self._server = server
        self._connections: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- PyMI plumbing ----------------------------------------------------------------

    @contextmanager
    def translated(self, what: str) -> Iterator[None]:
        try:
            yield
        except CimError:
            raise
        except self._wmi.x_wmi as exc:
            com = getattr(exc, "com_error", None)
            info = getattr(com, "excepinfo", None)
            hresult = info[5] if info and len(info) > 5 and info[5] is not None else \
                getattr(com, "hresult", None)
            message = (info[2] if info and len(info) > 2 and info[2] else None) or \
                getattr(exc, "info", "") or str(exc)
            raise error_for_hresult(hresult, f"{what}: {message}") from exc

    def _connection(self, namespace: str) -> Any:
        key = namespace.replace("\\", "/").strip("/").lower()
        with self._lock:
            conn = self._connections.get(key)
            if conn is None:
                with self.translated(f"connecting to {namespace}"):
                    conn = self._wmi.WMI(moniker=f"//{self._server}/{key}")
                self._connections[key] = conn
            return conn

    def wrap(self, value: Any) -> Any:
        if hasattr(value, "path_") and hasattr(value, "GetText_"):
            return WmiInstance(self, value)
        if isinstance(value, tuple):
            return [self.wrap(v) for v in value]
        return value

    @staticmethod
    def _argument(value: Any) -> Any:
        if isinstance(value, WmiInstance):
            return value.native.GetText_(1)
        if isinstance(value, (list, tuple)):
            return [WmiSession._argument(v) for v in value]
        return value

    # -- the seam ---------------------------------------------------------------------

    @property
    def counters(self) -> RoundTripCounter | None:
        """The facade's counters when running on it; real PyMI counts nothing."""
        session = getattr(self._wmi, "session", None)
        return session().counters if callable(session) else None

    def open_pipe(self, pipe: str, timeout: float = 5.0) -> SerialPipe:
        """The COM port pipe as a Windows named pipe on this host (Windows only)."""
        if sys.platform != "win32" or self._server not in (".", "localhost"):
            raise CimNotSupported(
                f"serial pipe {pipe}: a Hyper-V host's named pipes are opened on the host "
                "itself, from Windows (this process runs on "
                f"{sys.platform}, host {self._server!r})")
        deadline = time.monotonic() + timeout
        while True:
            try:
                return open_windows_pipe(pipe)
            except FileNotFoundError as exc:  # the VM is not running (yet)
                if time.monotonic() >= deadline:
                    raise CimNotFound(f"serial pipe {pipe}: no running VM serves it") from exc
            except OSError as exc:  # ERROR_PIPE_BUSY: another client holds it
                if time.monotonic() >= deadline:
                    raise CimError(f"serial pipe {pipe}: {exc}") from exc
            time.sleep(0.1)

    def query(self, wql: str, namespace: str = V2) -> list[CimInstance]:
        text = pymi_query_text(wql)
        conn = self._connection(namespace)
        with self.translated(f"query {wql!r}"):
            return [WmiInstance(self, obj) for obj in conn.query(text)]

    def get(self, path: str) -> CimInstance:
        with self.translated(f"get {path}"):
            return WmiInstance(self, self._wmi.WMI(moniker=path))

    def invoke(self, target: str | CimInstance, method: str, /, **params: Any) -> MethodResult:
        if isinstance(target, WmiInstance):
            obj, where, class_name = target.native, target.path, target.class_name
        else:
            parsed = parse_path(str(target))
            where, class_name = str(target), parsed.class_name
            if parsed.keys:
                with self.translated(f"get {target}"):
                    obj = self._wmi.WMI(moniker=str(target))
            else:
                conn = self._connection(parsed.namespace or V2)
                with self.translated(f"class {class_name}"):
                    obj = conn.get_class(class_name)
        names = output_names(class_name, method)
        objects = OBJECT_INPUTS.get(method.lower(), frozenset())
        arguments = {name: value.native if name.lower() in objects and
                     isinstance(value, WmiInstance) else self._argument(value)
                     for name, value in params.items()}
        with self.translated(f"{method} on {where}"):
            values = getattr(obj, method)(**arguments)
        values = tuple(values) if isinstance(values, (tuple, list)) else (values,)
        if len(values) != len(names):
            raise CimError(f"{method} on {where} returned {len(values)} values; the wmi "
                           f"adapter expected {len(names)} ({', '.join(names)})")
        outputs = {name: self.wrap(value) for name, value in zip(names, values, strict=True)}
        return_value = int(outputs.pop("ReturnValue") or 0)
        return MethodResult(return_value, outputs)

    def new_instance(self, class_name: str, namespace: str = V2) -> CimInstance:
        conn = self._connection(namespace)
        with self.translated(f"new instance of {class_name}"):
            cls = conn.get_class(class_name)
            if cls is None:
                raise CimError(f"class {class_name} does not exist in {namespace}")
            return WmiInstance(self, cls.new())

    def close(self) -> None:
        with self._lock:
            self._connections.clear()
