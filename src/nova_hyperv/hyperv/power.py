"""A VM's power: start, turn off, guest shutdown, reboot, pause, save, resume, destroy.

Every change is Msvm_ComputerSystem.RequestStateChange (a call, then its job), except
the guest shutdown, which asks the guest through its shutdown integration component
(Msvm_ShutdownComponent.InitiateShutdown) and then watches the VM turn off. A request
for the state the VM is already in is a success (Hyper-V answers 32775 to it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from nova_hyperv.cim import CimError, CimInvalidState, CimJobFailed, CimSession, quote
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.errors import VmStateError
from nova_hyperv.hyperv.names import RequestedState, VmState
from nova_hyperv.hyperv.vms import Vm, refresh

__all__ = ["STABLE", "destroy", "reboot", "request_state", "soft_shutdown"]

LOG = logging.getLogger(__name__)

STABLE = frozenset({VmState.RUNNING, VmState.OFF, VmState.SAVED, VmState.PAUSED})
TARGETS = {
    RequestedState.START: VmState.RUNNING,
    RequestedState.TURN_OFF: VmState.OFF,
    RequestedState.SAVE: VmState.SAVED,
    RequestedState.PAUSE: VmState.PAUSED,
    RequestedState.RESET: VmState.RUNNING,
    RequestedState.REBOOT: VmState.RUNNING,
}
_DESCRIPTIONS = {
    RequestedState.START: "starting", RequestedState.TURN_OFF: "turning off",
    RequestedState.SAVE: "saving", RequestedState.PAUSE: "pausing",
    RequestedState.RESET: "resetting", RequestedState.REBOOT: "rebooting",
}


def settle(session: CimSession, vm: Vm, timeout: float,
           sleep: Callable[[float], None] = time.sleep) -> Vm:
    """Wait (reading the VM) until it is in a stable state."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while vm.state not in STABLE and time.monotonic() < deadline:
        sleep(delay)
        delay = min(delay * 2, 1.0)
        vm = refresh(session, vm)
    return vm


def request_state(session: CimSession, vm: Vm, requested: RequestedState,
                  timeout: float | None = None) -> Vm:
    """Move the VM to `requested` and return it as it now is."""
    target = TARGETS[requested]
    what = f"{_DESCRIPTIONS[requested]} VM {vm.name}"
    if vm.state == target and requested not in (RequestedState.RESET, RequestedState.REBOOT):
        return vm
    try:
        result = session.invoke(vm.target, "RequestStateChange", RequestedState=int(requested))
        session.finish(result, what, vm.path, timeout)
    except (CimInvalidState, CimJobFailed) as exc:
        if isinstance(exc, CimJobFailed) and not exc.invalid_state:
            raise
        now = settle(session, refresh(session, vm), timeout or 60.0)
        if now.state == target and requested not in (RequestedState.RESET,
                                                     RequestedState.REBOOT):
            return now
        raise VmStateError(f"{what}: the VM is {now.state.name.lower()} and cannot go to "
                           f"{target.name.lower()} from there") from exc
    vm.state = target
    return vm


def soft_shutdown(session: CimSession, vm: Vm, timeout: float, retry_interval: float = 5.0,
                  sleep: Callable[[float], None] = time.sleep) -> bool:
    """Ask the guest to shut down; True once the VM is off within `timeout` seconds.

    A guest that is still booting (no shutdown component yet, or one that refuses) is
    asked again every `retry_interval` seconds until the time is up.
    """
    deadline = time.monotonic() + timeout
    first = True
    while True:
        if not first:  # `vm` is as the caller just read it; later rounds read it again
            vm = refresh(session, vm)
        first = False
        if vm.state == VmState.OFF:
            return True
        if (vm.state == VmState.RUNNING and _initiate_shutdown(session, vm)
                and _wait_off(session, vm, deadline, min(retry_interval, 1.0), sleep)):
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sleep(min(retry_interval, left))


def _initiate_shutdown(session: CimSession, vm: Vm) -> bool:
    components = session.query(f"SELECT * FROM {names.SHUTDOWN_COMPONENT} "
                               f"WHERE SystemName = {quote(vm.guid)}")
    if not components:
        return False
    try:
        result = session.invoke(components[0], "InitiateShutdown", Force=False,
                                Reason="Requested by OpenStack Nova")
    except CimError as exc:
        LOG.debug("guest shutdown of %s refused: %s", vm.name, exc)
        return False
    return result.return_value == 0


def _wait_off(session: CimSession, vm: Vm, deadline: float, interval: float,
              sleep: Callable[[float], None]) -> bool:
    delay = 0.0
    while True:
        current = refresh(session, vm)
        vm.state = current.state
        if current.state == VmState.OFF:
            return True
        if time.monotonic() >= deadline:
            return False
        sleep(delay)
        delay = min(max(delay * 2, 0.05), interval)


def reboot(session: CimSession, vm: Vm, *, soft: bool, soft_timeout: float,
           timeout: float | None = None) -> str:
    """Reboot; soft tries the guest first. Returns "soft" or "hard" (what happened)."""
    if soft and vm.state == VmState.RUNNING and soft_shutdown(session, vm, soft_timeout):
        request_state(session, vm, RequestedState.START, timeout)  # it is off now
        return "soft"
    vm = refresh(session, vm)
    if vm.state == VmState.RUNNING:
        request_state(session, vm, RequestedState.RESET, timeout)
    else:
        request_state(session, settle(session, vm, timeout or 60.0), RequestedState.START,
                      timeout)
    return "hard"


def destroy(session: CimSession, service: object, vm: Vm, timeout: float | None = None) -> None:
    """Turn the VM off if it is not, then remove it (its disks stay: they are files)."""
    vm = settle(session, vm, timeout or 60.0)
    if vm.state not in (VmState.OFF, VmState.SAVED):
        vm = request_state(session, vm, RequestedState.TURN_OFF, timeout)
    result = session.invoke(service, "DestroySystem", AffectedSystem=vm.path)  # type: ignore[arg-type]
    session.finish(result, f"removing VM {vm.name}", vm.path, timeout)
