"""A VM's drives, and volumes put on them or taken off.

One query (`CIM_ResourceAllocationSettingData WHERE InstanceID LIKE 'Microsoft:<VM>%'`)
gives the controllers, every drive with its slot and what it holds: what attach needs to
pick a slot, what detach and the device metadata need to find a volume.

A volume's drive carries the volume id as its ElementName (the "serial tag"), so it is
found without resolving host disk numbers or paths (which change: a host disk is
renumbered after a reboot). An iSCSI / FC volume is a Physical Disk Drive whose
HostResource is the host's Msvm_DiskDrive (one AddResourceSettings); an SMB volume is a
Synthetic Disk Drive plus its image (two, since the image's Parent is the drive's path),
with its IOPS limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nova_hyperv.cim import CimInstance, CimSession, like_prefix, parse_path
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.names import ResourceType, SubType
from nova_hyperv.hyperv.volumes.hostdisks import HostVolume

__all__ = ["VmDisks", "VmDrive", "attach", "detach", "read_vm_disks", "repoint",
           "same_resource"]


def _key(path: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parsed = parse_path(path)
    return parsed.class_name.lower(), tuple(sorted(
        (k.lower(), v.lower()) for k, v in parsed.keys.items()))


def same_resource(a: str, b: str) -> bool:
    """Whether two object paths name the same object (however each is spelled)."""
    try:
        return _key(a) == _key(b)
    except ValueError:
        return a.lower() == b.lower()


@dataclass(frozen=True)
class VmDrive:
    bus: str  # ide | scsi
    controller: int
    slot: int
    kind: str  # passthrough | disk | dvd
    serial: str  # ElementName: the volume id on a volume's drive
    setting: CimInstance  # the drive's RASD
    resource: str | None = None  # passthrough: host Msvm_DiskDrive; else the image path
    medium: CimInstance | None = None  # the image's SASD (disks and DVDs)

    @property
    def path(self) -> str:
        return self.setting.path


@dataclass
class VmDisks:
    guid: str
    ide: dict[int, str] = field(default_factory=dict)  # IDE Address -> controller path
    scsi: list[str] = field(default_factory=list)  # SCSI controllers, in order
    drives: list[VmDrive] = field(default_factory=list)

    def occupied(self) -> list[tuple[str, int, int]]:
        return [(d.bus, d.controller, d.slot) for d in self.drives]

    def volume(self, serial: str) -> VmDrive | None:
        wanted = serial.lower()
        return next((d for d in self.drives if d.serial.lower() == wanted), None)

    def controller_path(self, bus: str, controller: int) -> str:
        found = self.ide.get(controller) if bus == "ide" else (
            self.scsi[controller] if 0 <= controller < len(self.scsi) else None)
        if found is None:
            raise LookupError(f"the VM has no {bus.upper()} controller {controller}")
        return found


_DRIVE_KINDS = {SubType.PHYSICAL_DISK: "passthrough", SubType.DISK_DRIVE: "disk",
                SubType.DVD_DRIVE: "dvd"}


def read_vm_disks(session: CimSession, guid: str) -> VmDisks:
    """The VM's controllers and drives (one query)."""
    found = session.query(f"SELECT * FROM {names.ANY_RASD} WHERE InstanceID LIKE "
                          f"{like_prefix(f'Microsoft:{guid}')}")
    disks = VmDisks(guid)
    controllers: dict[object, tuple[str, int]] = {}
    media: dict[object, CimInstance] = {}
    for device in found:
        subtype = device.get("ResourceSubType")
        if subtype == SubType.IDE_CONTROLLER:
            address = int(device.get("Address", 0) or 0)
            disks.ide[address] = device.path
            controllers[_key(device.path)] = ("ide", address)
        elif subtype == SubType.SCSI_CONTROLLER:
            controllers[_key(device.path)] = ("scsi", len(disks.scsi))
            disks.scsi.append(device.path)
        elif subtype in (SubType.VHD, SubType.ISO) and device.get("Parent"):
            media[_key(str(device["Parent"]))] = device
    for device in found:
        kind = _DRIVE_KINDS.get(device.get("ResourceSubType"))
        parent = device.get("Parent")
        where = controllers.get(_key(str(parent))) if parent and kind else None
        if where is None:
            continue
        medium = media.get(_key(device.path))
        holder = device if kind == "passthrough" else medium
        resources = (holder.get("HostResource") or ()) if holder is not None else ()
        disks.drives.append(VmDrive(
            bus=where[0], controller=where[1], slot=int(device.get("AddressOnParent", 0) or 0),
            kind=kind, serial=str(device.get("ElementName") or ""), setting=device,  # type: ignore[arg-type]
            resource=str(resources[0]) if resources and resources[0] else None,
            medium=medium))
    return disks


def _new(session: CimSession, class_name: str, **values: object) -> CimInstance:
    instance = session.new_instance(class_name)
    for name, value in values.items():
        instance[name] = value
    return instance


def attach(session: CimSession, service: CimInstance, vm_path: str, disks: VmDisks, *,
           bus: str, controller: int, slot: int, serial: str, volume: HostVolume,
           iops_limit: int | None = None, timeout: float | None = None) -> None:
    """Put a connected volume on the VM at bus/controller/slot, tagged with `serial`."""
    parent = disks.controller_path(bus, controller)
    if volume.kind == "passthrough":
        drive = _new(session, names.RASD, ResourceType=int(ResourceType.DISK_DRIVE),
                     ResourceSubType=SubType.PHYSICAL_DISK, Parent=parent,
                     AddressOnParent=str(slot), HostResource=[volume.resource],
                     ElementName=serial)
        result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm_path,
                                ResourceSettings=[drive])
        session.finish(result, f"passing host disk {volume.disk.number if volume.disk else ''}"
                               f" through as volume {serial}", timeout=timeout)
        return
    drive = _new(session, names.RASD, ResourceType=int(ResourceType.DISK_DRIVE),
                 ResourceSubType=SubType.DISK_DRIVE, Parent=parent, AddressOnParent=str(slot),
                 ElementName=serial)
    result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm_path,
                            ResourceSettings=[drive])
    session.finish(result, f"adding a drive for volume {serial}", timeout=timeout)
    [added] = result["ResultingResourceSettings"]
    medium = _new(session, names.SASD, ResourceType=int(ResourceType.LOGICAL_DISK),
                  ResourceSubType=SubType.VHD, Parent=added, HostResource=[volume.resource])
    if iops_limit:
        medium["IOPSLimit"] = iops_limit
    try:
        result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm_path,
                                ResourceSettings=[medium])
        session.finish(result, f"attaching volume {serial}'s image {volume.resource}",
                       timeout=timeout)
    except Exception:
        result = session.invoke(service, "RemoveResourceSettings", ResourceSettings=[added])
        session.finish(result, f"removing the drive of volume {serial}", timeout=timeout)
        raise


def detach(session: CimSession, service: CimInstance, drive: VmDrive,
           timeout: float | None = None) -> None:
    """Take a volume's drive (and its image) off the VM (one call)."""
    settings = ([drive.medium.path] if drive.medium is not None else []) + [drive.path]
    result = session.invoke(service, "RemoveResourceSettings", ResourceSettings=settings)
    session.finish(result, f"removing volume {drive.serial} from the VM", timeout=timeout)


def repoint(session: CimSession, service: CimInstance, drive: VmDrive, resource: str,
            timeout: float | None = None) -> None:
    """Make a passthrough drive name the host disk its volume is now."""
    setting = drive.setting
    setting["HostResource"] = [resource]
    result = session.invoke(service, "ModifyResourceSettings", ResourceSettings=[setting])
    session.finish(result, f"pointing volume {drive.serial} at its host disk", timeout=timeout)
