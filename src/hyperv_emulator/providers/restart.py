"""A host restart: what Hyper-V does to its VMs when Windows goes down and comes back.

Going down: every job in flight is cancelled (a VM in a transitional state goes back
to where it was) and then every job is gone, since jobs live in the management
service; each running or paused VM is stopped by its `AutomaticShutdownAction`
(2 Turn off and 4 Shut down leave it Off, 3 Save state leaves it Saved) and holds no
memory any more. Coming back: `Win32_OperatingSystem.LastBootUpTime` is now, and each
VM is started by its `AutomaticStartupAction` (2 None; 3 Restart if previously
active: started if it was running or paused when the host went down; 4 Always
start), in `AutomaticStartupActionSequenceNumber` order, then creation order, at once
(`AutomaticStartupActionDelay` is not waited for). A VM that cannot start (not enough
memory) stays where the shutdown left it, as on a real host.
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperv_emulator import jobs
from hyperv_emulator.cimtypes import now
from hyperv_emulator.providers import hostmemory, serialports
from hyperv_emulator.providers.base import CANCELLERS, Ctx, Refused
from hyperv_emulator.providers.runtime import enter_state
from hyperv_emulator.providers.seed import host_cs_path
from hyperv_emulator.providers.vms import OFF, PAUSED, RUNNING, SAVED, STATE_NAMES, all_vms
from hyperv_emulator.schema.model import NS_CIMV2

TURN_OFF, SAVE, SHUT_DOWN = 2, 3, 4
START_NONE, START_IF_ACTIVE, START_ALWAYS = 2, 3, 4


@dataclass(frozen=True)
class RestartOutcome:
    """What a restart did to one VM (states by name: Running, Off, Saved, Paused)."""

    name: str
    id: str
    before: str
    after_shutdown: str
    after: str
    note: str = ""


def restart(ctx: Ctx) -> list[RestartOutcome]:
    _drop_jobs(ctx)
    vms = all_vms(ctx)
    before = {vm.guid: vm.state for vm in vms}
    after_shutdown: dict[str, int] = {}
    for vm in vms:
        if vm.state in (RUNNING, PAUSED):
            action = vm.vssd.get("AutomaticShutdownAction", SAVE)
            enter_state(ctx, vm, vm.state, SAVED if action == SAVE else OFF)
        after_shutdown[vm.guid] = vm.state
    hostmemory.forget_all(ctx)
    serialports.forget_all(ctx)
    _booted(ctx)
    notes: dict[str, str] = {}
    order = sorted(range(len(vms)), key=lambda i: (
        int(vms[i].vssd.get("AutomaticStartupActionSequenceNumber") or 0), i))
    for index in order:
        vm = vms[index]
        action = vm.vssd.get("AutomaticStartupAction", START_IF_ACTIVE)
        active = before[vm.guid] in (RUNNING, PAUSED)
        if action == START_ALWAYS or (action == START_IF_ACTIVE and active):
            ctx.txn.conn.execute("SAVEPOINT autostart")
            try:
                enter_state(ctx, vm, vm.state, RUNNING)
            except Refused as refusal:
                ctx.txn.conn.execute("ROLLBACK TO autostart")
                vm.cs["EnabledState"] = after_shutdown[vm.guid]
                notes[vm.guid] = f"could not start: {refusal.message}"
            ctx.txn.conn.execute("RELEASE autostart")
    return [
        RestartOutcome(vm.name, vm.guid, STATE_NAMES[before[vm.guid]],
                       STATE_NAMES[after_shutdown[vm.guid]], STATE_NAMES[vm.state],
                       notes.get(vm.guid, ""))
        for vm in vms
    ]


def _drop_jobs(ctx: Ctx) -> None:
    """Cancel what is in flight, then forget every job (the service that held them died)."""
    for job in ctx.query(jobs.JOB_CLASS):
        if job.get("JobState") == jobs.RUNNING:
            then = ctx.aux(job).get("then")
            if then is not None and then[0] in CANCELLERS:
                CANCELLERS[then[0]](ctx, then[1])
        ctx.delete(job)


def _booted(ctx: Ctx) -> None:
    stamp = now()
    if ctx.has_class("Win32_OperatingSystem", NS_CIMV2):
        for system in ctx.query("Win32_OperatingSystem", NS_CIMV2):
            system["LastBootUpTime"] = stamp
            ctx.save(system)
    host = ctx.get(host_cs_path(ctx))
    if host is not None:
        host["TimeOfLastStateChange"] = stamp
        ctx.save(host)
