"""Which serial endpoints must exist, and what the emulated guest writes to them.

Kept in the state file, in the transaction that changes a VM, so every process sees
the same answer: the meta entry `serial_endpoints` maps each running (or paused) VM
that has a COM port connected to a local named pipe to its ports, its boot number and
its boot log (under `vms`, with an `epoch` and a `version` that grows at every change,
so a server never applies an older answer over a newer one).
`hyperv_emulator.serial` serves real sockets from it.

A VM's pipes are created anew each time it starts from Off or Saved (its `run`); it
boots when it starts from Off and when it is reset or rebooted (a restore from Saved
or a resume continues the same boot). Each boot writes a deterministic log to
COM 1: the VM's name, generation, firmware (BIOS or UEFI) and Secure Boot state with
its template, then a login prompt.

Two running VMs may name the same pipe; the first to start owns it (a real host could
create the pipe only once), and the other's port is listed under `conflicts`.
"""

from __future__ import annotations

from typing import Any

from hyperv_emulator.instances import Instance
from hyperv_emulator.pipes import is_local, socket_name
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.after_modify import after_modify
from hyperv_emulator.providers.base import Ctx, new_guid
from hyperv_emulator.providers.devices import settings_of_kind
from hyperv_emulator.providers.vms import PAUSED, RUNNING, Vm

ENDPOINTS_KEY = "serial_endpoints"
NOTE = "serial_endpoints"  # Txn.notes key: the new value, for the after-commit hook
_TEMPLATE_NAMES = {guid.upper(): name for name, (guid, _) in
                   catalog.SECURE_BOOT_TEMPLATES.items()}


def boot_log(vm: Vm, boot: int) -> str:
    """What the guest writes to COM 1 when it boots (CRLF lines, as a serial console)."""
    generation = vm.generation
    raw = vm.vssd.raw
    if generation == 1:
        secure = "not available (BIOS)"
    elif raw.get("securebootenabled"):
        template = str(raw.get("secureboottemplateid") or "").strip("{}").upper()
        name = _TEMPLATE_NAMES.get(template, template)
        secure = f"on, template {name}" if name else "on"
    else:
        secure = "off"
    lines = [
        f"Hyper-V emulated guest, boot {boot}",
        f"Virtual machine: {vm.name}",
        f"Generation: {generation}",
        f"Firmware: {'UEFI' if generation == 2 else 'BIOS'}",
        f"Secure Boot: {secure}",
        "",
        f"{vm.name} login: ",
    ]
    return "\r\n".join(lines)


def started(ctx: Ctx, vm: Vm) -> None:
    """The VM's worker starts (from Off or Saved): its pipes are new ones."""
    aux = ctx.aux(vm.cs)
    aux["runs"] = int(aux.get("runs", 0)) + 1
    ctx.set_aux(vm.cs, aux)


def booted(ctx: Ctx, vm: Vm) -> int:
    """The guest (re)boots: count the boot and write down its log."""
    aux = ctx.aux(vm.cs)
    boot = int(aux.get("boots", 0)) + 1
    aux["boots"] = boot
    aux["boot_log"] = boot_log(vm, boot)
    ctx.set_aux(vm.cs, aux)
    return boot


def local_ports(ctx: Ctx, vm: Vm, replaced: Instance | None = None) -> dict[str, str]:
    """COM number -> pipe path of the VM's ports connected to a pipe on this host."""
    ports: dict[str, str] = {}
    replaced_id = str(replaced.get("InstanceID", "")).upper() if replaced is not None else None
    for setting in settings_of_kind(ctx, vm, catalog.SERIAL_PORT):
        if replaced_id and str(setting.get("InstanceID", "")).upper() == replaced_id:
            setting = replaced
        pipe = (setting.get("Connection") or ("",))[0]
        if not pipe:
            continue
        try:
            local = is_local(pipe, ctx.hostname)
        except ValueError:
            continue
        if local:
            ports[str(int(setting.get("AddressOnParent", 0)) + 1)] = pipe
    return ports


def refresh(ctx: Ctx, vm: Vm, replaced: Instance | None = None) -> None:
    """Bring the VM's entry in line with its state and ports (call after either changes)."""
    endpoints = dict(current(ctx).get("vms", {}))
    before = endpoints.get(vm.guid)
    entry = None
    if vm.state in (RUNNING, PAUSED):
        ports = local_ports(ctx, vm, replaced)
        if ports:
            aux = ctx.aux(vm.cs)
            boot = int(aux.get("boots", 0)) or booted(ctx, vm)
            taken = _owners(endpoints, vm.guid)
            served: dict[str, str] = {}
            for com, pipe in sorted(ports.items()):
                if socket_name(pipe) not in taken:
                    served[com] = pipe
                    taken[socket_name(pipe)] = vm.name  # one pipe, one port
            entry = {
                "name": vm.name,
                "run": int(ctx.aux(vm.cs).get("runs", 0)),
                "boot": boot,
                "log": ctx.aux(vm.cs).get("boot_log") or boot_log(vm, boot),
                "paused": vm.state == PAUSED,
                "ports": served,
                "conflicts": {com: taken[socket_name(pipe)] for com, pipe in ports.items()
                              if com not in served},
            }
    if entry == before:
        return
    if entry is None:
        endpoints.pop(vm.guid, None)
    else:
        endpoints[vm.guid] = entry  # a VM already listed keeps its place (and its pipes)
    _store(ctx, endpoints)


def current(ctx: Ctx) -> dict[str, Any]:
    found = ctx.txn.meta(ENDPOINTS_KEY)
    return found if isinstance(found, dict) and "vms" in found else {}


def _store(ctx: Ctx, endpoints: dict[str, Any]) -> None:
    before = current(ctx)
    state = {"epoch": before.get("epoch") or new_guid(),
             "version": int(before.get("version", 0)) + 1, "vms": endpoints}
    ctx.txn.set_meta(ENDPOINTS_KEY, state)
    ctx.txn.notes[NOTE] = state


def _owners(endpoints: dict[str, Any], guid: str) -> dict[str, str]:
    """Socket names already served for other VMs -> the VM's name."""
    taken: dict[str, str] = {}
    for other, entry in endpoints.items():
        if other == guid:
            continue
        for pipe in entry.get("ports", {}).values():
            taken.setdefault(socket_name(pipe), entry.get("name", other))
    return taken


def forget_all(ctx: Ctx) -> None:
    """No VM runs any more (the host restarts or is reset)."""
    if current(ctx).get("vms"):
        _store(ctx, {})


def _pipe_changed(ctx: Ctx, vm: Vm, port: Instance, changed: set[str]) -> None:
    """A pipe set, changed or cleared while the VM runs takes effect at once."""
    if "connection" in changed:
        refresh(ctx, vm, replaced=port)


after_modify(catalog.SERIAL_PORT, _pipe_changed)
