"""Device metadata: where each tagged device sits, for the metadata API's `devices`.

Disks: SCSI address `0:0:<controller>:<slot>` (as a Linux guest's
/dev/disk/by-path shows it) or IDE `<controller>:<slot>`, with the BDM tag and, for
volumes, the volume id as serial. As in compute-hyperv and the usage guide's example,
the image root, swap and config drive are not listed. NICs: the MAC and the port's tag
(nova drops untagged NICs from the API anyway).
"""

from __future__ import annotations

from nova.objects import virt_device_metadata as objects

from nova_hyperv import rules

__all__ = ["device_metadata", "disk_bus", "with_nic", "without_nic"]


def disk_bus(disk: rules.DiskPlan) -> objects.DeviceBus:
    if disk.bus == "scsi":
        return objects.SCSIDeviceBus(address=f"0:0:{disk.controller}:{disk.slot}")
    return objects.IDEDeviceBus(address=f"{disk.controller}:{disk.slot}")


def _nic(nic: rules.NicPlan) -> objects.NetworkInterfaceMetadata:
    return objects.NetworkInterfaceMetadata(mac=nic.mac, bus=objects.PCIDeviceBus(),
                                            tags=[nic.tag])


def device_metadata(plan: rules.VmPlan) -> objects.InstanceDeviceMetadata:
    devices: list[objects.DeviceMetadata] = [_nic(nic) for nic in plan.nics if nic.tag]
    for disk in plan.disks:
        if disk.kind not in ("ephemeral", "volume"):
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
