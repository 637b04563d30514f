"""iSCSI volumes through the Microsoft iSCSI initiator's CIM classes.

root/Microsoft/Windows/Storage, as New-IscsiTargetPortal / Connect-IscsiTarget /
Disconnect-IscsiTarget use it:

- connect: unless the host is already logged in to the target,
  `MSFT_iSCSITargetPortal.New` (discovery at the portal) and `MSFT_iSCSITarget.Connect`
  (a persistent login, with CHAP when the connection info has it, through the
  configured initiator(s)); then the target's disk of the volume's LUN, found through
  the session (`MSFT_iSCSISessionToDisk`) and the LUN in the disk's Location.
- multipath (`[hyperv] use_multipath_io`): a login on every path the connection info
  lists (IsMultipathEnabled); one good path is enough. MPIO must claim the disks.
- disconnect: log out of the target (every session, persistent logins unregistered)
  once it exposes no LUN but this volume's; a target shared by several volumes stays
  logged in for the others.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from nova_hyperv.cim import CimError, CimInstance, CimSession, build_path, quote
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.volumes.connection import IscsiPath, IscsiVolume
from nova_hyperv.hyperv.volumes.errors import VolumeError
from nova_hyperv.hyperv.volumes.hostdisks import (
    HostDisk,
    HostVolume,
    host_disk,
    host_drive,
    look,
    rescan,
)

__all__ = ["IscsiConnector", "initiator_name"]

LOG = logging.getLogger(__name__)
_CALL_PREFIX = re.compile(r"^\w+ on \S+: ")  # "Connect on <path>: " of a CIM error
ISCSI_PORT_TYPE = 2  # MSFT_InitiatorPort.ConnectionType: 1 Fibre Channel, 2 iSCSI


def initiator_name(ports: Sequence[CimInstance]) -> str | None:
    """The host's iSCSI initiator node name (IQN) among its initiator ports."""
    for port in ports:
        if int(port.get("ConnectionType", 0) or 0) == ISCSI_PORT_TYPE:
            return str(port.get("NodeAddress") or "") or None
    return None


def _session_path(session_id: str) -> str:
    return build_path(names.STORAGE_NS, "MSFT_iSCSISession", SessionIdentifier=session_id)


class IscsiConnector:
    def __init__(self, session: CimSession, *, initiators: Sequence[str] = (),
                 multipath: bool = False) -> None:
        self.session = session
        self.initiators = tuple(initiators)
        self.multipath = multipath

    # -- reading ----------------------------------------------------------------------

    def _sessions(self, iqn: str) -> list[CimInstance]:
        return self.session.query(f"SELECT * FROM MSFT_iSCSISession WHERE TargetNodeAddress "
                                  f"= {quote(iqn)}", names.STORAGE_NS)

    def _disks(self, session_id: str) -> list[HostDisk]:
        found = self.session.query(
            f"ASSOCIATORS OF {{{_session_path(session_id)}}} WHERE AssocClass = "
            "MSFT_iSCSISessionToDisk ResultClass = MSFT_Disk", names.STORAGE_NS)
        return [host_disk(d) for d in found]

    def _disk(self, session_id: str, lun: int) -> HostDisk | None:
        return next((d for d in self._disks(session_id) if d.lun == lun), None)

    def find(self, volume: IscsiVolume) -> HostDisk | None:
        """The volume's host disk if the host is logged in and sees it (no login)."""
        for path in volume.paths:
            for found in self._sessions(path.iqn):
                disk = self._disk(str(found["SessionIdentifier"]), path.lun)
                if disk is not None:
                    return disk
        return None

    # -- connecting -------------------------------------------------------------------

    def _login(self, path: IscsiPath, volume: IscsiVolume) -> str:
        """Log in to the path's target (each configured initiator in turn); the session."""
        errors: list[str] = []
        for initiator in self.initiators or (None,):
            extra = {"InitiatorInstanceName": initiator} if initiator else {}
            try:
                result = self.session.invoke(
                    f"{names.STORAGE_NS}:MSFT_iSCSITargetPortal", "New",
                    TargetPortalAddress=path.portal_address,
                    TargetPortalPortNumber=path.portal_port, **extra)
                self.session.finish(result, f"discovering iSCSI targets at {path.portal}")
                login: dict[str, object] = {
                    "NodeAddress": path.iqn, "TargetPortalAddress": path.portal_address,
                    "TargetPortalPortNumber": path.portal_port, "IsPersistent": True,
                    "IsMultipathEnabled": self.multipath, **extra}
                if volume.chap is not None:
                    login.update(AuthenticationType="ONEWAYCHAP",
                                 ChapUsername=volume.chap[0], ChapSecret=volume.chap[1])
                result = self.session.invoke(f"{names.STORAGE_NS}:MSFT_iSCSITarget",
                                             "Connect", **login)
                self.session.finish(result, f"logging in to iSCSI target {path.iqn}")
                created = result.get("CreatediSCSISession")
                if created is not None:
                    return str(created["SessionIdentifier"])
                sessions = self._sessions(path.iqn)
                if sessions:
                    return str(sessions[-1]["SessionIdentifier"])
                reason = "no session after the login"
            except CimError as exc:
                # The initiator's own words first (Nova keeps 255 characters of a fault).
                reason = _CALL_PREFIX.sub("", exc.message)
            errors.append(f"initiator {initiator}: {reason}" if initiator else reason)
        raise VolumeError(f"iSCSI login at {path.portal} failed: " + "; ".join(errors))

    def connect(self, volume: IscsiVolume, *, what: str, retries: int = 0,
                interval: float = 0.0) -> HostVolume:
        """Log in as needed and return the volume's host disk, ready to pass through."""
        sessions: dict[str, list[str]] = {}
        failures: list[str] = []
        logged_in = False
        paths = volume.paths if self.multipath else volume.paths[:1]
        for path in paths:
            if path.iqn not in sessions:
                sessions[path.iqn] = [str(s["SessionIdentifier"])
                                      for s in self._sessions(path.iqn)]
            known = sessions[path.iqn]
            wanted = sum(p.iqn == path.iqn for p in paths) if self.multipath else 1
            if len(known) >= wanted:
                continue
            try:
                known.append(self._login(path, volume))
                logged_in = True  # a login enumerates the target's LUNs
            except VolumeError as exc:
                if not self.multipath:
                    raise
                LOG.warning("%s: multipath path %s unusable: %s", what, path.portal, exc)
                failures.append(str(exc))
        if not any(sessions.values()):
            raise VolumeError(f"{what}: no iSCSI path could be logged in: "
                              + "; ".join(failures))

        def find() -> HostDisk | None:
            for path in paths:
                for session_id in sessions.get(path.iqn, []):
                    disk = self._disk(session_id, path.lun)
                    if disk is not None:
                        return disk
            return None

        disk = find()
        if disk is None:
            if not logged_in:  # another LUN of the target: a new one shows at a rescan
                rescan(self.session)
            disk = look(find, self.session, what=what, retries=retries, interval=interval)
        return host_drive(self.session, disk, what)

    # -- disconnecting ----------------------------------------------------------------

    def disconnect(self, volume: IscsiVolume) -> None:
        """Log out of the volume's targets that expose nothing else."""
        for iqn in dict.fromkeys(p.iqn for p in volume.paths):
            found = self._sessions(iqn)
            if not found:
                continue
            ours = {p.lun for p in volume.paths if p.iqn == iqn}
            luns = {d.lun for d in self._disks(str(found[0]["SessionIdentifier"]))}
            others = luns - ours
            if others:
                LOG.info("iSCSI target %s stays logged in: it also exposes LUN(s) %s",
                         iqn, ", ".join(map(str, sorted(x for x in others if x is not None))))
                continue
            target = build_path(names.STORAGE_NS, "MSFT_iSCSITarget", NodeAddress=iqn)
            for login in found:
                session_id = str(login["SessionIdentifier"])
                if login.get("IsPersistent"):
                    result = self.session.invoke(_session_path(session_id), "Unregister")
                    self.session.finish(result, f"forgetting the persistent login to {iqn}")
                result = self.session.invoke(target, "Disconnect",
                                             SessionIdentifier=session_id)
                self.session.finish(result, f"logging out of iSCSI target {iqn}")
