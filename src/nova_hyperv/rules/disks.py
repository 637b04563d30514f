"""The VM's drives: which disks, on which bus, controller and slot.

A generation 1 VM has two IDE controllers of two slots each (it boots from IDE) plus
the SCSI controller the driver adds; a generation 2 VM has SCSI only. The root disk
takes the first slot of the boot bus. A gen1 config drive keeps IDE controller 1,
slot 0; a gen2 config drive takes the first SCSI slot left after every other disk (one
is kept for it). Other disks default to SCSI; bus names are case-insensitive and may
carry spaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nova_hyperv.rules.disk_size import GIB, MIB
from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.plan import DiskPlan
from nova_hyperv.rules.qos import iops_limit
from nova_hyperv.rules.request import BlockDevices, Ephemeral, Flavor, Volume
from nova_hyperv.rules.values import Spot, to_int

__all__ = ["CONNECTION_TYPES", "RootDisk", "plan_disks", "plan_volume_attach"]

IDE_CONTROLLERS, IDE_SLOTS = 2, 2
SCSI_CONTROLLERS, SCSI_SLOTS = 1, 64
CONNECTION_TYPES = ("iscsi", "fibre_channel", "smbfs")
BUSES = ("ide", "scsi")


@dataclass(frozen=True)
class RootDisk:
    """The root as the rules decided it: an image file (disk or ISO) or a volume."""

    kind: str  # root | iso_root
    file_format: str | None  # vhd | vhdx | iso; None for a volume
    virtual_size: int | None
    volume: Volume | None = None


class _Slots:
    def __init__(self, generation: int, config_drive: bool) -> None:
        self.generation = generation
        self.config_drive = config_drive
        self.free: dict[str, list[list[int]]] = {
            "ide": [list(range(IDE_SLOTS)) for _ in range(IDE_CONTROLLERS)]
            if generation == 1 else [],
            "scsi": [list(range(SCSI_SLOTS)) for _ in range(SCSI_CONTROLLERS)],
        }
        # Keep the config drive's slot while the other disks take theirs: gen1 puts it
        # at IDE 1:0; gen2 gives it the first SCSI slot left once the others are placed.
        if config_drive and generation == 1:
            self.free["ide"][1].remove(0)
        elif config_drive:
            self.free["scsi"][-1].pop()

    def config_drive_slot(self) -> tuple[int, int]:
        if self.generation == 1:
            return 1, 0
        self.free["scsi"][-1].append(SCSI_SLOTS - 1)
        self.config_drive = False
        return self.take("scsi", "configdrive")

    def take(self, bus: str, name: str) -> tuple[int, int]:
        for controller, slots in enumerate(self.free[bus]):
            if slots:
                return controller, slots.pop(0)
        total = len(self.free[bus]) * (IDE_SLOTS if bus == "ide" else SCSI_SLOTS)
        kept = ", one of them kept for the config drive" if self.config_drive and (
            (bus == "ide") == (self.generation == 1)) else ""
        raise RuleViolation(
            "disk-slots-exhausted", name, bus,
            f"at most {total} {bus.upper()} drives on a generation {self.generation} VM{kept}",
            f"no {bus.upper()} controller slot is left for this disk", source="disk",
        )


def _bus(value: object, generation: int, field: str, source: str) -> str | None:
    if value is None:
        return None
    spot = Spot(source, field, "disk-bus-invalid",
                "ide, scsi" if generation == 1 else "scsi")
    if not isinstance(value, str):
        raise spot.fail(value, "must be text")
    bus = value.strip().lower()
    if not bus:
        return None
    if bus not in BUSES:
        raise spot.fail(value, "Hyper-V disks sit on IDE or SCSI controllers")
    if bus == "ide" and generation == 2:
        raise spot.fail(value, "generation 2 VMs have no IDE controllers",
                        code="disk-bus-unsupported-by-generation")
    return bus


def _boot_index(value: object, field: str, source: str) -> int | None:
    if value is None:
        return None
    index = to_int(value, Spot(source, field, "boot-index-invalid",
                               "a whole number; negative or unset: not a boot device"))
    return index if index >= 0 else None


def _tag(value: object, field: str, source: str, code: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise Spot(source, field, code, "text").fail(value, "a device tag must be text")


def _device_type(value: object, field: str, source: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or value.strip().lower() not in ("", "disk"):
        raise Spot(source, field, "disk-device-type-unsupported", "disk").fail(
            value, "only disks are supported as block devices (images give CD-ROMs)"
        )


def _connection_type(volume: Volume, field: str) -> str:
    spot = Spot("volume", field, "volume-connection-type-unsupported", ", ".join(CONNECTION_TYPES))
    value = volume.connection_type
    if not isinstance(value, str) or value.strip().lower() not in CONNECTION_TYPES:
        raise spot.fail(value, "the Hyper-V driver attaches iSCSI, Fibre Channel and SMB volumes")
    return value.strip().lower()


def _volume_disk(
    volume: Volume, index: int, generation: int, slots: _Slots, seen: set[str], *, root: bool,
    where: str | None = None, running: bool = False,
) -> DiskPlan:
    where = where or ("root volume" if root else f"volumes[{index}]")
    if not isinstance(volume.volume_id, str) or not volume.volume_id.strip():
        raise Spot("volume", f"{where}.volume_id", "volume-invalid", "a volume id").fail(
            volume.volume_id, "is required"
        )
    volume_id = volume.volume_id.strip()
    if volume_id in seen:
        raise Spot("volume", f"{where}.volume_id", "volume-invalid", "each volume once").fail(
            volume_id, "is attached twice"
        )
    seen.add(volume_id)
    connection = _connection_type(volume, f"{where}.connection_type")
    _device_type(volume.device_type, f"{where}.device_type", "volume")
    tag = _tag(volume.tag, f"{where}.tag", "volume", "volume-invalid")
    bus = _bus(volume.bus, generation, f"{where}.bus", "volume")
    limit = None
    if connection == "smbfs":  # the driver can limit only SMB volumes (guide: Disk QoS)
        limit = iops_limit(volume.qos_specs, "total_iops_sec", "total_bytes_sec",
                           "volume QoS spec")
    if root:
        boot_bus = "ide" if generation == 1 else "scsi"
        if bus not in (None, boot_bus):
            raise Spot("volume", f"{where}.bus", "root-disk-bus-invalid", "ide").fail(
                volume.bus, "a generation 1 VM boots only from IDE"
            )
        controller, slot = slots.take(boot_bus, volume_id)
        return DiskPlan(
            name=volume_id, kind="root", device="disk", bus=boot_bus, controller=controller,
            slot=slot, iops_limit=limit, boot_index=0, volume_id=volume_id,
            connection_type=connection, tag=tag,
        )
    bus = bus or "scsi"
    if running and bus == "ide":
        raise Spot("volume", f"{where}.bus", "volume-ide-hot-attach", "scsi").fail(
            volume.bus, "Hyper-V adds IDE drives only while the VM is off; a running VM "
            "takes volumes on SCSI")
    boot_index = _boot_index(volume.boot_index, f"{where}.boot_index", "volume")
    controller, slot = slots.take(bus, volume_id)
    return DiskPlan(
        name=volume_id, kind="volume", device="disk", bus=bus, controller=controller,
        slot=slot, iops_limit=limit, boot_index=boot_index, volume_id=volume_id,
        connection_type=connection, tag=tag,
    )


def _ephemerals(flavor: Flavor, devices: BlockDevices) -> tuple[Ephemeral, ...]:
    if devices.ephemerals:
        return devices.ephemerals
    if flavor.ephemeral_gb > 0:
        return (Ephemeral(size_gb=flavor.ephemeral_gb),)
    return ()


def plan_disks(
    generation: int,
    root: RootDisk,
    flavor: Flavor,
    devices: BlockDevices,
    *,
    local_iops: int | None,
    config_drive: bool,
    config_drive_cdrom: bool,
) -> tuple[DiskPlan, ...]:
    slots = _Slots(generation, config_drive)
    boot_bus = "ide" if generation == 1 else "scsi"
    disks: list[DiskPlan] = []
    seen_volumes: set[str] = set()

    if root.volume is not None:
        disks.append(_volume_disk(root.volume, 0, generation, slots, seen_volumes, root=True))
    else:
        controller, slot = slots.take(boot_bus, "root")
        iso = root.kind == "iso_root"
        disks.append(DiskPlan(
            name="root", kind=root.kind, device="dvd" if iso else "disk", bus=boot_bus,
            controller=controller, slot=slot, iops_limit=None if iso else local_iops,
            boot_index=0, size_bytes=None if iso else root.virtual_size,
            file_name=f"root.{root.file_format}",
        ))

    ephemerals = _ephemerals(flavor, devices)
    total_gb = 0
    for index, eph in enumerate(ephemerals):
        where = f"ephemerals[{index}]"
        size = to_int(eph.size_gb, Spot("ephemeral disk", f"{where}.size_gb",
                                        "ephemeral-invalid", "a whole number of GiB >= 1"),
                      minimum=1)
        total_gb += size
        if total_gb > flavor.ephemeral_gb:
            raise Spot("ephemeral disk", f"{where}.size_gb", "ephemeral-invalid",
                       f"ephemeral disks of {flavor.ephemeral_gb} GiB in all").fail(
                eph.size_gb, f"the ephemeral disks add up to more than the flavor's "
                f"{flavor.ephemeral_gb} GiB")
        _device_type(eph.device_type, f"{where}.device_type", "ephemeral disk")
        bus = _bus(eph.bus, generation, f"{where}.bus", "ephemeral disk") or "scsi"
        name = f"eph{index}"
        controller, slot = slots.take(bus, name)
        disks.append(DiskPlan(
            name=name, kind="ephemeral", device="disk", bus=bus, controller=controller,
            slot=slot, iops_limit=local_iops,
            boot_index=_boot_index(eph.boot_index, f"{where}.boot_index", "ephemeral disk"),
            size_bytes=size * GIB, file_name=f"{name}.vhdx",
            tag=_tag(eph.tag, f"{where}.tag", "ephemeral disk", "ephemeral-invalid"),
        ))

    if flavor.swap_mb > 0:
        controller, slot = slots.take("scsi", "swap")
        disks.append(DiskPlan(
            name="swap", kind="swap", device="disk", bus="scsi", controller=controller,
            slot=slot, iops_limit=local_iops, size_bytes=flavor.swap_mb * MIB,
            file_name="swap.vhdx",
        ))

    for index, volume in enumerate(devices.volumes):
        disks.append(_volume_disk(volume, index, generation, slots, seen_volumes, root=False))

    if config_drive:
        controller, slot = slots.config_drive_slot()
        dvd = config_drive_cdrom
        disks.append(DiskPlan(
            name="configdrive", kind="config_drive", device="dvd" if dvd else "disk",
            bus=boot_bus, controller=controller, slot=slot,
            file_name="configdrive.iso" if dvd else "configdrive.vhd",
        ))
    return tuple(disks)


def plan_volume_attach(
    volume: Volume,
    generation: int,
    occupied: Iterable[tuple[str, int, int]],
    *,
    running: bool,
) -> DiskPlan:
    """Where a volume attached to an existing VM goes, checked as at spawn.

    `occupied` holds the (bus, controller, slot) of every drive the VM has now (its
    config drive included, so nothing is kept for one). The volume takes the first free
    slot of its bus (SCSI unless the request says IDE, which only a VM that is off can
    take).
    """
    slots = _Slots(generation, config_drive=False)
    for bus, controller, slot in occupied:
        free = slots.free.get(bus, [])
        if 0 <= controller < len(free) and slot in free[controller]:
            free[controller].remove(slot)
    return _volume_disk(volume, 0, generation, slots, set(), root=False, where="volume",
                        running=running)
