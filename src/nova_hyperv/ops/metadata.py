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

__all__ = ["device_metadata", "disk_bus"]


def disk_bus(disk: rules.DiskPlan) -> objects.DeviceBus:
    if disk.bus == "scsi":
        return objects.SCSIDeviceBus(address=f"0:0:{disk.controller}:{disk.slot}")
    return objects.IDEDeviceBus(address=f"{disk.controller}:{disk.slot}")


def device_metadata(plan: rules.VmPlan) -> objects.InstanceDeviceMetadata:
    devices: list[objects.DeviceMetadata] = []
    for nic in plan.nics:
        if nic.tag:
            devices.append(objects.NetworkInterfaceMetadata(
                mac=nic.mac, bus=objects.PCIDeviceBus(), tags=[nic.tag]))
    for disk in plan.disks:
        if disk.kind not in ("ephemeral", "volume"):
            continue
        entry = objects.DiskMetadata(bus=disk_bus(disk), tags=[disk.tag] if disk.tag else [])
        if disk.volume_id:
            entry.serial = disk.volume_id
        devices.append(entry)
    return objects.InstanceDeviceMetadata(devices=devices)
