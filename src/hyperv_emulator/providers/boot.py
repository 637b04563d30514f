"""Boot order: generation 2 boot sources and the generation 1 BIOS order.

Generation 2 (reference notes §4.7): a `Msvm_BootSourceSettingData` appears when a
bootable device is added (a drive on a SCSI controller: "EFI SCSI Device"; a NIC:
"EFI Network"), tied to the device's setting by `Msvm_LogicalIdentity`, and its path
is appended to the VSSD's `BootSourceOrder`; removing the device removes both. A
client reorders by writing `BootSourceOrder` back; os-win upper-cases the paths, so
entries are matched case-insensitively and stored in canonical form.

Generation 1: `BootOrder` holds at most four distinct device classes (0 floppy,
1 CD, 2 IDE disk, 3 PXE).
"""

from __future__ import annotations

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers.base import Ctx, new_guid
from hyperv_emulator.providers.checks import refuse
from hyperv_emulator.providers.vms import Vm
from hyperv_emulator.store import instance_key, path_text_key

DRIVE = 1
NETWORK = 2
BSSD = "Msvm_BootSourceSettingData"
# EFI device path of a VMBus device (the SCSI and network vendor GUIDs are our choice).
_VMBUS = "\\AcpiEx(VMBus,0,0)"


def add_boot_source(ctx: Ctx, vm: Vm, device: Instance, source_type: int,
                    location: str) -> Instance | None:
    """Create the boot entry of a new bootable device (generation 2 only)."""
    if vm.generation != 2 or not ctx.has_class(BSSD):
        return None
    description = "EFI SCSI Device" if source_type == DRIVE else "EFI Network"
    entry = ctx.create(ctx.new(
        BSSD, InstanceID=f"{vm.prefix}\\BootSource\\{new_guid()}",
        ElementName=description, Caption="Boot Source", BootSourceType=source_type,
        BootSourceDescription=description, FirmwareDevicePath=f"{_VMBUS}{location}",
        OtherLocation=device["InstanceID"],
    ), vm=vm.guid)
    ctx.link("Msvm_LogicalIdentity", vm=vm.guid, SystemElement=device, SameElement=entry)
    order = list(vm.vssd.get("BootSourceOrder", ()))
    order.append(ctx.path(entry))
    vm.vssd["BootSourceOrder"] = order
    ctx.save(vm.vssd)
    return entry


def remove_boot_source(ctx: Ctx, vm: Vm, device: Instance) -> None:
    """Drop a device's boot entry and its place in BootSourceOrder."""
    for link in ctx.txn.referencing(device):
        if not link.is_a("CIM_LogicalIdentity"):
            continue
        entry = ctx.get(link["SameElement"])
        if entry is None:
            continue
        gone = instance_key(entry)
        ctx.delete(entry)
        order = [p for p in vm.vssd.get("BootSourceOrder", ()) if _key(p) != gone]
        vm.vssd["BootSourceOrder"] = order
        ctx.save(vm.vssd)


def _key(path: str) -> str:
    return path_text_key(path) or path.lower()


def normalized_order(ctx: Ctx, vm: Vm, wanted: tuple[str, ...]) -> list[str]:
    """A client's BootSourceOrder as canonical paths of this VM's boot entries.

    Unknown or duplicate entries are refused; entries the client left out keep their
    relative order after the ones it named (os-win sends exactly the permutation).
    """
    entries = {
        instance_key(e): ctx.path(e)
        for e in ctx.query(BSSD, vm=vm.guid, hint=("prefix", "InstanceID", vm.prefix + "\\"))
    }
    result: list[str] = []
    seen: set[str] = set()
    for text in wanted:
        key = _key(text)
        if key not in entries:
            raise refuse(vm, f"BootSourceOrder entry {text!r} is not a boot source of "
                             f"{vm.describe()}")
        if key in seen:
            raise refuse(vm, f"BootSourceOrder names {text!r} twice")
        seen.add(key)
        result.append(entries[key])
    for current in vm.vssd.get("BootSourceOrder", ()):
        key = _key(current)
        if key not in seen and key in entries:
            result.append(entries[key])
            seen.add(key)
    return result


def check_bios_order(vm: Vm, order: tuple[int, ...]) -> None:
    if vm.generation != 1:
        raise refuse(vm, "BootOrder is a generation 1 setting; generation 2 virtual machines "
                         "use BootSourceOrder")
    if len(order) > 4:
        raise refuse(vm, f"BootOrder {list(order)} has {len(order)} entries; at most 4")
    if len(set(order)) != len(order):
        raise refuse(vm, f"BootOrder {list(order)} names a device class twice")
    if any(item not in (0, 1, 2, 3) for item in order):
        raise refuse(vm, f"BootOrder {list(order)}: generation 1 boots from 0 (floppy), "
                         "1 (CD), 2 (IDE disk) or 3 (network) only")
