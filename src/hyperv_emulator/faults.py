"""Faults and a host restart, for tests and the CLI (`nova-hyperv host fault ...`).

    host.faults.add("DefineSystem", code=32768)                  # 1st call returns 32768
    host.faults.add("RequestStateChange", nth=2, code=32778, as_job=True)
    host.faults.hang("RequestStateChange")                       # its job never finishes
    host.faults.list(); host.faults.clear()
    host.restart()                                               # Windows reboots

Faults are kept in the state file, so the process that meets them (nova-compute) need
not be the one that set them; `providers.faults` says how a call meets one, and
`providers.restart` what a restart does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyperv_emulator.host import host_context
from hyperv_emulator.providers import base, faults, hostmemory, restart, serialports
from hyperv_emulator.providers.base import Ctx
from hyperv_emulator.providers.restart import RestartOutcome

if TYPE_CHECKING:
    from hyperv_emulator.host import Host

__all__ = ["Fault", "FaultControl", "RestartOutcome", "forget_runtime", "restart_host"]

# Codes a fault cannot return: success, and "a job started" (which needs a job).
_NOT_ERRORS = {0: "0 means success", 4096: "4096 means a job started"}


@dataclass(frozen=True)
class Fault:
    """One injected fault and how far it got (`seen` calls counted, `fired` times)."""

    id: int
    kind: str  # "fail" or "hang"
    method: str
    class_name: str | None
    nth: int
    code: int | None
    as_job: bool
    times: int  # 0: every call from the nth on
    seen: int
    fired: int

    @property
    def spent(self) -> bool:
        return bool(self.times) and self.fired >= self.times

    def describe(self) -> str:
        """One line: `#1 DefineSystem: call 2 fails with 32768 as its return value; ...`."""
        where = f"{self.class_name}.{self.method}" if self.class_name else self.method
        if self.times == 1:
            which = f"call {self.nth}"
        elif self.times == 0:
            which = f"call {self.nth} and every later one"
        else:
            which = f"calls {self.nth} to {self.nth + self.times - 1}"
        if self.kind == faults.HANG:
            what = f"{which}: its job hangs until killed"
        else:
            how = "as a failed job" if self.as_job else "as its return value"
            what = f"{which} fails with {self.code} {how}"
        if self.spent:
            state = "spent"
        else:
            state = f"{self.seen} calls seen" + (f", fired {self.fired} times" if self.fired
                                                 else "")
        return f"#{self.id} {where}: {what}; {state}"


class FaultControl:
    """The faults of one host (every method is one transaction on its state file)."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def add(self, method: str, *, code: int, nth: int = 1, as_job: bool = False,
            class_name: str | None = None, times: int = 1) -> Fault:
        """The `nth` call of `method` (and `times - 1` more; 0: all later) fails with `code`:
        returned as the ReturnValue, or with `as_job` as 4096 and a job in state 10."""
        if code in _NOT_ERRORS or not 1 <= code <= 0xFFFF:
            reason = _NOT_ERRORS.get(code, "codes are 1..65535")
            raise ValueError(f"code {code} cannot be a fault's error ({reason}); use a "
                             "Hyper-V error such as 32768 (failed), 32775 (invalid state) "
                             "or 32778 (out of memory)")
        return self._add(faults.FAIL, method, class_name, nth, times, code=code,
                         as_job=as_job)

    def hang(self, method: str, *, nth: int = 1, class_name: str | None = None,
             times: int = 1) -> Fault:
        """The job of the `nth` call of `method` runs until a client kills it."""
        return self._add(faults.HANG, method, class_name, nth, times, code=None, as_job=True)

    def list(self) -> list[Fault]:
        with host_context(self.host, write=False) as ctx:
            return [_fault(item) for item in faults.stored(ctx)["items"]]

    def clear(self) -> int:
        """Remove every fault; returns how many there were."""
        with host_context(self.host, write=True) as ctx:
            current = faults.stored(ctx)
            count = len(current["items"])
            ctx.txn.set_meta(faults.FAULTS_KEY, {**current, "items": []})
            return count

    def remove(self, fault_id: int) -> Fault:
        with host_context(self.host, write=True) as ctx:
            current = faults.stored(ctx)
            kept = [item for item in current["items"] if item["id"] != fault_id]
            if len(kept) == len(current["items"]):
                known = ", ".join(f"#{item['id']}" for item in current["items"]) or "none"
                raise ValueError(f"no fault #{fault_id} on this host (faults: {known})")
            gone = next(item for item in current["items"] if item["id"] == fault_id)
            ctx.txn.set_meta(faults.FAULTS_KEY, {**current, "items": kept})
            return _fault(gone)

    def _add(self, kind: str, method: str, class_name: str | None, nth: int, times: int, *,
             code: int | None, as_job: bool) -> Fault:
        if nth < 1:
            raise ValueError(f"nth {nth} must be 1 or more (the first call is 1)")
        if times < 0:
            raise ValueError(f"times {times} must be 0 (every call from the nth on) or more")
        method_name, class_name = self._check_method(method, class_name, needs_job=as_job,
                                                      kind=kind)
        with host_context(self.host, write=True) as ctx:
            current = faults.stored(ctx)
            item = {"id": int(current.get("next_id", 1)), "kind": kind, "method": method_name,
                    "class_name": class_name, "nth": nth, "code": code, "as_job": as_job,
                    "times": times, "seen": 0, "fired": 0}
            current["next_id"] = item["id"] + 1
            current["items"] = [*current["items"], item]
            ctx.txn.set_meta(faults.FAULTS_KEY, current)
        return _fault(item)

    def _check_method(self, method: str, class_name: str | None, *, needs_job: bool,
                      kind: str) -> tuple[str, str | None]:
        """The method's spelling in the schema (and the class's); errors name what exists."""
        registry = self.host.registry
        if class_name is not None:
            resolved = next((c for c in registry.classes() if c.name.lower() ==
                             class_name.lower()), None)
            if resolved is None:
                raise ValueError(f"class {class_name!r} does not exist on this host "
                                 f"(build {registry.build})")
            found = resolved.method(method)
            if found is None:
                names = ", ".join(sorted(m.name for _, m in resolved.methods.values())) or "none"
                raise ValueError(f"{resolved.name} has no method {method!r} (methods: {names})")
            candidates = [(resolved.name, found)]
            class_name = resolved.name
        else:
            candidates = [(c.name, c.method(method)) for c in registry.classes()
                          if c.method(method) is not None]
            if not candidates:
                raise ValueError(f"no class of this host (build {registry.build}) has a method "
                                 f"{method!r}")
        if needs_job and not any(m.has_job for _, m in candidates):
            what = "a hang" if kind == faults.HANG else "a failure as a job"
            raise ValueError(f"{method} has no Job output on any class here, so {what} cannot "
                             "apply; fail it synchronously instead")
        return candidates[0][1].name, class_name

    def __repr__(self) -> str:
        return f"<FaultControl of {self.host!r}>"


def restart_host(host: Host) -> list[RestartOutcome]:
    """Restart the emulated Windows host: VMs stop and start by their automatic actions."""
    with host_context(host, write=True) as ctx:
        outcome = restart.restart(ctx)
    base.after_commit(host, ctx.txn.notes)
    return outcome


def forget_runtime(ctx: Ctx) -> None:
    """After a reset: no VM runs, nothing is held, no fault is armed."""
    hostmemory.forget_all(ctx)
    serialports.forget_all(ctx)
    ctx.txn.set_meta(faults.FAULTS_KEY, {**faults.stored(ctx), "items": []})


def _fault(item: dict[str, Any]) -> Fault:
    known = {f.name for f in dataclasses.fields(Fault)}
    return Fault(**{k: v for k, v in item.items() if k in known})
