"""Hyper-V's rules for what a VM's drives hold: real images, offline host disks, boot media.

These rules replace the device part's media and passthrough rules (`register_rules`)
and add a check at start (a guard on RequestStateChange(2), `providers.guards`):

- An image in a drive must exist on the host (job error 32779 otherwise) and be what
  the drive takes: a VHD or VHDX whose whole chain opens, with the extension of its real
  format, in a hard disk drive; an ISO 9660 / UDF image in a DVD drive; a 1.44 MB image
  in a floppy drive (32773 otherwise). Ejecting (`HostResource = []`) a DVD is allowed.
- IOPSLimit / IOPSReservation (0..1e9, limit >= reservation unless 0, changeable while
  the VM runs) are storage QoS for virtual hard disks only: non-zero on other media is
  refused.
- A passthrough disk must be offline on the host (32768 otherwise), as Hyper-V Manager
  and Add-VMHardDiskDrive require.
- Starting a VM opens everything it has attached: a missing or broken image, or a
  passthrough disk gone from the host, fails the start (job error 32768). A generation 2
  VM boots from VHDX only: if the first drive in its boot order holds a VHD, the start
  fails the same way (recorded choice: a VHD stays attachable as a data disk, so the
  rule is enforced where the firmware would boot from it).
"""

from __future__ import annotations

import vhdfile
from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.base import FAILED, Args, Ctx, Refused
from hyperv_emulator.providers.catalog import DeviceKind, kind_of
from hyperv_emulator.providers.checks import refuse
from hyperv_emulator.providers.devices import Media, PhysicalDisk, register_rules, vm_settings
from hyperv_emulator.providers.files import (
    FLOPPY_SIZE,
    check_extension,
    image_info,
    is_iso,
    local_path,
)
from hyperv_emulator.providers.guards import guard
from hyperv_emulator.providers.vms import OFF, SAVED, Vm, load_vm
from hyperv_emulator.schema.model import NS_STORAGE

QOS = ("IOPSLimit", "IOPSReservation")


def check_image(ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
    """The file a SASD names exists and is the kind of image its drive takes."""
    resources = setting.get("HostResource") or ()
    if not resources or not str(resources[0]).strip():
        return  # an empty DVD drive (the base rules refuse an empty hard disk image)
    text = str(resources[0])
    what = f"{kind.type_label}: HostResource"
    path = local_path(ctx, text, what, vm=vm)
    if kind is catalog.VHD:
        info = image_info(ctx, path, f"{what} {text!r}", vm)
        check_extension(text, info.format, what, vm)
    elif kind is catalog.ISO:
        if not is_iso(path):
            raise refuse(vm, f"{what} {text!r} is not an ISO image (no ISO 9660 or UDF volume "
                             "descriptor at sector 16)")
    elif kind is catalog.VFD:
        size = path.stat().st_size
        if size != FLOPPY_SIZE:
            raise refuse(vm, f"{what} {text!r} is {size} bytes; a virtual floppy disk is a "
                             f"1.44 MB image ({FLOPPY_SIZE} bytes)")


def check_qos(vm: Vm, kind: DeviceKind, setting: Instance) -> None:
    if kind is catalog.VHD:
        return
    for name in QOS:
        if setting.get(name):
            raise refuse(vm, f"{name} {setting.get(name)}: storage QoS applies to virtual hard "
                             f"disks, not to a {kind.type_label}")


class StorageMedia(Media):
    """Media in drives, on real files."""

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        super().add(ctx, vm, kind, setting)
        check_qos(vm, kind, setting)
        check_image(ctx, vm, kind, setting)

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        check_qos(vm, kind, new)
        if "hostresource" in changed:
            check_image(ctx, vm, kind, new)


class PassthroughDisk(PhysicalDisk):
    """A host disk passed through: it must exist and be offline on the host."""

    def check_host_resource(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        super().check_host_resource(ctx, vm, kind, setting)
        drive = ctx.get(setting["HostResource"][0])
        assert drive is not None
        number = drive.get("DriveNumber")
        disks = ctx.query("MSFT_Disk", NS_STORAGE, where=lambda d: d.get("Number") == number)
        if disks and not disks[0].get("IsOffline"):
            raise refuse(vm, f"host disk {number} is online on the host; Hyper-V passes "
                             "through offline disks only (take it offline first, or set the "
                             "SAN policy to OfflineShared)", code=FAILED)


for _name in ("vhd", "iso", "vfd"):
    register_rules(_name, StorageMedia())
register_rules("physical_disk", PassthroughDisk())


# -- at start -----------------------------------------------------------------------------


def _media_of(settings: list[Instance], drive: Instance) -> Instance | None:
    wanted = str(drive["InstanceID"]).lower().removesuffix("\\d") + "\\l"
    return next((s for s in settings if str(s.get("InstanceID", "")).lower() == wanted), None)


def _start_failure(vm: Vm, message: str) -> Refused:
    return Refused(FAILED, message, affected=[vm.cs], subject=f"'{vm.name}' failed to start.",
                   job_type=12)


def check_startable(ctx: Ctx, vm: Vm) -> None:
    """What a starting VM's worker opens must be there and bootable."""
    settings = vm_settings(ctx, vm, "CIM_ResourceAllocationSettingData")
    for setting in settings:
        kind = kind_of(setting)
        resources = setting.get("HostResource") or ()
        if kind in (catalog.VHD, catalog.ISO, catalog.VFD) and resources and resources[0]:
            try:
                check_image(ctx, vm, kind, setting)
            except Refused as refusal:
                raise _start_failure(vm, f"{vm.describe()} cannot open its "
                                         f"{kind.element_name.lower()}: {refusal.message}") \
                    from None
        elif kind is catalog.PHYSICAL_DISK:
            drive = ctx.get(resources[0]) if resources else None
            if drive is None:
                raise _start_failure(vm, f"{vm.describe()}: the host disk of its passthrough "
                                         f"drive {setting['InstanceID']} is gone")
    if vm.generation == 2:
        _check_gen2_boot(ctx, vm, settings)


def _check_gen2_boot(ctx: Ctx, vm: Vm, settings: list[Instance]) -> None:
    by_id = {str(s.get("InstanceID", "")).lower(): s for s in settings}
    for entry_path in vm.vssd.get("BootSourceOrder") or ():
        entry = ctx.get(entry_path)
        device = by_id.get(str(entry.get("OtherLocation", "")).lower()) if entry else None
        if device is None or kind_of(device) not in (catalog.DISK_DRIVE, catalog.DVD_DRIVE):
            continue
        media = _media_of(settings, device)
        if kind_of(device) is catalog.DISK_DRIVE and media is not None:
            text = (media.get("HostResource") or ("",))[0]
            path = local_path(ctx, text, "HostResource", vm=vm)
            if vhdfile.detect_format(path) is vhdfile.DiskFormat.VHD:
                raise _start_failure(vm, f"{vm.describe()} is a generation 2 virtual machine; "
                                         f"it boots from VHDX only, and its first boot drive "
                                         f"holds the VHD {text!r} (convert it to VHDX)")
        return  # the first drive in the boot order is the one the firmware boots


@guard("Msvm_ComputerSystem", "RequestStateChange")
def _on_start(ctx: Ctx, instance: Instance | None, args: Args) -> None:
    if instance is None or args.get("RequestedState") != 2:
        return
    vm = load_vm(ctx, str(instance.get("Name", "")))
    if vm is not None and vm.state in (OFF, SAVED):
        check_startable(ctx, vm)
