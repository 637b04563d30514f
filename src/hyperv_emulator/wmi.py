"""A PyMI-compatible `wmi` module over the emulated host.

Code written for PyMI's `wmi` (os-win, and anyone's own WMI scripts) runs unchanged
against an emulated host: point `HYPERV_EMULATOR_STATE` at a host state file (or call
`bind(...)`) and use this module where `import wmi` would be. It reproduces the PyMI
conventions clients depend on:

- `WMI(moniker)`: a namespace moniker (`//./root/virtualization/v2`, `root/cimv2`)
  gives a connection; an object-path moniker gives that instance (a fresh read);
- `conn.Class(fields, Key=value)`: `select fields from Class where Key = 'value'`,
  every value quoted with str() (so booleans read 'True'); `conn.query(wql)` doubles
  every backslash before sending, as PyMI does;
- instances: case-insensitive attributes; a reference property read from an instance
  is fetched as an object, reference arrays come back as path strings, arrays as
  tuples; assigning a property the class lacks raises x_wmi; values are coerced to
  the property type (MI's rules, PyMI's lenient strings for booleans);
- methods: positional arguments fill the input parameters sorted by name, keywords
  by name; a reference argument given as a path is fetched first; the result is a
  tuple of every output (ReturnValue included) sorted by name, references as paths;
- `GetText_(1)` gives DSP0201 CIM-XML, `new()` / `SpawnInstance_()` an empty instance,
  `path_()` / `path().RelPath` / `.Class` the object path, `associators()`;
- failures raise `x_wmi(info, com_error)` with `com_error.excepinfo[2]` the message and
  `[5]` the HRESULT (the classes can be replaced by the client's own, which is how
  `hyperv_emulator.oswin` makes os-win catch them);
- `watch_for(raw_wql=...)` serves `__Instance{Creation,Deletion,Modification}Event`
  queries by polling, and the watcher raises `x_wmi_timed_out` when nothing happens.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hyperv_emulator import wql
from hyperv_emulator.errors import CimError
from hyperv_emulator.host import Host, open_host
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import normalize_namespace
from hyperv_emulator.schema.model import NS_CIMV2, Param, ResolvedClass
from hyperv_emulator.session import Session

__all__ = ["WMI", "bind", "com_error", "session", "unbind", "x_wmi", "x_wmi_timed_out"]

STATE_VARIABLE = "HYPERV_EMULATOR_STATE"
RPC_S_SERVER_UNAVAILABLE = 0x800706BA
WBEM_E_PROVIDER_NOT_CAPABLE = 0x80041024


class x_wmi(Exception):
    def __init__(self, info: str = "", com_error: Any = None) -> None:
        super().__init__(info)
        self.info = info
        self.com_error = com_error

    def __str__(self) -> str:
        return f"<x_wmi: {self.info or 'Unexpected COM Error'} {self.com_error or ''}>"


class x_wmi_timed_out(x_wmi):
    pass


class com_error(Exception):
    def __init__(self, hresult: int, strerror: str, excepinfo: tuple[Any, ...],
                 argerror: Any) -> None:
        super().__init__(strerror)
        self.hresult = hresult
        self.strerror = strerror
        self.excepinfo = excepinfo
        self.argerror = argerror

    def __str__(self) -> str:
        return f"(0x{self.hresult & 0xFFFFFFFF:08X}) {self.strerror}"


_exceptions: dict[str, type[Exception]] = {"x_wmi": x_wmi, "x_wmi_timed_out": x_wmi_timed_out}


def use_exception_classes(error: type[Exception], timed_out: type[Exception]) -> None:
    """Raise the client's own x_wmi classes (os-win defines its own off Windows)."""
    _exceptions["x_wmi"] = error
    _exceptions["x_wmi_timed_out"] = timed_out


def _signed(value: int) -> int:
    return struct.unpack("i", struct.pack("I", value & 0xFFFFFFFF))[0]


def _error(hresult: int, message: str, timed_out: bool = False) -> Exception:
    signed = _signed(hresult)
    com = com_error(signed, message, (0, None, message, None, None, signed), None)
    kind = _exceptions["x_wmi_timed_out" if timed_out else "x_wmi"]
    return kind(message, com)  # type: ignore[call-arg]


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except CimError as exc:
        raise _error(exc.hresult, exc.message) from None


# -- binding ------------------------------------------------------------------------

_lock = threading.RLock()
_bound: dict[str, Any] = {"path": None, "host": None, "session": None}


def bind(host: Host | str | Path) -> Host:
    """Serve this host (a Host or the path of its state file) from now on."""
    with _lock:
        resolved = host if isinstance(host, Host) else open_host(host)
        if _bound["session"] is not None and _bound["path"] != resolved.path:
            _bound["session"].close()
            _bound["session"] = None
        _bound.update(path=resolved.path, host=resolved)
        return resolved


def unbind() -> None:
    with _lock:
        if _bound["session"] is not None:
            _bound["session"].close()
        _bound.update(path=None, host=None, session=None)


def session() -> Session:
    """The session every connection of this process uses (its counters are the facade's)."""
    with _lock:
        if _bound["host"] is None:
            state = os.environ.get(STATE_VARIABLE)
            if not state:
                raise _error(RPC_S_SERVER_UNAVAILABLE,
                             f"no emulated host: set {STATE_VARIABLE} to a host state file "
                             "or call hyperv_emulator.wmi.bind()")
            bind(state)
        if _bound["session"] is None:
            _bound["session"] = _bound["host"].session()
        return _bound["session"]


def _host() -> Host:
    session()
    return _bound["host"]


# -- monikers -----------------------------------------------------------------------


def _split_moniker(moniker: str) -> tuple[str, str, str | None]:
    """(server, namespace, object path or None) of a WMI moniker."""
    text = moniker.strip()
    if text.lower().startswith("winmgmts:"):
        text = text[len("winmgmts:"):]
    unified = text.replace("\\", "/")
    server = "."
    if unified.startswith("//"):
        rest = unified[2:]
        server, _, after = rest.partition("/")
        namespace_and_path = after
    else:
        namespace_and_path = unified
    namespace, colon, obj = namespace_and_path.partition(":")
    return server or ".", namespace, (text if colon and obj else None)


def WMI(moniker: str = "root/cimv2", privileges: Any = None, **kwargs: Any) -> Any:
    server, namespace, obj = _split_moniker(moniker)
    host = _host()
    if server.lower() not in (".", "localhost", host.hostname.lower()):
        raise _error(RPC_S_SERVER_UNAVAILABLE, f"The RPC server {server} is unavailable "
                                               "(the emulator serves one host)")
    with _translated():
        if obj is not None:
            return _Instance(_Connection(namespace), session().get(obj))
        normalized = normalize_namespace(namespace or NS_CIMV2)
        if normalized not in host.namespaces():
            raise CimError(0x8004100E, f"namespace {namespace} does not exist")
    return _Connection(namespace or NS_CIMV2)


# -- objects ------------------------------------------------------------------------


class _Connection:
    def __init__(self, namespace: str) -> None:
        self._namespace = normalize_namespace(namespace)

    def __getattr__(self, name: str) -> _Class:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get_class(name)

    def get_class(self, name: str) -> _Class:
        with _translated():
            return _Class(self, session().get_class(name, self._namespace))

    def query(self, text: str, operation_options: Any = None) -> list[_Instance]:
        with _translated():
            found = session().query(text.replace("\\", "\\\\"), self._namespace)
        return [_Instance(self, i) for i in found]

    def watch_for(self, raw_wql: str | None = None, notification_type: str = "operation",
                  wmi_class: str | None = None, delay_secs: float = 1, fields: Any = (),
                  **where: Any) -> _EventWatcher:
        if raw_wql is None:
            raise ValueError("watch_for needs raw_wql on the emulated host")
        return _EventWatcher(self, raw_wql)

    def __repr__(self) -> str:
        return f"<emulated wmi connection {self._namespace}>"


class _Path:
    """SWbemObjectPath's fields, as PyMI offers them."""

    def __init__(self, path: str, class_name: str, namespace: str, server: str,
                 is_class: bool) -> None:
        self.Path = path
        self.Class = class_name
        self.Namespace = namespace
        self.Server = server
        self.IsClass = is_class

    @property
    def RelPath(self) -> str:
        return self.Path[self.Path.find(":") + 1:]

    @property
    def DisplayName(self) -> str:
        return self.Path

    def __str__(self) -> str:
        return self.Path


class _Class:
    def __init__(self, conn: _Connection, cls: ResolvedClass) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_cls", cls)

    @property
    def class_name(self) -> str:
        return self._cls.name

    def __call__(self, *fields: Any, operation_options: Any = None, **filters: Any) -> list[
            _Instance]:
        if len(fields) > 1 or (fields and not isinstance(fields[0], list)):
            raise ValueError("Invalid argument")
        selected = ", ".join(fields[0]) if fields and fields[0] else "*"
        where = " and ".join(f"{k} = '{v}'" for k, v in filters.items())
        text = f"select {selected} from {self._cls.name}" + (f" where {where}" if where else "")
        return self._conn.query(text)

    def new(self) -> _Instance:
        return _Instance(self._conn, Instance(self._cls, server=_host().hostname))

    SpawnInstance_ = new

    def watch_for(self, raw_wql: str | None = None, **kwargs: Any) -> _EventWatcher:
        return self._conn.watch_for(raw_wql, **kwargs)

    def path(self) -> _Path:
        host = _host().hostname
        namespace = self._cls.namespace.replace("/", "\\")
        return _Path(f"\\\\{host}\\{namespace}:{self._cls.name}", self._cls.name, namespace,
                     host, True)

    def path_(self) -> str:
        return self.path().Path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        method = self._cls.method(name)
        if method is None:
            raise AttributeError(f"'{self._cls.name}' has no attribute '{name}'.")
        return _Method(self, method.name)

    def __repr__(self) -> str:
        return f"<pymi_class: {self._cls.name}>"


class _Instance:
    def __init__(self, conn: _Connection, instance: Instance) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_instance", instance)

    # values
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        instance: Instance = self._instance
        prop = instance.cls.prop(name)
        if prop is not None:
            return _wrap(self._conn, prop.type, prop.array, instance.raw.get(prop.name.lower()),
                         fetch_refs=True)
        if instance.cls.method(name) is not None:
            return _Method(self, name)
        raise AttributeError(f"'{instance.class_name}' has no attribute '{name}'.")

    def __setattr__(self, name: str, value: Any) -> None:
        instance: Instance = self._instance
        prop = instance.cls.prop(name)
        with _translated():
            if prop is None:
                instance[name] = value  # raises WBEM_E_INVALID_PROPERTY
                return
            instance[prop.name] = _unwrap(prop.type, prop.array, value)

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    # identity
    def path_(self) -> str:
        instance: Instance = self._instance
        return str(instance.path) if instance.has_keys or instance.cls.definition.singleton \
            else ""

    def path(self) -> _Path:
        instance: Instance = self._instance
        host = instance.server or _host().hostname
        return _Path(self.path_(), instance.class_name,
                     instance.namespace.replace("/", "\\"), host, False)

    def GetText_(self, text_format: int = 1) -> str:
        return self._instance.to_xml()

    def associators(self, wmi_association_class: str = "", wmi_result_class: str = "",
                    operation_options: Any = None) -> list[_Instance]:
        with _translated():
            found = session().associators(self.path_(),
                                          assoc_class=wmi_association_class or None,
                                          result_class=wmi_result_class or None)
        return [_Instance(self._conn, i) for i in found]

    def references(self, wmi_class: str = "") -> list[_Instance]:
        with _translated():
            found = session().references(self.path_(), result_class=wmi_class or None)
        return [_Instance(self._conn, i) for i in found]

    def put(self, operation_options: Any = None) -> None:
        raise _error(WBEM_E_PROVIDER_NOT_CAPABLE,
                     f"{self._instance.class_name}: Hyper-V changes settings through its "
                     "management service methods (ModifySystemSettings, ...), not by writing "
                     "instances")

    Put_ = put

    def Delete_(self, operation_options: Any = None) -> None:
        self.put()

    def __repr__(self) -> str:
        return f"<pymi_object: {self.path_() or self._instance.class_name}>"

    def __str__(self) -> str:
        lines = [f"instance of {self._instance.class_name}", "{"]
        for name, value in self._instance.items():
            if value is not None:
                lines.append(f"\t{name} = {value!r};")
        lines.append("};")
        return "\n".join(lines)


def _wrap(conn: _Connection, cim_type: str, array: bool, value: Any, *,
          fetch_refs: bool) -> Any:
    if value is None:
        return None
    if cim_type == "ref":
        if array:
            return tuple(value)
        if fetch_refs:
            return WMI(value)
        return value
    if cim_type == "object":
        if array:
            return tuple(_Instance(conn, v) for v in value)
        return _Instance(conn, value)
    if array:
        return tuple(value)
    return value


def _unwrap(cim_type: str, array: bool, value: Any) -> Any:
    """A client value in the form the engine takes (PyMI's client-side conversions)."""
    if value is None:
        return None
    if array and isinstance(value, (list, tuple)):
        return [_unwrap(cim_type, False, v) for v in value]
    if isinstance(value, _Instance):
        return value._instance if cim_type == "object" else value.path_()
    if cim_type == "boolean" and isinstance(value, str):
        return value.lower() in ("true", "yes", "1")
    if cim_type == "ref" and isinstance(value, str):
        # PyMI reads the referenced object first (and fails if it is not there).
        return WMI(value).path_()
    return value


class _Method:
    def __init__(self, target: _Instance | _Class, name: str) -> None:
        self._target = target
        self._name = name

    def _params(self) -> list[Param]:
        target = self._target
        cls = target._instance.cls if isinstance(target, _Instance) else target._cls
        method = cls.method(self._name)
        assert method is not None
        return list(method.params)

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        params = self._params()
        inputs = sorted((p for p in params if p.is_input), key=lambda p: p.name)
        if len(args) > len(inputs):
            raise _error(0x8004102F, f"{self._name} takes {len(inputs)} input parameters "
                                     f"({', '.join(p.name for p in inputs)}); "
                                     f"{len(args)} were given")
        values: dict[str, Any] = {}
        for param, value in zip(inputs, args, strict=False):
            values[param.name] = value
        for name, value in kwargs.items():
            if name in ("operation_options", "keep_bool_ret_vals"):
                continue
            match = next((p for p in params if p.name.lower() == name.lower()), None)
            values[match.name if match else name] = value
        converted = {}
        for name, value in values.items():
            param = next((p for p in params if p.name == name), None)
            if param is None:
                converted[name] = value  # the engine names the bad parameter
            elif param.type == "string" and param.embedded and isinstance(value, _Instance):
                converted[name] = value.GetText_(1)
            else:
                converted[name] = _unwrap(param.type, param.array, value)
        target = self._target
        with _translated():
            if isinstance(target, _Instance):
                path = target.path_()
                if not path:
                    raise CimError(0x80041008, f"{self._name}: the instance has no path "
                                               "(only stored instances have methods)")
            else:
                path = target.path().Path
            result = session().invoke(path, self._name, **converted)
        conn = target._conn
        outputs = {"ReturnValue": result.return_value}
        for param in params:
            if param.is_output:
                outputs[param.name] = _wrap(conn, param.type, param.array,
                                            result.outputs.get(param.name), fetch_refs=False)
        return tuple(outputs[name] for name in sorted(outputs))

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self._params() if p.is_input)
        return f"<function {self._name} ({names})>"


# -- events -------------------------------------------------------------------------

_EVENT_CLASSES = {"__instancecreationevent", "__instancedeletionevent",
                  "__instancemodificationevent", "__instanceoperationevent"}


class _EventWatcher:
    """Intrinsic instance events, found by comparing snapshots of the watched class."""

    def __init__(self, conn: _Connection, text: str) -> None:
        self._conn = conn
        with _translated():
            parsed = wql.parse(text)
            if not isinstance(parsed, wql.Select) or parsed.class_name.lower() not in \
                    _EVENT_CLASSES:
                raise CimError(0x80041018, f"not an instance event query: {text}")
            target = _isa_target(parsed.where)
            if target is None:
                raise CimError(0x80041017, "an event query needs "
                                           "WHERE TargetInstance ISA 'Class'")
            self._cls = session().get_class(target, conn._namespace)
        self._query = parsed
        self._kind = parsed.class_name.lower()
        self._interval = min(parsed.within or 1.0, 0.2)
        self._pending: list[_Instance] = []
        self._before = self._snapshot()

    def _snapshot(self) -> dict[str, Instance]:
        with _translated():
            found = session()._snapshot(self._cls)
        return {str(i.path).lower(): i for i in found}

    def _events(self) -> None:
        after = self._snapshot()
        before = self._before
        self._before = after
        pairs: list[tuple[Instance | None, Instance | None, str]] = []
        for key, current in after.items():
            previous = before.get(key)
            if previous is None:
                pairs.append((None, current, "__instancecreationevent"))
            elif previous.raw != current.raw:
                pairs.append((previous, current, "__instancemodificationevent"))
        for key, previous in before.items():
            if key not in after:
                pairs.append((previous, None, "__instancedeletionevent"))
        for previous, current, kind in pairs:
            if self._kind not in (kind, "__instanceoperationevent"):
                continue
            target = current if current is not None else previous
            assert target is not None
            if self._query.where is None or _event_matches(self._query, target, previous):
                event = _Instance(self._conn, target)
                if previous is not None and current is not None:
                    object.__setattr__(event, "previous", _Instance(self._conn, previous))
                self._pending.append(event)

    def __call__(self, timeout_ms: int = -1) -> _Instance:
        deadline = None if timeout_ms is None or timeout_ms < 0 else \
            time.monotonic() + timeout_ms / 1000.0
        while True:
            if self._pending:
                return self._pending.pop(0)
            self._events()
            if self._pending:
                continue
            if deadline is not None and time.monotonic() >= deadline:
                raise _error(0x80043001, "timed out waiting for an event", timed_out=True)
            time.sleep(self._interval)


def _isa_target(expr: wql.Expr | None) -> str | None:
    if isinstance(expr, wql.Isa) and expr.name.parts[0].lower() == "targetinstance":
        return expr.class_name
    if isinstance(expr, (wql.And, wql.Or)):
        return _isa_target(expr.left) or _isa_target(expr.right)
    return None


def _event_matches(query: wql.Select, target: Instance, previous: Instance | None) -> bool:
    def resolve(name: wql.Name) -> tuple[Any, Any]:
        head = name.parts[0].lower()
        source = {"targetinstance": target, "previousinstance": previous}.get(head)
        if len(name.parts) == 1:
            return source if source is not None else None, None
        if source is None:
            return None, None
        prop = source.cls.prop(name.parts[1])
        return (source.raw.get(name.parts[1].lower()) if prop else None), prop

    def isa(value: Any, class_name: str) -> bool:
        return isinstance(value, Instance) and value.is_a(class_name)

    return wql.evaluate(query.where, resolve, isa, query.text)  # type: ignore[arg-type]

