"""A VM's life: RequestStateChange, the shutdown component, and host memory.

States are the v2 EnabledState values (2 running, 3 off, 6 saved, 9 paused). A
request the VM cannot take from where it is (including the state it is already
in, and anything while a change is under way) returns 32775 synchronously, as on a
real host; an accepted one puts the VM in the transitional state (10 starting,
4 stopping, 32773 saving, 32776 pausing, 32777 resuming, 11 resetting) and returns
4096; the job's end moves it to the target. Msvm_ShutdownComponent exists only
while the guest runs. A running or paused VM holds its memory on the host's NUMA
nodes (`hostmemory`: placement policy and accounting); a saved or stopped one holds
none. A VM boots when it starts from Off and when it is reset or rebooted, and its
serial endpoints follow its state (`serialports`).
"""

from __future__ import annotations

import datetime as _dt
import random
from typing import Any

from hyperv_emulator.cimtypes import now, parse_datetime
from hyperv_emulator.instances import Instance
from hyperv_emulator.jobs import start_job
from hyperv_emulator.providers import catalog, hostmemory, serialports
from hyperv_emulator.providers.base import (
    COMPLETED,
    INVALID_STATE,
    JOB_STARTED,
    NOT_SUPPORTED_VENDOR,
    Args,
    Ctx,
    Refused,
    continuation,
    method,
    read_hook,
)
from hyperv_emulator.providers.devices import settings_of_kind
from hyperv_emulator.providers.hostmemory import set_memory_placement
from hyperv_emulator.providers.vms import (
    OFF,
    PAUSED,
    PAUSING,
    RESETTING,
    RESUMING,
    RUNNING,
    SAVED,
    SAVING,
    STABLE_STATES,
    STARTING,
    STATE_NAMES,
    STOPPING,
    Vm,
    load_vm,
)

__all__ = ["TRANSITIONS", "enter_state", "request_state_change", "set_memory_placement"]

CS = "Msvm_ComputerSystem"
SHUTDOWN = "Msvm_ShutdownComponent"

# (from, requested) -> (transitional state, final state, JobType)
TRANSITIONS: dict[tuple[int, int], tuple[int, int, int]] = {
    (OFF, 2): (STARTING, RUNNING, 12),
    (SAVED, 2): (STARTING, RUNNING, 15),
    (PAUSED, 2): (RESUMING, RUNNING, 27),
    (RUNNING, 3): (STOPPING, OFF, 13),
    (PAUSED, 3): (STOPPING, OFF, 13),
    (SAVED, 3): (STOPPING, OFF, 13),  # discards the saved state
    (RUNNING, 6): (SAVING, SAVED, 14),
    (PAUSED, 6): (SAVING, SAVED, 14),
    (RUNNING, 9): (PAUSING, PAUSED, 26),
    (RUNNING, 11): (RESETTING, RUNNING, 28),
    (RUNNING, 10): (RESETTING, RUNNING, 29),  # reboot: treated like reset
}
# How a failed state-change job names what failed, by requested state.
FAILED_TO = {2: "start", 3: "turn off", 6: "save", 9: "pause", 10: "reboot", 11: "reset"}


# -- state changes ------------------------------------------------------------------


@method(CS, "RequestStateChange")
def request_state_change(ctx: Ctx, system: Instance | None, args: Args) -> int:
    assert system is not None
    vm = load_vm(ctx, str(system.get("Name", "")))
    requested = args.get("RequestedState")
    if vm is None:
        raise Refused(INVALID_STATE, "the host system's state cannot be changed", job=False)
    current = vm.state
    step = TRANSITIONS.get((current, requested))
    if current not in STABLE_STATES or step is None:
        raise Refused(
            INVALID_STATE,
            f"{vm.describe()} is {STATE_NAMES.get(current, current)}; it cannot go to state "
            f"{requested} from there", job=False,
        )
    transitional, target, job_type = step
    vm.cs["EnabledState"] = transitional
    vm.cs["RequestedState"] = requested
    vm.cs["TimeOfLastStateChange"] = now()
    ctx.save(vm.cs)
    start_job(ctx, job_type, [vm.cs],
              then=("vm.state", {"vm": vm.guid, "from": current, "to": target,
                                 "requested": requested}),
              subject=f"'{vm.name}' failed to {FAILED_TO.get(requested, 'change state')}.")
    return JOB_STARTED


def _revert(ctx: Ctx, data: dict[str, Any]) -> None:
    vm = load_vm(ctx, data["vm"])
    if vm is None:
        return
    vm.cs["EnabledState"] = data["from"]
    vm.cs["RequestedState"] = 12
    ctx.save(vm.cs)


@continuation("vm.state", cancel=_revert)
def finish_state_change(ctx: Ctx, data: dict[str, Any]) -> None:
    vm = load_vm(ctx, data["vm"])
    if vm is None:
        return
    enter_state(ctx, vm, data["from"], data["to"], reset=data["requested"] in (10, 11))


def _on_time(cs: Instance) -> int:
    """Milliseconds the guest has run (paused time excluded)."""
    stored = int(cs.get("OnTimeInMilliseconds", 0) or 0)
    if cs.get("EnabledState") != RUNNING or not cs.get("TimeOfLastStateChange"):
        return stored
    since = _dt.datetime.now(_dt.UTC) - parse_datetime(cs["TimeOfLastStateChange"])
    return stored + max(0, int(since.total_seconds() * 1000))


@read_hook(CS)
def _live_on_time(ctx: Ctx, cs: Instance) -> None:
    if cs.get("Caption") == "Virtual Machine":
        cs.raw["ontimeinmilliseconds"] = _on_time(cs)


def enter_state(ctx: Ctx, vm: Vm, previous: int, target: int, *, reset: bool = False) -> None:
    """Move a VM to a stable state with everything that goes with it."""
    cs = vm.cs
    elapsed = _on_time(cs) if previous == RUNNING else int(cs.get("OnTimeInMilliseconds", 0) or 0)
    if target == RUNNING and previous in (OFF, SAVED):
        hostmemory.hold(ctx, vm)
        serialports.started(ctx, vm)
        _assign_dynamic_macs(ctx, vm)
        cs["ProcessID"] = random.randrange(1000, 65000)
        _shutdown_component(ctx, vm, present=True)
    if target == RUNNING and (previous == OFF or reset):
        serialports.booted(ctx, vm)
    if target in (OFF, SAVED):
        hostmemory.release(ctx, vm)
        _shutdown_component(ctx, vm, present=False)
        cs["ProcessID"] = None
        cs["NumberOfNumaNodes"] = 1
    if target == OFF:
        elapsed = 0
    if reset:
        elapsed = 0
    if vm.vssd.get("IsSaved") != (target == SAVED):
        vm.vssd["IsSaved"] = target == SAVED
        ctx.save(vm.vssd)
    cs["OnTimeInMilliseconds"] = elapsed
    cs["EnabledState"] = target
    cs["RequestedState"] = 12
    cs["TimeOfLastStateChange"] = now()
    ctx.save(cs)
    serialports.refresh(ctx, vm)


def _assign_dynamic_macs(ctx: Ctx, vm: Vm) -> None:
    nics = settings_of_kind(ctx, vm, catalog.SYNTHETIC_NIC, catalog.EMULATED_NIC)
    for nic in nics:
        if nic.get("StaticMacAddress") or nic.get("Address", "000000000000") != "000000000000":
            continue
        counter = int(ctx.txn.meta("next_mac", 0))
        ctx.txn.set_meta("next_mac", counter + 1)
        nic["Address"] = f"00155D38{counter % 0x10000:04X}"
        ctx.save(nic)


def _shutdown_component(ctx: Ctx, vm: Vm, *, present: bool) -> None:
    device_id = f"{vm.prefix}\\{catalog.SHUTDOWN_IC}"
    existing = ctx.query(SHUTDOWN, vm=vm.guid)
    if not present:
        for component in existing:
            ctx.delete(component)
        return
    setting = settings_of_kind(ctx, vm, catalog.SHUTDOWN_COMPONENT)
    if existing or (setting and setting[0].get("EnabledState") == 3):
        return
    component = ctx.create(ctx.new(
        SHUTDOWN, CreationClassName=SHUTDOWN, DeviceID=device_id,
        SystemCreationClassName=CS, SystemName=vm.guid, ElementName="Shutdown",
        Name="Shutdown", Caption="Shutdown", EnabledState=2, EnabledDefault=2,
        RequestedState=12, HealthState=5, OperationalStatus=[2], StatusDescriptions=["OK"],
    ), vm=vm.guid)
    ctx.link("Msvm_SystemDevice", vm=vm.guid, GroupComponent=vm.cs, PartComponent=component)


def _component_vm(ctx: Ctx, component: Instance | None) -> Vm:
    assert component is not None
    vm = load_vm(ctx, str(component.get("SystemName", "")))
    if vm is None:
        raise Refused(INVALID_STATE, "the shutdown component's virtual machine is gone",
                      job=False)
    if vm.state != RUNNING:
        raise Refused(INVALID_STATE, f"{vm.describe()} is {STATE_NAMES.get(vm.state)}; the "
                                     "guest must be running", job=False)
    return vm


@method(SHUTDOWN, "InitiateShutdown")
def initiate_shutdown(ctx: Ctx, component: Instance | None, args: Args) -> int:
    vm = _component_vm(ctx, component)
    enter_state(ctx, vm, RUNNING, OFF)
    return COMPLETED


@method(SHUTDOWN, "InitiateReboot")
def initiate_reboot(ctx: Ctx, component: Instance | None, args: Args) -> int:
    vm = _component_vm(ctx, component)
    enter_state(ctx, vm, RUNNING, RUNNING, reset=True)
    return COMPLETED


@method(SHUTDOWN, "InitiateHibernate")
def initiate_hibernate(ctx: Ctx, component: Instance | None, args: Args) -> int:
    _component_vm(ctx, component)
    raise Refused(NOT_SUPPORTED_VENDOR, "the emulated guest does not hibernate", job=False)
