"""Rescue: a rescue disk boots the VM in place of its root, the root attached beside it.

The VM stays the same VM (its GUID, NICs and MACs, vTPM, Secure Boot); only what its
boot drive holds changes. The boot drive is the root's: IDE 0:0 on generation 1 (the
BIOS boots the first IDE hard drive), SCSI 0:0 on generation 2 (its boot entry is the
drive's, first in BootSourceOrder, so swapping the image keeps it first). So a rescue is:

1. ModifyResourceSettings: the boot drive's image becomes the rescue disk;
2. AddResourceSettings: a drive for the root on the first free slot (generation 1: IDE,
   then SCSI; generation 2: SCSI), then 3. its image.

Unrescue removes that drive with its image (one RemoveResourceSettings) and puts the
root back in the boot drive. Both run on a VM that is off; a failure part-way puts back
what was changed before raising.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from nova_hyperv.cim import CimInstance, CimSession, like_prefix, parse_path, quote
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.errors import HyperVError
from nova_hyperv.hyperv.names import ResourceType, SubType
from nova_hyperv.hyperv.vms import Vm

__all__ = ["RescueError", "VmDisks", "VmFirmware", "read_disks", "read_firmware",
           "rescue_disk", "unrescue_disk"]

LOG = logging.getLogger(__name__)

IDE_SLOTS, SCSI_SLOTS = 2, 64


class RescueError(HyperVError):
    """The VM's disks are not as a rescue (or an unrescue) needs them."""


@dataclass(frozen=True)
class VmFirmware:
    generation: int
    secure_boot: bool


def read_firmware(session: CimSession, vm: Vm) -> VmFirmware:
    """The VM's generation and Secure Boot, from its settings (one query)."""
    [settings] = session.query(
        f"SELECT VirtualSystemSubType, SecureBootEnabled FROM {names.VSSD} "
        f"WHERE InstanceID = {quote(vm.vssd_id)}")
    generation = 2 if settings.get("VirtualSystemSubType") == names.SUBTYPES[2] else 1
    return VmFirmware(generation, generation == 2 and bool(settings.get("SecureBootEnabled")))


def _key(path: str) -> tuple[str, frozenset[tuple[str, str]]]:
    parsed = parse_path(path)
    return parsed.class_name.lower(), frozenset((k.lower(), str(v).lower())
                                                for k, v in parsed.keys.items())


@dataclass
class Drive:
    bus: str
    controller: int
    slot: int
    setting: CimInstance
    image: CimInstance | None = None  # the image (SASD) it holds

    @property
    def file(self) -> str | None:
        found = (self.image.get("HostResource") or ()) if self.image is not None else ()
        return str(found[0]) if found and found[0] else None


@dataclass
class VmDisks:
    """The VM's controllers and hard disk drives with their images (one query)."""

    controllers: dict[tuple[str, int], str] = field(default_factory=dict)  # -> path
    drives: list[Drive] = field(default_factory=list)

    def at(self, bus: str, controller: int, slot: int) -> Drive | None:
        return next((d for d in self.drives
                     if (d.bus, d.controller, d.slot) == (bus, controller, slot)), None)

    def holding(self, file: str) -> list[Drive]:
        return [d for d in self.drives if d.file is not None and _same_file(d.file, file)]

    def free_slot(self, generation: int) -> tuple[str, int, int]:
        """The first free slot for a data disk: IDE first on generation 1 (the BIOS's
        bus, seen by every guest), then SCSI. IDE 1:0 is the config drive's."""
        taken = {(d.bus, d.controller, d.slot) for d in self.drives}
        candidates: list[tuple[str, int, int]] = []
        if generation == 1:
            candidates += [("ide", 0, 1), ("ide", 1, 1)]
        candidates += [("scsi", 0, slot) for slot in range(SCSI_SLOTS)]
        for where in candidates:
            if where not in taken and (where[0], where[1]) in self.controllers:
                return where
        raise RescueError("the VM has no free drive slot for its root disk")


def _same_file(a: str, b: str) -> bool:
    return a.replace("/", "\\").lower() == b.replace("/", "\\").lower()


def read_disks(session: CimSession, vm: Vm) -> VmDisks:
    found = session.query(f"SELECT * FROM {names.ANY_RASD} WHERE InstanceID LIKE "
                          f"{like_prefix(f'Microsoft:{vm.guid}')}")
    disks = VmDisks()
    controllers: dict[object, tuple[str, int]] = {}
    scsi = 0
    for device in found:
        subtype = device.get("ResourceSubType")
        if subtype == SubType.IDE_CONTROLLER:
            where = ("ide", int(device.get("Address", 0) or 0))
        elif subtype == SubType.SCSI_CONTROLLER:
            where, scsi = ("scsi", scsi), scsi + 1
        else:
            continue
        disks.controllers[where] = device.path
        controllers[_key(device.path)] = where
    images = {_key(str(d["Parent"])): d for d in found
              if d.get("ResourceSubType") == SubType.VHD and d.get("Parent")}
    for device in found:
        parent = device.get("Parent")
        if device.get("ResourceSubType") != SubType.DISK_DRIVE or not parent:
            continue
        where = controllers.get(_key(str(parent)))
        if where is not None:
            disks.drives.append(Drive(where[0], where[1],
                                      int(device.get("AddressOnParent", 0) or 0), device,
                                      images.get(_key(device.path))))
    return disks


def _set_image(session: CimSession, service: CimInstance, drive: Drive, file: str,
               timeout: float | None) -> None:
    assert drive.image is not None
    image = drive.image
    image["HostResource"] = [file]
    result = session.invoke(service, "ModifyResourceSettings", ResourceSettings=[image])
    session.finish(result, f"putting {file} in the VM's boot drive", timeout=timeout)


def _new(session: CimSession, class_name: str, **values: object) -> CimInstance:
    instance = session.new_instance(class_name)
    for name, value in values.items():
        instance[name] = value
    return instance


def _boot_drive(disks: VmDisks, generation: int) -> Drive:
    bus = "ide" if generation == 1 else "scsi"
    drive = disks.at(bus, 0, 0)
    if drive is None or drive.file is None:
        raise RescueError(f"the VM has no virtual hard disk in its boot drive ({bus.upper()} "
                          "0:0): it boots from a volume or a DVD")
    return drive


def rescue_disk(session: CimSession, service: CimInstance, vm: Vm, generation: int, *,
                root: str, rescue: str, timeout: float | None = None) -> None:
    """Boot `rescue` in place of `root`, `root` attached on the first free slot."""
    disks = read_disks(session, vm)
    boot = _boot_drive(disks, generation)
    if not _same_file(boot.file or "", root):
        raise RescueError(f"the VM's boot drive holds {boot.file}, not its root disk {root}")
    bus, controller, slot = disks.free_slot(generation)
    _set_image(session, service, boot, rescue, timeout)
    added: str | None = None
    try:
        drive = _new(session, names.RASD, ResourceType=int(ResourceType.DISK_DRIVE),
                     ResourceSubType=SubType.DISK_DRIVE,
                     Parent=disks.controllers[(bus, controller)], AddressOnParent=str(slot))
        result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm.path,
                                ResourceSettings=[drive])
        session.finish(result, "adding a drive for the root disk", timeout=timeout)
        [added] = result["ResultingResourceSettings"]
        image = _new(session, names.SASD, ResourceType=int(ResourceType.LOGICAL_DISK),
                     ResourceSubType=SubType.VHD, Parent=added, HostResource=[root])
        if boot.image is not None and boot.image.get("IOPSLimit"):
            image["IOPSLimit"] = boot.image.get("IOPSLimit")  # the root keeps its QoS
        result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm.path,
                                ResourceSettings=[image])
        session.finish(result, f"attaching the root disk on {bus.upper()} {controller}:{slot}",
                       timeout=timeout)
    except Exception:
        try:
            if added is not None:
                result = session.invoke(service, "RemoveResourceSettings",
                                        ResourceSettings=[added])
                session.finish(result, "removing the root disk's new drive", timeout=timeout)
            _set_image(session, service, boot, root, timeout)
        except Exception as cleanup:
            LOG.warning("could not undo a part-made rescue of %s: %s", vm.name, cleanup)
        raise


def unrescue_disk(session: CimSession, service: CimInstance, vm: Vm, generation: int, *,
                  root: str, timeout: float | None = None) -> None:
    """Put `root` back in the boot drive and take its rescue-time drive away."""
    disks = read_disks(session, vm)
    boot = _boot_drive(disks, generation)
    extra = [d for d in disks.holding(root) if d is not boot]
    if extra:
        settings = [d.image.path for d in extra if d.image is not None]
        result = session.invoke(service, "RemoveResourceSettings",
                                ResourceSettings=settings + [d.setting.path for d in extra])
        session.finish(result, "removing the root disk's rescue-time drive", timeout=timeout)
    if not _same_file(boot.file or "", root):
        _set_image(session, service, boot, root, timeout)
