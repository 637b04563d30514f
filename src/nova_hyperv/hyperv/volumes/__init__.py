"""Cinder volumes on the Hyper-V host, over CIM only (no os-brick, no os-win).

- `connection`: Cinder's connection info -> an `IscsiVolume`, `FcVolume` or `SmbVolume`
  (or a VolumeConfigError naming the key), before the host is touched.
- `iscsi`, `fibre_channel`, `smb`: the connectors; each makes the volume reachable
  (`connect` -> a `HostVolume`: a host disk to pass through, or an image path), finds it
  without connecting (`find`), and lets go of it (`disconnect`).
- `hostdisks`: the host's disks (MSFT_Disk, Msvm_DiskDrive), rescans, refresh.
- `vmdisks`: a VM's drives; attach, detach and re-point volumes, tagged by volume id.

`HostVolumes` puts them together for one host with the driver's settings.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence

from nova_hyperv.cim import CimInstance, CimSession
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.volumes.connection import (
    FcVolume,
    IscsiPath,
    IscsiVolume,
    SmbVolume,
    VolumeTarget,
    parse_connection,
)
from nova_hyperv.hyperv.volumes.errors import (
    HostDiskUnusable,
    VolumeConfigError,
    VolumeError,
    VolumeExtendUnsupported,
    VolumeNotFound,
)
from nova_hyperv.hyperv.volumes.fibre_channel import FcConnector, fc_ports
from nova_hyperv.hyperv.volumes.hostdisks import HostDisk, HostVolume, refresh
from nova_hyperv.hyperv.volumes.iscsi import IscsiConnector, initiator_name
from nova_hyperv.hyperv.volumes.smb import SmbConnector
from nova_hyperv.hyperv.volumes.vmdisks import VmDisks, VmDrive, read_vm_disks

__all__ = [
    "FcVolume",
    "HostDisk",
    "HostDiskUnusable",
    "HostVolume",
    "HostVolumes",
    "IscsiPath",
    "IscsiVolume",
    "SmbVolume",
    "VmDisks",
    "VmDrive",
    "VolumeConfigError",
    "VolumeError",
    "VolumeExtendUnsupported",
    "VolumeNotFound",
    "VolumeTarget",
    "parse_connection",
    "read_vm_disks",
]


PORTS_MAX_AGE = 600.0


class HostVolumes:
    """Connecting volumes to one host, with the driver's retry and multipath settings."""

    def __init__(self, session: CimSession, *, initiators: Sequence[str] = (),
                 multipath: bool = False, disk_retries: int = 0,
                 disk_interval: float = 0.0) -> None:
        self.session = session
        self.multipath = multipath
        self.disk_retries = disk_retries
        self.disk_interval = disk_interval
        self.iscsi = IscsiConnector(session, initiators=initiators, multipath=multipath)
        self.fc = FcConnector(session, self.initiator_ports)
        self.smb = SmbConnector(session)
        self._ports: tuple[float, list[CimInstance]] | None = None
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    @contextlib.contextmanager
    def serialized(self, target: VolumeTarget) -> Iterator[None]:
        """Hold the lock of what the target shares with other volumes (its iSCSI
        targets, its SMB share) while connecting, attaching or disconnecting it, so a
        logout or an unmapping never cuts another volume's attach in this process."""
        if isinstance(target, IscsiVolume):
            keys = sorted({f"iscsi:{p.iqn.lower()}" for p in target.paths})
        elif isinstance(target, SmbVolume):
            keys = [f"smb:{target.share.lower()}"]
        else:
            keys = []  # FC: nothing shared to log in to or out of
        with self._locks_lock:
            locks = [self._locks.setdefault(k, threading.Lock()) for k in keys]
        with contextlib.ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            yield

    def initiator_ports(self, refresh: bool = False) -> list[CimInstance]:
        """The host's iSCSI initiator and FC ports (MSFT_InitiatorPort), read at most
        every PORTS_MAX_AGE seconds: HBAs and the initiator name do not change while
        the host runs, and every attach needs them."""
        now = time.monotonic()
        if refresh or self._ports is None or now - self._ports[0] > PORTS_MAX_AGE:
            self._ports = (now, self.session.query("SELECT * FROM MSFT_InitiatorPort",
                                                   names.STORAGE_NS))
        return self._ports[1]

    def _connector(self, target: VolumeTarget) -> IscsiConnector | FcConnector | SmbConnector:
        if isinstance(target, IscsiVolume):
            return self.iscsi
        if isinstance(target, FcVolume):
            return self.fc
        return self.smb

    def connect(self, target: VolumeTarget, what: str) -> HostVolume:
        return self._connector(target).connect(  # type: ignore[attr-defined]
            target, what=what, retries=self.disk_retries, interval=self.disk_interval)

    def disconnect(self, target: VolumeTarget) -> None:
        self._connector(target).disconnect(target)  # type: ignore[arg-type]

    def find(self, target: IscsiVolume | FcVolume) -> HostDisk | None:
        """The volume's host disk as the host sees it now (no login, no rescan)."""
        return self._connector(target).find(target)  # type: ignore[union-attr,arg-type]

    def extend(self, target: VolumeTarget, what: str) -> HostDisk:
        """Make the host see a volume's new size (the guest then rescans its disks)."""
        if isinstance(target, SmbVolume):
            raise VolumeExtendUnsupported(
                f"{what} is on the SMB share {target.share}: Hyper-V cannot extend an "
                "SMB-backed volume while it is attached (the usage guide's online volume "
                "extend excludes SMB volumes); detach it, extend it, attach it again")
        disk = self.find(target)
        if disk is None:
            raise VolumeNotFound(f"{what}: the host shows no disk for it; is it attached?")
        refresh(self.session, disk)
        return disk

    def host_connector(self) -> dict[str, object]:
        """What Cinder needs to export volumes to this host: its iSCSI initiator name
        and FC port WWNs."""
        ports = self.initiator_ports()
        found: dict[str, object] = {}
        initiator = initiator_name(ports)
        if initiator:
            found["initiator"] = initiator
        fc = fc_ports(ports)
        if fc:
            found["wwpns"] = [p.wwpn for p in fc]
            found["wwnns"] = sorted({p.wwnn for p in fc})
        return found
