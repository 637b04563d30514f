"""SMB volumes: a VHD / VHDX image on a file share, attached by its UNC path.

Hyper-V opens `\\\\server\\share\\volume-<id>.vhdx` itself (the host's computer account
needs access to the share, as for any Hyper-V over SMB deployment). When the connection
info carries credentials, the host maps the share with them first
(`MSFT_SmbMapping.Create`, root/Microsoft/Windows/SMB, what New-SmbMapping does), unless
a mapping exists. Disconnecting removes the mapping once no VM disk of the host lives on
that share any more.
"""

from __future__ import annotations

import logging

from nova_hyperv.cim import CimSession, quote
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.volumes.connection import SmbVolume
from nova_hyperv.hyperv.volumes.hostdisks import HostVolume

__all__ = ["SmbConnector", "images_on_share"]

LOG = logging.getLogger(__name__)


def _under(path: str, share: str) -> bool:
    return path.replace("/", "\\").lower().startswith(share.lower().rstrip("\\") + "\\")


def images_on_share(session: CimSession, share: str) -> list[str]:
    """Every virtual hard disk of the host's VMs stored on the share (one query)."""
    found = session.query(f"SELECT InstanceID, HostResource FROM {names.SASD} WHERE "
                          f"ResourceSubType = {quote(names.SubType.VHD)}")
    return [str(path) for medium in found for path in (medium.get("HostResource") or ())
            if path and _under(str(path), share)]


class SmbConnector:
    def __init__(self, session: CimSession) -> None:
        self.session = session

    def _mappings(self, share: str) -> list:  # type: ignore[type-arg]
        return self.session.query(
            f"SELECT * FROM MSFT_SmbMapping WHERE RemotePath = {quote(share)}", names.SMB_NS)

    def connect(self, volume: SmbVolume, *, what: str, retries: int = 0,
                interval: float = 0.0) -> HostVolume:
        if volume.username and not self._mappings(volume.share):
            result = self.session.invoke(
                f"{names.SMB_NS}:MSFT_SmbMapping", "Create", RemotePath=volume.share,
                UserName=volume.username, Password=volume.password or "")
            self.session.finish(result, f"mapping the SMB share {volume.share}")
        return HostVolume("image", volume.path)

    def disconnect(self, volume: SmbVolume) -> None:
        if not volume.username:
            return
        mappings = self._mappings(volume.share)
        if not mappings:
            return
        others = [p for p in images_on_share(self.session, volume.share)
                  if p.lower() != volume.path.lower()]
        if others:
            LOG.info("SMB share %s stays mapped: %d other disk(s) of this host live there",
                     volume.share, len(others))
            return
        for mapping in mappings:
            result = self.session.invoke(mapping, "Remove", Force=True)
            self.session.finish(result, f"unmapping the SMB share {volume.share}")
