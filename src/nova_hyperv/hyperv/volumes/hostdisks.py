"""The host's disks, as iSCSI and Fibre Channel volumes arrive on it.

Windows shows a LUN it can reach as a disk: `MSFT_Disk` (root/Microsoft/Windows/Storage:
Number, Size, IsOffline, Location "... : Target 0 : LUN <n>") and, for Hyper-V, the
host `Msvm_DiskDrive` whose DriveNumber is that Number, which a passthrough drive's
HostResource names. Hyper-V passes through offline disks only; the SAN policy
OfflineShared (Windows Server's default) keeps SAN disks offline when they arrive.

A LUN that was just logged in to may take a moment to appear; `look` asks again after a
rescan (`MSFT_StorageSetting.UpdateHostStorageCache`), as `[hyperv]
mounted_disk_query_retry_count` / `_interval` say.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nova_hyperv.cim import CimInstance, CimSession
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.volumes.errors import HostDiskUnusable, VolumeNotFound

__all__ = ["HostDisk", "HostVolume", "disks_by_number", "host_drive", "look", "lun_of",
           "refresh", "rescan"]

LOG = logging.getLogger(__name__)
_LUN = re.compile(r"\bLUN\s*(\d+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class HostDisk:
    number: int
    size: int
    offline: bool
    lun: int | None  # the OS LUN (Location's last part); None when Windows does not say
    path: str  # the MSFT_Disk's object path


@dataclass(frozen=True)
class HostVolume:
    """A connected volume as a VM takes it: a host disk to pass through (`resource` is
    its Msvm_DiskDrive path) or an image file (`resource` is its path)."""

    kind: str  # passthrough | image
    resource: str
    disk: HostDisk | None = None


def lun_of(location: object) -> int | None:
    match = _LUN.search(str(location or ""))
    return int(match.group(1)) if match else None


def host_disk(disk: CimInstance) -> HostDisk:
    return HostDisk(number=int(disk["Number"]), size=int(disk.get("Size", 0) or 0),
                    offline=bool(disk.get("IsOffline")), lun=lun_of(disk.get("Location")),
                    path=disk.path)


def disks_by_number(session: CimSession, numbers: Iterable[int]) -> dict[int, HostDisk]:
    """The host's disks of these numbers (one query)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    where = " OR ".join(f"Number = {int(n)}" for n in wanted)
    found = session.query(f"SELECT * FROM MSFT_Disk WHERE {where}", names.STORAGE_NS)
    return {d.number: d for d in map(host_disk, found)}


def host_drive(session: CimSession, disk: HostDisk, what: str) -> HostVolume:
    """The disk as a passthrough source: offline, with its host Msvm_DiskDrive."""
    if not disk.offline:
        raise HostDiskUnusable(
            f"{what} is host disk {disk.number}, which is online on the host; Hyper-V "
            "passes through offline disks only. Set the host's SAN policy to "
            "OfflineShared (Set-StorageSetting -NewDiskPolicy OfflineShared) so that SAN "
            "disks arrive offline, and take this one offline")
    found = session.query(f"SELECT * FROM {names.HOST_DISK} WHERE DriveNumber = "
                          f"{disk.number}")
    if not found:
        raise VolumeNotFound(f"{what} is host disk {disk.number}, but Hyper-V shows no "
                             f"disk drive {disk.number} to pass through")
    return HostVolume("passthrough", found[0].path, disk)


def rescan(session: CimSession) -> None:
    """Windows looks at its storage again (new LUNs of logged-in targets, new sizes)."""
    result = session.invoke(f"{names.STORAGE_NS}:MSFT_StorageSetting",
                            "UpdateHostStorageCache")
    session.finish(result, "rescanning the host's disks")


def refresh(session: CimSession, disk: HostDisk) -> None:
    """Re-read one disk (its size after the SAN grew the LUN)."""
    result = session.invoke(disk.path, "Refresh")
    session.finish(result, f"refreshing host disk {disk.number}")


def look(find: Callable[[], HostDisk | None], session: CimSession, *, what: str,
         retries: int, interval: float) -> HostDisk:
    """`find()`, and again after a rescan up to `retries` more times, `interval` apart."""
    for attempt in range(retries + 1):
        found = find()
        if found is not None:
            return found
        if attempt < retries:
            LOG.debug("%s: no disk yet; rescanning (attempt %d of %d)", what, attempt + 1,
                      retries)
            time.sleep(interval)
            rescan(session)
    raise VolumeNotFound(f"{what}: the host shows no disk for it after {retries + 1} "
                         f"look(s)" + (f" {interval:g} s apart" if retries else ""))
