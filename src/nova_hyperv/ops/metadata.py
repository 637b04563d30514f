"""Device metadata: where each tagged device sits, for the metadata API's `devices`.

Disks: SCSI address `0:0:<controller>:<slot>` (as a Linux guest's
/dev/disk/by-path shows it) or IDE `<controller>:<slot>`, with the BDM tag and, for
volumes, the volume id as serial. As in compute-hyperv and the usage guide's example,
the image root, swap and config drive are not listed (a boot volume is, like every
volume). NICs: the MAC and the port's tag
(nova drops untagged NICs from the API anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from nova.objects import virt_device_metadata as objects

from nova_hyperv import rules

__all__ = ["VolumeAddress", "device_metadata", "disk_bus", "with_nic", "with_volumes",
           "without_nic"]


class VolumeAddress(NamedTuple):
    volume_id: str
    bus: str  # ide | scsi
    controller: int
    slot: int


def disk_bus(disk: rules.DiskPlan | VolumeAddress) -> objects.DeviceBus:
    if disk.bus == "scsi":
        return objects.SCSIDeviceBus(address=f"0:0:{disk.controller}:{disk.slot}")
    return objects.IDEDeviceBus(address=f"{disk.controller}:{disk.slot}")


def with_volumes(existing: objects.InstanceDeviceMetadata | None, volume_ids: set[str],
                 addresses: Iterable[VolumeAddress],
                 tags: Mapping[str, str | None]) -> objects.InstanceDeviceMetadata:
    """The instance's device metadata with its volume entries replaced by `addresses`
    (entries of `volume_ids` go; NICs and local disks stay as they were)."""
    kept = [d for d in (existing.devices if existing is not None else [])
            if not (isinstance(d, objects.DiskMetadata) and "serial" in d
                    and d.serial in volume_ids)]
    for address in addresses:
        tag = tags.get(address.volume_id)
        kept.append(objects.DiskMetadata(bus=disk_bus(address), serial=address.volume_id,
                                         tags=[tag] if tag else []))
    return objects.InstanceDeviceMetadata(devices=kept)


def _nic(nic: rules.NicPlan) -> objects.NetworkInterfaceMetadata:
    return objects.NetworkInterfaceMetadata(mac=nic.mac, bus=objects.PCIDeviceBus(),
                                            tags=[nic.tag])


def device_metadata(plan: rules.VmPlan) -> objects.InstanceDeviceMetadata:
    devices: list[objects.DeviceMetadata] = [_nic(nic) for nic in plan.nics if nic.tag]
    for disk in plan.disks:
        if disk.kind != "ephemeral" and not disk.volume_id:  # a boot volume is listed too
            continue
        entry = objects.DiskMetadata(bus=disk_bus(disk), tags=[disk.tag] if disk.tag else [])
        if disk.volume_id:
            entry.serial = disk.volume_id
        devices.append(entry)
    return objects.InstanceDeviceMetadata(devices=devices)


def _devices(metadata: objects.InstanceDeviceMetadata | None) -> list[objects.DeviceMetadata]:
    return list(metadata.devices) if metadata is not None and "devices" in metadata else []


def without_nic(metadata: objects.InstanceDeviceMetadata | None,
                mac: str) -> objects.InstanceDeviceMetadata:
    """The instance's devices without the NIC of `mac` (a detached port)."""
    kept = [d for d in _devices(metadata)
            if not (isinstance(d, objects.NetworkInterfaceMetadata)
                    and d.mac.lower() == mac.lower())]
    return objects.InstanceDeviceMetadata(devices=kept)


def with_nic(metadata: objects.InstanceDeviceMetadata | None,
             nic: rules.NicPlan) -> objects.InstanceDeviceMetadata:
    """The instance's devices plus a hot-attached NIC (listed only when tagged)."""
    updated = without_nic(metadata, nic.mac)
    if nic.tag:
        updated.devices.append(_nic(nic))
    return updated
