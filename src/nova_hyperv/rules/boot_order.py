"""Boot order.

Generation 2 (UEFI) boots devices in the order given: the root disk, ephemerals and
volumes sorted by boot_index (unset last, in request order), then the NICs, the swap
disk and the config drive, so the firmware's list is complete and deterministic.
Generation 1 (BIOS) boots device classes: hard drive first, or the CD-ROM first when
the image is an ISO (which compute-hyperv's code never managed; the guide asks for it).
"""

from __future__ import annotations

from nova_hyperv.rules.plan import DiskPlan, NicPlan

__all__ = ["boot_order"]

GEN1_DISK_FIRST = ("harddrive", "cdrom", "network", "floppy")
GEN1_CDROM_FIRST = ("cdrom", "harddrive", "network", "floppy")
_BOOTABLE = ("root", "iso_root", "ephemeral", "volume")


def boot_order(
    generation: int, disks: tuple[DiskPlan, ...], nics: tuple[NicPlan, ...]
) -> tuple[str, ...]:
    if generation == 1:
        iso_root = any(d.kind == "iso_root" for d in disks)
        return GEN1_CDROM_FIRST if iso_root else GEN1_DISK_FIRST
    bootable = [d for d in disks if d.kind in _BOOTABLE]
    ordered = sorted(bootable, key=lambda d: (d.boot_index is None, d.boot_index or 0))
    rest = [d.name for d in disks if d.kind == "swap"] + [
        d.name for d in disks if d.kind == "config_drive"
    ]
    return (*(d.name for d in ordered), *(n.name for n in nics), *rest)
