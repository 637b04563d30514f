"""The CimSession adapter that talks straight to an emulated host's engine.

`[hyperv] host_uri = emulated:///path/to/state.db`: the host's state file (created with
the ws2022 preset on first use). No serialisation and no PyMI conventions in between:
instances are the engine's own, errors are its `CimError` mapped to ours, and the
session's counters are exactly the round trips the host served.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hyperv_emulator import CimError as EngineError
from hyperv_emulator import Instance, init_host, open_host, serial
from nova_hyperv.cim.base import V2, CimInstance, MethodResult, RoundTripCounter, SessionBase
from nova_hyperv.cim.errors import CimError, CimNotFound, error_for_hresult
from nova_hyperv.cim.pipes import SerialPipe, SocketPipe

__all__ = ["EmulatedSession", "open_emulated"]

DEFAULT_PROFILE = "ws2022"
_create_lock = threading.Lock()


@contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except EngineError as exc:
        raise error_for_hresult(exc.hresult, f"{what}: {exc.message}") from exc


class EmulatedInstance:
    """A view of an engine `Instance` (values as the engine holds them)."""

    __slots__ = ("_instance",)

    def __init__(self, instance: Instance) -> None:
        self._instance = instance

    @property
    def native(self) -> Instance:
        return self._instance

    @property
    def class_name(self) -> str:
        return self._instance.class_name

    @property
    def path(self) -> str:
        instance = self._instance
        if instance.has_keys or instance.cls.definition.singleton:
            return str(instance.path)
        return ""

    def __getitem__(self, name: str) -> Any:
        with _translated(f"reading {self.class_name}.{name}"):
            return _wrap(self._instance[name])

    def get(self, name: str, default: Any = None) -> Any:
        value = self[name]
        return default if value is None else value

    def __setitem__(self, name: str, value: Any) -> None:
        with _translated(f"setting {self.class_name}.{name}"):
            self._instance[name] = _unwrap(value)

    def __repr__(self) -> str:
        return f"<EmulatedInstance {self.path or self.class_name}>"


def _wrap(value: Any) -> Any:
    if isinstance(value, Instance):
        return EmulatedInstance(value)
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], Instance):
        return [EmulatedInstance(v) for v in value]
    return value


def _unwrap(value: Any) -> Any:
    if isinstance(value, EmulatedInstance):
        return value.native
    if isinstance(value, (list, tuple)):
        return [_unwrap(v) for v in value]
    return value


class EmulatedSession(SessionBase):
    def __init__(self, state_path: str) -> None:
        self.state_path = state_path
        with _create_lock, _translated(f"opening the emulated host {state_path}"):
            if os.path.exists(state_path):
                self._host = open_host(state_path)
            else:
                os.makedirs(os.path.dirname(os.path.abspath(state_path)), exist_ok=True)
                self._host = init_host(state_path, DEFAULT_PROFILE)
        self._session = self._host.session()

    @property
    def counters(self) -> RoundTripCounter:
        return self._session.counters

    def query(self, wql: str, namespace: str = V2) -> list[CimInstance]:
        with _translated(f"query {wql!r}"):
            return [EmulatedInstance(i) for i in self._session.query(wql, namespace)]

    def get(self, path: str) -> CimInstance:
        with _translated(f"get {path}"):
            return EmulatedInstance(self._session.get(path))

    def invoke(self, target: str | CimInstance, method: str, /, **params: Any) -> MethodResult:
        where = target.path if isinstance(target, EmulatedInstance) else str(target)
        native = target.native if isinstance(target, EmulatedInstance) else target
        inputs = {name: _unwrap(value) for name, value in params.items()}
        with _translated(f"{method} on {where}"):
            result = self._session.invoke(native, method, **inputs)
        outputs = {name: _wrap(value) for name, value in result.outputs.items()}
        return MethodResult(result.return_value, outputs)

    def new_instance(self, class_name: str, namespace: str = V2) -> CimInstance:
        with _translated(f"new instance of {class_name}"):
            return EmulatedInstance(self._session.new_instance(class_name, namespace))

    def open_pipe(self, pipe: str, timeout: float = 5.0) -> SerialPipe:
        """The emulated host serves a running VM's COM port pipe as a Unix socket."""
        try:
            sock = serial.connect(self._host, pipe, timeout)
        except FileNotFoundError as exc:
            raise CimNotFound(f"serial pipe {pipe}: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise CimError(f"serial pipe {pipe}: {exc}") from exc
        return SocketPipe(sock, pipe)

    def close(self) -> None:
        self._session.close()


def open_emulated(state_path: str) -> EmulatedSession:
    try:
        return EmulatedSession(state_path)
    except CimError:
        raise
    except (OSError, ValueError) as exc:
        raise CimError(f"cannot open the emulated Hyper-V host {state_path}: {exc}") from exc
