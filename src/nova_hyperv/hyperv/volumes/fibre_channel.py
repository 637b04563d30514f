"""Fibre Channel volumes: which host disk is the LUN a target presents to the host.

FC has no login: the SAN zones and masks the LUN to the host's HBA ports and Windows
shows it as a disk. Which disk is found through the Fibre Channel HBA API's WMI face
(root/WMI): each HBA's `MSFC_HBAFCPInfo.GetFcpTargetMapping(HbaPortWWN)` lists every
LUN reachable through that port, with the target's port WWN, the FCP LUN and the OS
device (`\\\\.\\PHYSICALDRIVE<n>`, the disk number; the name os-brick's Windows FC
connector read through hbaapi.dll). The host's FC ports and their HBAs'
InstanceNames come from `MSFT_InitiatorPort` (ConnectionType 1); a look that finds
nothing reads the ports again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from nova_hyperv.cim import CimInstance, CimSession, build_path
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.volumes.connection import FcVolume
from nova_hyperv.hyperv.volumes.errors import VolumeError
from nova_hyperv.hyperv.volumes.hostdisks import (
    HostDisk,
    HostVolume,
    disks_by_number,
    host_drive,
    look,
)

__all__ = ["FcConnector", "FcPort", "fc_ports"]

LOG = logging.getLogger(__name__)
FC_PORT_TYPE = 1  # MSFT_InitiatorPort.ConnectionType
HBA_STATUS_OK = 0
HBA_STATUS_ERROR_MORE_DATA = 7
ENTRIES = 256  # mappings asked for per call; more -> asked again with the total
_DRIVE = re.compile(r"PHYSICALDRIVE(\d+)\s*$", re.IGNORECASE)


class FcPort:
    def __init__(self, port: CimInstance) -> None:
        self.wwpn = str(port.get("PortAddress") or "").replace(":", "").lower()
        self.wwnn = str(port.get("NodeAddress") or "").replace(":", "").lower()
        self.adapter = str(port.get("InstanceName") or "")


def fc_ports(ports: Sequence[CimInstance]) -> list[FcPort]:
    return [FcPort(p) for p in ports if int(p.get("ConnectionType", 0) or 0) == FC_PORT_TYPE]


def _text(value: object) -> str:
    """A WCHAR array (NUL padded) or text, as text."""
    if isinstance(value, str):
        return value
    return "".join(chr(int(c)) for c in (value or ()) if int(c)).strip()


def _hex(value: object) -> str:
    return bytes(int(b) & 0xFF for b in (value or ())).hex()


class FcConnector:
    """`ports(refresh)` gives the host's initiator ports (MSFT_InitiatorPort), which
    the caller may keep between calls: HBAs do not come and go while a host runs."""

    def __init__(self, session: CimSession,
                 ports: Callable[[bool], Sequence[CimInstance]]) -> None:
        self.session = session
        self.ports = ports

    def _mappings(self, refresh: bool) -> list[tuple[str, int, int]]:
        """(target WWPN, FCP LUN, disk number) of every LUN the host's FC ports reach."""
        found = []
        for port in fc_ports(self.ports(refresh)):
            hba = build_path(names.WMI_NS, "MSFC_HBAFCPInfo", InstanceName=port.adapter)
            wwn = list(bytes.fromhex(port.wwpn))
            room = ENTRIES
            while True:
                result = self.session.invoke(hba, "GetFcpTargetMapping", HbaPortWWN=wwn,
                                             InEntryCount=room)
                self.session.finish(result, f"reading the LUNs of FC port {port.wwpn}")
                status = int(result.get("HBAStatus", 0) or 0)
                total = int(result.get("TotalEntryCount", 0) or 0)
                if status == HBA_STATUS_ERROR_MORE_DATA and total > room:
                    room = total
                    continue
                break
            if status not in (HBA_STATUS_OK, HBA_STATUS_ERROR_MORE_DATA):
                LOG.warning("FC port %s: GetFcpTargetMapping answered HBA status %d",
                            port.wwpn, status)
                continue
            for entry in result.get("Entry", []) or []:
                fcp, scsi = entry["FCPId"], entry["ScsiId"]
                drive = _DRIVE.search(_text(scsi["OSDeviceName"]))
                if drive:
                    found.append((_hex(fcp["PortWWN"]), int(fcp["FcpLun"]),
                                  int(drive.group(1))))
        return found

    def _number(self, volume: FcVolume, refresh: bool) -> int | None:
        wanted = set(volume.target_wwpns)
        numbers = {n for wwpn, lun, n in self._mappings(refresh)
                   if wwpn in wanted and lun == volume.lun}
        if len(numbers) > 1:
            raise VolumeError(
                f"FC LUN {volume.lun} of {', '.join(volume.target_wwpns)} shows as host "
                f"disks {', '.join(map(str, sorted(numbers)))}: with several paths, MPIO "
                "must claim the disks (install Multipath-IO and enable use_multipath_io)")
        return next(iter(numbers), None)

    def find(self, volume: FcVolume, refresh: bool = False) -> HostDisk | None:
        number = self._number(volume, refresh)
        if number is None:
            return None
        return disks_by_number(self.session, [number]).get(number)

    def connect(self, volume: FcVolume, *, what: str, retries: int = 0,
                interval: float = 0.0) -> HostVolume:
        looks = iter(range(retries + 2))
        disk = look(lambda: self.find(volume, refresh=next(looks) > 0), self.session,
                    what=what, retries=retries, interval=interval)
        return host_drive(self.session, disk, what)

    def disconnect(self, volume: FcVolume) -> None:
        """Nothing to do: the SAN unmaps the LUN when Cinder ends the attachment."""
