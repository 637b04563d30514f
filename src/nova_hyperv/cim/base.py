"""The CimSession seam: what the Hyper-V client needs from a CIM connection.

Two adapters implement it (`cim.emulated`: straight into the emulated host's engine;
`cim.wmi`: PyMI's `wmi` module on Windows, or the emulator's PyMI-compatible facade on
Linux), so everything above speaks one small interface:

- `query(wql, namespace)` -> list of `CimInstance` (SELECT / ASSOCIATORS OF / REFERENCES OF)
- `get(path)` -> `CimInstance`
- `invoke(target, method, **params)` -> `MethodResult`. Conventions, the same for every
  adapter: a REFERENCE parameter takes a path string (`instance.path`); an EMBEDDED
  instance parameter takes a `CimInstance` (made with `new_instance`, or read from the
  host and changed); arrays are lists of those. `target` is a `CimInstance` the caller
  already holds (cheapest) or a path.
- `new_instance(class_name, namespace)` -> an empty instance to fill and embed (local).
- `wait_for_job(job, what, timeout)` and `finish(result, what, timeout)`: Hyper-V's job
  convention (ReturnValue 4096 = "see the job"), with typed errors.
- `counters`: round-trip accounting when the adapter can count (None on real WMI).
- `open_pipe(pipe, timeout)` -> `SerialPipe`: a VM's COM port pipe (`\\\\.\\pipe\\NAME`)
  as a byte stream, for the serial console; not a CIM call (see `cim.pipes`).

Every query, get, method call and job poll is one round trip; that is the unit the
driver's performance contract is written in.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from nova_hyperv.cim.errors import (
    INVALID_STATE_CODES,
    CimError,
    CimInvalidState,
    CimJobFailed,
    CimJobTimeout,
    CimMethodFailed,
)
from nova_hyperv.cim.pipes import SerialPipe

__all__ = [
    "CIMV2",
    "V2",
    "CimInstance",
    "CimSession",
    "MethodResult",
    "RoundTripCounter",
    "SessionBase",
    "count_round_trips",
]

V2 = "root/virtualization/v2"
CIMV2 = "root/cimv2"

COMPLETED = 0
JOB_STARTED = 4096
# Msvm_ConcreteJob.JobState: 7 Completed, 32768 Completed with warnings (os-win accepts
# it); 8 Terminated, 9 Killed, 10 Exception. Anything else is still under way.
JOB_DONE = frozenset({7, 32768})
JOB_FAILED = frozenset({8, 9, 10})
JOB_KILL = 5  # Msvm_ConcreteJob.RequestStateChange(5): kill


@runtime_checkable
class CimInstance(Protocol):
    """A CIM instance as the driver sees it: case-insensitive property access."""

    @property
    def class_name(self) -> str: ...

    @property
    def path(self) -> str:
        """The object path ('' for an instance that was never stored)."""
        ...

    def __getitem__(self, name: str) -> Any: ...

    def __setitem__(self, name: str, value: Any) -> None: ...

    def get(self, name: str, default: Any = None) -> Any: ...


@dataclass
class MethodResult:
    """ReturnValue and the output parameters by name (references as path strings)."""

    return_value: int
    outputs: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        for key, value in self.outputs.items():
            if key.lower() == name.lower():
                return value
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            value = self[name]
        except KeyError:
            return default
        return default if value is None else value

    @property
    def job(self) -> str | None:
        return self.get("Job")


class RoundTripCounter(Protocol):
    """What an adapter that can count offers (the emulated host's `Counters` fits)."""

    def operation(self, name: str) -> contextlib.AbstractContextManager[Any]: ...

    def snapshot(self) -> Mapping[str, Mapping[str, int]]: ...


@runtime_checkable
class CimSession(Protocol):
    def query(self, wql: str, namespace: str = V2) -> list[CimInstance]: ...

    def get(self, path: str) -> CimInstance: ...

    def invoke(self, target: str | CimInstance, method: str, /, **params: Any) -> MethodResult:
        ...

    def new_instance(self, class_name: str, namespace: str = V2) -> CimInstance: ...

    def wait_for_job(self, job: str, what: str, timeout: float | None = None) -> CimInstance:
        ...

    def finish(self, result: MethodResult, what: str, target: str = "",
               timeout: float | None = None) -> CimInstance | None: ...

    @property
    def counters(self) -> RoundTripCounter | None: ...

    def open_pipe(self, pipe: str, timeout: float = 5.0) -> SerialPipe: ...

    def close(self) -> None: ...


class SessionBase:
    """The job handling every adapter shares (it only needs `get` and `invoke`)."""

    #: Seconds between job polls start small (an emulated or fast host is done at once)
    #: and double up to this.
    max_poll_interval = 1.0

    def get(self, path: str) -> CimInstance:  # pragma: no cover - adapters implement it
        raise NotImplementedError

    def invoke(self, target: str | CimInstance, method: str, /,
               **params: Any) -> MethodResult:  # pragma: no cover - adapters implement it
        raise NotImplementedError

    @property
    def counters(self) -> RoundTripCounter | None:
        return None

    def wait_for_job(self, job: str, what: str, timeout: float | None = None) -> CimInstance:
        """Poll `job` until it ends; raise CimJobFailed / CimJobTimeout (after killing it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0
        while True:
            found = self.get(job)
            state = int(found.get("JobState", 0) or 0)
            if state in JOB_DONE:
                return found
            if state in JOB_FAILED:
                description = (found.get("ErrorDescription")
                               or found.get("ErrorSummaryDescription") or "")
                raise CimJobFailed(what, job, state, int(found.get("ErrorCode", 0) or 0),
                                   str(description))
            if deadline is not None and time.monotonic() >= deadline:
                with contextlib.suppress(CimError):
                    self.invoke(found, "RequestStateChange", RequestedState=JOB_KILL)
                raise CimJobTimeout(what, job, timeout or 0.0)
            time.sleep(delay)
            delay = min(max(delay * 2, 0.02), self.max_poll_interval)

    def finish(self, result: MethodResult, what: str, target: str = "",
               timeout: float | None = None) -> CimInstance | None:
        """Turn a method's result into success (the finished job, if any) or an error."""
        code = result.return_value
        if code == COMPLETED:
            return None
        if code == JOB_STARTED:
            job = result.job
            if not job:
                raise CimMethodFailed(what, target, code, "the method started a job but "
                                      "returned no Job")
            return self.wait_for_job(job, what, timeout)
        kind = CimInvalidState if code in INVALID_STATE_CODES else CimMethodFailed
        raise kind(what, target, code)


@contextlib.contextmanager
def count_round_trips(session: CimSession, name: str) -> Iterator[Any]:
    """Count the round trips inside under `name` when the adapter counts (else no-op)."""
    counters = session.counters
    if counters is None:
        yield None
        return
    with counters.operation(name) as stats:
        yield stats
