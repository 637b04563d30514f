"""A VM's life: RequestStateChange, the shutdown component, and host memory.

States are the v2 EnabledState values (2 running, 3 off, 6 saved, 9 paused). A
request the VM cannot take from where it is (including the state it is already
in, and anything while a change is under way) returns 32775 synchronously, as on a
real host; an accepted one puts the VM in the transitional state (10 starting,
4 stopping, 32773 saving, 32776 pausing, 32777 resuming, 11 resetting) and returns
4096; the job's end moves it to the target. Msvm_ShutdownComponent exists only
while the guest runs. A running VM holds its memory on the host's NUMA nodes, which
Msvm_NumaNode, Msvm_Memory and Win32_OperatingSystem report.
"""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Callable
from typing import Any

from hyperv_emulator.cimtypes import now, parse_datetime
from hyperv_emulator.instances import Instance
from hyperv_emulator.jobs import start_job
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.base import (
    COMPLETED,
    INVALID_STATE,
    JOB_STARTED,
    NOT_SUPPORTED_VENDOR,
    OUT_OF_MEMORY,
    Args,
    Ctx,
    Refused,
    continuation,
    method,
    read_hook,
)
from hyperv_emulator.providers.devices import settings_of_kind
from hyperv_emulator.providers.seed import HOST_MEMORY_ID
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
from hyperv_emulator.schema.model import NS_CIMV2

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


# -- host memory --------------------------------------------------------------------

Placement = dict[int, int]  # NUMA node -> MB


def _numa_used(ctx: Ctx) -> list[int]:
    used = ctx.txn.meta("numa_used")
    nodes = len(ctx.profile.numa_nodes)
    if not isinstance(used, list) or len(used) != nodes:
        used = [0] * nodes
    return used


def startup_memory(ctx: Ctx, vm: Vm) -> int:
    memory = settings_of_kind(ctx, vm, catalog.MEMORY)
    return int(memory[0].get("VirtualQuantity", 1024)) if memory else 1024


def spanning_enabled(ctx: Ctx) -> bool:
    settings = ctx.query("Msvm_VirtualSystemManagementServiceSettingData")
    return bool(settings[0].get("NumaSpanningEnabled", True)) if settings else True


def default_placement(ctx: Ctx, vm: Vm, needed: int) -> Placement:
    """Where a starting VM's memory goes: one node if it fits, else spread (if allowed).

    Replaceable (`set_memory_placement`): the emulator's NUMA part refines it.
    """
    free = [node.memory_mb - used for node, used in zip(ctx.profile.numa_nodes,
                                                        _numa_used(ctx), strict=True)]
    best = max(range(len(free)), key=lambda n: free[n])
    if free[best] >= needed:
        return {best: needed}
    if sum(free) < needed or not spanning_enabled(ctx):
        raise Refused(
            OUT_OF_MEMORY,
            f"not enough memory to start {vm.describe()}: it needs {needed} MB; the host has "
            f"{sum(free)} MB free ({', '.join(f'node {n}: {f} MB' for n, f in enumerate(free))})"
            + ("" if spanning_enabled(ctx) else " and NUMA spanning is disabled"),
            affected=[vm.cs], subject=f"'{vm.name}' failed to start.",
        )
    placement: Placement = {}
    remaining = needed
    for node in sorted(range(len(free)), key=lambda n: -free[n]):
        take = min(free[node], remaining)
        if take > 0:
            placement[node] = take
            remaining -= take
    return placement


_placement: list[Callable[[Ctx, Vm, int], Placement]] = [default_placement]


def set_memory_placement(placer: Callable[[Ctx, Vm, int], Placement]) -> None:
    _placement[0] = placer


def _account(ctx: Ctx, used: list[int]) -> None:
    ctx.txn.set_meta("numa_used", used)
    for number, (node, taken) in enumerate(zip(ctx.profile.numa_nodes, used, strict=True)):
        free = max(0, node.memory_mb - taken)
        for numa in ctx.query("Msvm_NumaNode",
                              hint=("eq", "NodeID", f"Microsoft:PhysicalNode\\{number}")):
            numa["CurrentlyConsumableMemoryBlocks"] = free
            ctx.save(numa)
        for memory in ctx.query("Msvm_Memory",
                                hint=("eq", "DeviceID", f"{HOST_MEMORY_ID}\\{number}")):
            memory["ConsumableBlocks"] = free
            ctx.save(memory)
    if ctx.has_class("Win32_OperatingSystem", NS_CIMV2):
        for system in ctx.query("Win32_OperatingSystem", NS_CIMV2):
            free_kb = max(0, ctx.profile.memory_mb - sum(used)) * 1024
            system["FreePhysicalMemory"] = free_kb
            system["FreeVirtualMemory"] = free_kb
            ctx.save(system)


def hold_host_memory(ctx: Ctx, vm: Vm) -> Placement:
    placement = _placement[0](ctx, vm, startup_memory(ctx, vm))
    used = _numa_used(ctx)
    for node, megabytes in placement.items():
        used[node] += megabytes
    _account(ctx, used)
    aux = ctx.aux(vm.cs)
    aux["placement"] = {str(k): v for k, v in placement.items()}
    ctx.set_aux(vm.cs, aux)
    return placement


def release_host_memory(ctx: Ctx, cs: Instance) -> None:
    """Give back what a VM held when it stops running (off or saved)."""
    aux = ctx.aux(cs)
    held = aux.pop("placement", None)
    if not held:
        return
    ctx.set_aux(cs, aux)
    used = _numa_used(ctx)
    for node, megabytes in held.items():
        used[int(node)] = max(0, used[int(node)] - int(megabytes))
    _account(ctx, used)


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
              subject=f"'{vm.name}'")
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
        hold_host_memory(ctx, vm)
        _assign_dynamic_macs(ctx, vm)
        cs["ProcessID"] = random.randrange(1000, 65000)
        _shutdown_component(ctx, vm, present=True)
    if target in (OFF, SAVED):
        release_host_memory(ctx, cs)
        _shutdown_component(ctx, vm, present=False)
        cs["ProcessID"] = None
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
