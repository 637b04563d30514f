"""Cinder volumes for functional tests: nova's CinderFixture, backed by the emulated host.

Nova's CinderFixture answers Cinder's API inside the test; its connection info comes from
`_find_connection_info(volume_id, attachment_id)`. `VolumesTestCase` makes that answer
with the connection info of a real iSCSI LUN, FC LUN or SMB image registered on the
compute's emulated host (`host.storage`), so attach goes through the driver's own
connectors. Volumes the test makes are also entered in the fixture's `volumes` (size,
bootable, image metadata), which is what Nova's API reads; volumes Nova creates itself
(boot from an image onto a new volume) get an iSCSI LUN of their size when Nova first
asks for their connection.

`VolumeMigrationTestCase`: two hosts that reach the same SAN and file server (a LUN or
share described for one is described for the other, backed by the same file).
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from typing import Any

from tests.functional.hyperv_base import HyperVTestCase, TwoHostsTestCase

import vhdfile
from hyperv_emulator import open_host
from hyperv_emulator.hoststorage import StorageError

GiB = 1 << 30
PORTAL = "10.0.0.5:3260"
FC_HOST_PORT = "10000090fa0a0b0c"
SHARE = "\\\\filer\\volumes"


class VolumesTestCase(HyperVTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connection_infos: dict[str, dict[str, Any]] = {}
        self.luns: dict[str, tuple[str, int]] = {}  # volume id -> (target, lun)
        self.cinder._find_connection_info = self._connection_info  # type: ignore[method-assign]

    # -- the fixture's answer ---------------------------------------------------------

    def _connection_info(self, volume_id: str, attachment_id: str) -> dict[str, Any]:
        if volume_id not in self.connection_infos:
            size = self.cinder.volumes.get(volume_id, {}).get("size", 1)
            self._iscsi(volume_id, size)  # a volume Nova created (image -> volume)
        info = copy.deepcopy(self.connection_infos[volume_id])
        info["data"]["volume_id"] = volume_id
        info["data"]["attachment_id"] = attachment_id
        return info

    @property
    def storage(self) -> Any:
        return open_host(self.host_state_file("compute1")).storage

    def _register(self, volume_id: str, size_gb: int, info: dict[str, Any],
                  image_properties: dict[str, str] | None) -> str:
        self.connection_infos[volume_id] = info
        volume: dict[str, Any] = {
            "id": volume_id, "display_name": f"volume-{volume_id[:8]}", "size": size_gb,
            "multiattach": False, "availability_zone": "nova", "status": "available",
            "attach_status": "detached"}
        if image_properties is not None:
            volume.update(bootable=True, volume_image_metadata=dict(image_properties))
        self.cinder.volumes[volume_id] = volume
        return volume_id

    def _iscsi(self, volume_id: str, size_gb: int, *, lun: int = 0,
               chap: tuple[str, str] | None = None, target: str | None = None) -> str:
        iqn = target or f"iqn.2010-10.org.openstack:volume-{volume_id}"
        self.storage.add_iscsi_lun(iqn, lun, size=size_gb * GiB, serial=volume_id[:20],
                                   portal=PORTAL, chap=chap)
        self.luns[volume_id] = (iqn, lun)
        data: dict[str, Any] = {"target_portal": PORTAL, "target_iqn": iqn,
                                "target_lun": lun, "target_discovered": False}
        if chap:
            data.update(auth_method="CHAP", auth_username=chap[0], auth_password=chap[1])
        self.connection_infos[volume_id] = {"driver_volume_type": "iscsi", "data": data}
        return volume_id

    # -- volumes a test makes -----------------------------------------------------------

    def iscsi_volume(self, size_gb: int = 1, *, lun: int = 0,
                     chap: tuple[str, str] | None = None, target: str | None = None,
                     image_properties: dict[str, str] | None = None,
                     qos_specs: dict[str, Any] | None = None) -> str:
        volume_id = str(uuid.uuid4())
        self._iscsi(volume_id, size_gb, lun=lun, chap=chap, target=target)
        info = self.connection_infos[volume_id]
        if qos_specs is not None:
            info["data"]["qos_specs"] = qos_specs
        return self._register(volume_id, size_gb, info, image_properties)

    def fc_volume(self, size_gb: int = 1, *, lun: int = 1,
                  image_properties: dict[str, str] | None = None) -> str:
        volume_id = str(uuid.uuid4())
        storage = self.storage
        with contextlib.suppress(StorageError):  # the host's HBA port, once
            storage.add_fc_port(FC_HOST_PORT)
        wwpn = "500a0981" + volume_id.replace("-", "")[:8]
        storage.add_fc_lun(wwpn, lun, size=size_gb * GiB, serial=volume_id[:20])
        self.luns[volume_id] = (wwpn, lun)
        info = {"driver_volume_type": "fibre_channel",
                "data": {"target_wwn": [wwpn], "target_lun": lun, "target_discovered": False}}
        return self._register(volume_id, size_gb, info, image_properties)

    def smb_volume(self, size_gb: int = 1, *, qos_specs: dict[str, Any] | None = None,
                   credentials: tuple[str, str] | None = ("cinder", "secret"),
                   image_properties: dict[str, str] | None = None) -> str:
        volume_id = str(uuid.uuid4())
        folder = f"{self.state_path}/smb-share"
        if SHARE.lower() not in self.storage.smb_shares():
            self.storage.add_smb_share(SHARE, folder)
        name = f"volume-{volume_id}.vhdx"
        vhdfile.create(f"{folder}/{name}", "vhdx", "dynamic", size_gb * GiB)
        data: dict[str, Any] = {"export": SHARE.replace("\\", "/"), "name": name,
                                "format": "vhdx"}
        if credentials:
            data["options"] = f"-o username={credentials[0]},password={credentials[1]}"
        if qos_specs is not None:
            data["qos_specs"] = qos_specs
        info = {"driver_volume_type": "smbfs", "data": data}
        return self._register(volume_id, size_gb, info, image_properties)

    # -- Nova's API ----------------------------------------------------------------------

    def attach(self, server: dict[str, Any], volume_id: str, tag: str | None = None) -> None:
        body: dict[str, Any] = {"volumeId": volume_id}
        if tag:
            body["tag"] = tag
        self.api.post_server_volume(server["id"], {"volumeAttachment": body})
        self._wait_for_volume_attach(server["id"], volume_id)

    def detach(self, server: dict[str, Any], volume_id: str) -> None:
        self.api.delete_server_volume(server["id"], volume_id)
        self._wait_for_volume_detach(server["id"], volume_id)

    def attached_volume_ids(self, server: dict[str, Any]) -> list[str]:
        return [a["volumeId"] for a in
                self.api.get_server_volumes(server["id"])]

    # -- the emulated host -----------------------------------------------------------------

    def guest_disks(self, server: dict[str, Any]) -> list[Any]:
        return self.storage.guest_disks(self.vm(server)["name"])

    def volume_drives(self, server: dict[str, Any]) -> dict[str, tuple[str, int, str]]:
        """{host resource: (controller, slot, drive type)} of the VM's drives."""
        return {d["path"]: (c["controller"], d["slot"], d["type"])
                for c in self.vm(server)["storage"] for d in c["drives"]}


class BothHostsStorage:
    """The SAN and the file server both hosts reach: a LUN or share described on one is
    described on the other too, backed by the same file or folder."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second

    def add_iscsi_lun(self, target_iqn: str, lun: int = 0, **kwargs: Any) -> Any:
        made = self.first.add_iscsi_lun(target_iqn, lun, **kwargs)
        kwargs.pop("size", None)
        self.second.add_iscsi_lun(target_iqn, lun, **{**kwargs, "path": str(made.path)})
        return made

    def add_smb_share(self, unc: str, folder: str) -> None:
        self.first.add_smb_share(unc, folder)
        self.second.add_smb_share(unc, folder)

    def smb_shares(self) -> Any:
        return self.first.smb_shares()


class VolumeMigrationTestCase(VolumesTestCase, TwoHostsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flags(volume_attach_retry_count=0, mounted_disk_query_retry_interval=0,
                   group="hyperv")

    @property
    def storage(self) -> Any:
        return BothHostsStorage(*(open_host(self.host_state_file(h)).storage
                                  for h in self.COMPUTE_HOSTS))

    def connected(self, host: str) -> tuple[list[str], list[str]]:
        """The host's iSCSI sessions (targets) and SMB mappings."""
        host_ = open_host(self.host_state_file(host))
        with host_.session() as session:
            mappings = [m["RemotePath"] for m in session.query(
                "SELECT * FROM MSFT_SmbMapping", "root/Microsoft/Windows/SMB")]
        return sorted(s["target"] for s in host_.storage.iscsi_sessions()), mappings

    def volume_slots(self, server: dict[str, Any], host: str) -> dict[str, tuple[str, int]]:
        """Where the VM on `host` has the iSCSI volume (a passthrough disk) and the SMB
        volume (its image on the share): {"iscsi" | "smb": (controller, slot)}."""
        [vm] = self.vms_of(server, host)
        found = {}
        for disk in open_host(self.host_state_file(host)).storage.guest_disks(vm["name"]):
            if disk.kind == "passthrough":
                found["iscsi"] = (disk.controller, disk.slot)
            elif SHARE.lower() in str(disk.path).lower():
                found["smb"] = (disk.controller, disk.slot)
        return found

    def guest_sizes(self, server: dict[str, Any], host: str) -> list[tuple[str, int, int]]:
        [vm] = self.vms_of(server, host)
        return sorted((d.controller, d.slot, d.size) for d in
                      open_host(self.host_state_file(host)).storage.guest_disks(vm["name"]))
