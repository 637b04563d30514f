"""Volume connectors and VM drives against the emulated host, over both adapters."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from tests.unit.hyperv.conftest import files_for, inventory, plan_for, request_for

import vhdfile
from hyperv_emulator import Host
from nova_hyperv import rules
from nova_hyperv.cim import CimJobFailed
from nova_hyperv.hyperv import HyperVClient, RequestedState, Vm
from nova_hyperv.hyperv.volumes import (
    HostDiskUnusable,
    HostVolumes,
    VolumeError,
    VolumeNotFound,
    fibre_channel,
    parse_connection,
    read_vm_disks,
    vmdisks,
)

IQN = "iqn.2010-10.org.openstack:volume-1"
PORTAL = "10.0.0.5:3260"
HBA = "10000090fa0a0b0c"
WWPN = "500a098188ad7a33"
SHARE = "\\\\filer\\volumes"
GiB = 1 << 30
STORAGE = "root/Microsoft/Windows/Storage"


def iscsi(lun: int = 0, iqn: str = IQN, **data: Any) -> Any:
    return parse_connection({"driver_volume_type": "iscsi", "data": {
        "target_portal": PORTAL, "target_iqn": iqn, "target_lun": lun, **data}},
        multipath=bool(data.get("target_portals")))


def fc(lun: int = 1, wwpn: str = WWPN) -> Any:
    return parse_connection({"driver_volume_type": "fibre_channel",
                             "data": {"target_wwn": [wwpn], "target_lun": lun}})


def smb(name: str = "volume-1.vhdx", user: str | None = "cinder") -> Any:
    data = {"export": SHARE, "name": name}
    if user:
        data["options"] = f"-o username={user},password=pw"
    return parse_connection({"driver_volume_type": "smbfs", "data": data})


def volumes(client: HyperVClient, **kw: Any) -> HostVolumes:
    return HostVolumes(client.session, **kw)


def sessions(host: Host) -> list[tuple[str, bool]]:
    return [(s["target"], s["persistent"]) for s in host.storage.iscsi_sessions()]


def new_vm(client: HyperVClient, tmp_path: Path, **kw: Any) -> Vm:
    plan = plan_for(client, **kw)
    return client.create_vm(plan, files=files_for(plan, tmp_path / "vm"), switch=None,
                            data_root=str(tmp_path / "vm"))


def put(client: HyperVClient, vm: Vm, serial: str, volume: Any,
        iops: int | None = None) -> None:
    disks = read_vm_disks(client.session, vm.guid)
    place = rules.plan_volume_attach(rules.Volume(serial), 1 if disks.ide else 2,
                                     disks.occupied(), running=False)
    vmdisks.attach(client.session, client.service, vm.path, disks, bus=place.bus,
                   controller=place.controller, slot=place.slot, serial=serial,
                   volume=volume, iops_limit=iops)


# -- the connector ---------------------------------------------------------------------


def test_host_connector_names_the_initiator_and_the_fc_ports(client: HyperVClient,
                                                             host: Host) -> None:
    assert volumes(client).host_connector() == {
        "initiator": f"iqn.1991-05.com.microsoft:{host.hostname.lower()}"}
    host.storage.add_fc_port(HBA)
    assert volumes(client).host_connector()["wwpns"] == [HBA]
    assert volumes(client).host_connector()["wwnns"] == ["2" + HBA[1:]]


# -- iSCSI --------------------------------------------------------------------------------


def test_iscsi_login_finds_the_lun_and_logout_forgets_it(client: HyperVClient,
                                                         host: Host) -> None:
    host.storage.add_iscsi_lun(IQN, 3, size=2 * GiB, portal=PORTAL)
    hv = volumes(client)
    volume = hv.connect(iscsi(3), "volume 1")
    assert volume.kind == "passthrough" and volume.disk is not None
    assert (volume.disk.lun, volume.disk.size, volume.disk.offline) == (3, 2 * GiB, True)
    assert "Msvm_DiskDrive" in volume.resource
    assert sessions(host) == [(IQN, True)]
    assert hv.find(iscsi(3)) == volume.disk
    hv.disconnect(iscsi(3))
    assert sessions(host) == []
    assert hv.find(iscsi(3)) is None


def test_iscsi_second_lun_of_a_logged_in_target_shows_after_a_rescan(
        client: HyperVClient, host: Host) -> None:
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL)
    hv = volumes(client)
    hv.connect(iscsi(0), "volume 0")
    host.storage.add_iscsi_lun(IQN, 1, size=GiB, portal=PORTAL)  # the host has not seen it
    assert hv.connect(iscsi(1), "volume 1").disk.lun == 1  # type: ignore[union-attr]
    hv.disconnect(iscsi(1))
    assert sessions(host) == [(IQN, True)]  # LUN 0 is still presented
    host.storage.remove_lun(IQN, 1)
    hv.disconnect(iscsi(0))
    host.storage.remove_lun(IQN, 0)
    hv.disconnect(iscsi(0))
    assert sessions(host) == []


def test_iscsi_chap(client: HyperVClient, host: Host) -> None:
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL, chap=("nova", "secret"))
    hv = volumes(client)
    with pytest.raises(VolumeError, match="Authentication Failure"):
        hv.connect(iscsi(0), "volume")
    assert sessions(host) == []
    good = iscsi(0, auth_method="CHAP", auth_username="nova", auth_password="secret")
    assert hv.connect(good, "volume").kind == "passthrough"


def test_iscsi_unknown_portal_and_missing_lun(client: HyperVClient, host: Host) -> None:
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL)
    hv = volumes(client, disk_retries=2, disk_interval=0)
    wrong = parse_connection({"driver_volume_type": "iscsi", "data": {
        "target_portal": "10.9.9.9", "target_iqn": IQN, "target_lun": 0}})
    with pytest.raises(VolumeError, match="ISDSC_CONNECTION_FAILED"):
        hv.connect(wrong, "volume")
    with pytest.raises(VolumeNotFound, match="after 3 look"):
        hv.connect(iscsi(5), "volume 5")


def test_iscsi_multipath_logs_in_every_path(client: HyperVClient, host: Host) -> None:
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL)
    hv = volumes(client, multipath=True)
    target = iscsi(0, target_portals=[PORTAL, PORTAL], target_iqns=[IQN, IQN],
                   target_luns=[0, 0])
    hv.connect(target, "volume")
    assert sessions(host) == [(IQN, True), (IQN, True)]
    hv.connect(target, "volume")  # connected already: no third login
    assert len(sessions(host)) == 2
    hv.disconnect(target)
    assert sessions(host) == []


def test_online_disk_is_refused_naming_the_san_policy(client: HyperVClient,
                                                      host: Host) -> None:
    with host.session() as session:
        session.invoke(f"{STORAGE}:MSFT_StorageSetting", "Set", NewDiskPolicy=1)  # OnlineAll
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL)
    with pytest.raises(HostDiskUnusable, match="OfflineShared"):
        volumes(client).connect(iscsi(0), "volume")


def test_extend_refreshes_the_host_disk(client: HyperVClient, host: Host) -> None:
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL)
    hv = volumes(client)
    hv.connect(iscsi(0), "volume")
    host.storage.extend_lun(IQN, 0, 3 * GiB)
    assert [d.size for d in host.storage.disks()] == [GiB]  # the host has not looked
    hv.extend(iscsi(0), "volume")
    assert [d.size for d in host.storage.disks()] == [3 * GiB]
    with pytest.raises(VolumeError, match="SMB"):
        hv.extend(smb(), "volume")
    with pytest.raises(VolumeNotFound):
        hv.extend(iscsi(4), "volume")


# -- Fibre Channel ------------------------------------------------------------------------


def test_fc_lun_is_found_through_the_hba_mapping(client: HyperVClient, host: Host,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    host.storage.add_fc_port(HBA)
    host.storage.add_fc_lun(WWPN, 1, size=GiB)
    host.storage.add_fc_lun(WWPN, 2, size=2 * GiB)
    monkeypatch.setattr(fibre_channel, "ENTRIES", 1)  # HBA_STATUS_ERROR_MORE_DATA, again
    hv = volumes(client)
    volume = hv.connect(fc(2), "volume")
    assert (volume.disk.lun, volume.disk.size) == (2, 2 * GiB)  # type: ignore[union-attr]
    hv.disconnect(fc(2))  # nothing to log out of
    assert len(host.storage.disks()) == 2


def test_fc_ports_are_read_again_when_a_lun_is_not_found(client: HyperVClient,
                                                         host: Host) -> None:
    hv = volumes(client, disk_retries=1, disk_interval=0)
    assert hv.host_connector().get("wwpns") is None  # kept: no FC port yet
    host.storage.add_fc_port(HBA)
    host.storage.add_fc_lun(WWPN, 1, size=GiB)
    assert hv.connect(fc(1), "volume").disk.lun == 1  # type: ignore[union-attr]
    with pytest.raises(VolumeNotFound):
        hv.connect(fc(1, wwpn="500a098188ad7a99"), "volume")


# -- SMB ----------------------------------------------------------------------------------


def test_smb_share_mapped_while_a_disk_lives_there(client: HyperVClient, host: Host,
                                                   tmp_path: Path) -> None:
    host.storage.add_smb_share(SHARE, tmp_path / "share")
    for name in ("volume-1.vhdx", "volume-2.vhdx"):
        vhdfile.create(tmp_path / "share" / name, "vhdx", "dynamic", GiB)
    hv = volumes(client)
    vm = new_vm(client, tmp_path)
    first = hv.connect(smb(), "volume 1")
    assert first.resource == f"{SHARE}\\volume-1.vhdx"
    put(client, vm, "v1", first, iops=50)
    put(client, vm, "v2", hv.connect(smb("volume-2.vhdx"), "volume 2"))
    with host.session() as session:
        mapped = session.query("SELECT * FROM MSFT_SmbMapping", "root/Microsoft/Windows/SMB")
    assert [(m["RemotePath"], m["UserName"]) for m in mapped] == [(SHARE, "cinder")]
    disks = read_vm_disks(client.session, vm.guid)
    vmdisks.detach(client.session, client.service, disks.volume("v1"))  # type: ignore[arg-type]
    hv.disconnect(smb())
    assert host.storage.smb_shares() and _mappings(host) == [SHARE]  # volume 2 is there
    vmdisks.detach(client.session, client.service,
                   read_vm_disks(client.session, vm.guid).volume("v2"))  # type: ignore[arg-type]
    hv.disconnect(smb("volume-2.vhdx"))
    assert _mappings(host) == []


def _mappings(host: Host) -> list[str]:
    with host.session() as session:
        return [m["RemotePath"] for m in session.query("SELECT * FROM MSFT_SmbMapping",
                                                        "root/Microsoft/Windows/SMB")]


def test_smb_without_credentials_maps_nothing(client: HyperVClient, host: Host,
                                              tmp_path: Path) -> None:
    host.storage.add_smb_share(SHARE, tmp_path / "share")
    volume = volumes(client).connect(smb(user=None), "volume")
    assert volume.kind == "image" and _mappings(host) == []


# -- the VM's drives ----------------------------------------------------------------------


def test_volumes_on_a_vm_tagged_by_serial(client: HyperVClient, host: Host,
                                          tmp_path: Path) -> None:
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL)
    host.storage.add_smb_share(SHARE, tmp_path / "share")
    vhdfile.create(tmp_path / "share" / "volume-1.vhdx", "vhdx", "dynamic", GiB)
    hv = volumes(client)
    vm = new_vm(client, tmp_path)
    passthrough = hv.connect(iscsi(0), "a")
    put(client, vm, "vol-a", passthrough)
    put(client, vm, "vol-b", hv.connect(smb(), "b"), iops=120)
    disks = read_vm_disks(client.session, vm.guid)
    a, b = disks.volume("VOL-A"), disks.volume("vol-b")
    assert a is not None and b is not None
    assert (a.bus, a.controller, a.slot, a.kind) == ("scsi", 0, 0, "passthrough")
    assert vmdisks.same_resource(a.resource or "", passthrough.resource)
    assert (b.bus, b.slot, b.kind, b.resource) == ("scsi", 1, "disk",
                                                    f"{SHARE}\\volume-1.vhdx")
    assert b.medium is not None and b.medium["IOPSLimit"] == 120
    vmdisks.detach(client.session, client.service, b)
    vmdisks.detach(client.session, client.service, a)
    [vm_info] = inventory(host)
    assert {c["controller"]: c["drives"] for c in vm_info["storage"]}["SCSI 0"] == []


def test_an_image_that_cannot_attach_leaves_no_drive(client: HyperVClient, host: Host,
                                                     tmp_path: Path) -> None:
    host.storage.add_smb_share(SHARE, tmp_path / "share")
    vm = new_vm(client, tmp_path)
    with pytest.raises(CimJobFailed, match=r"error 32779"):
        put(client, vm, "vol", volumes(client).connect(smb("missing.vhdx"), "vol"))
    assert read_vm_disks(client.session, vm.guid).volume("vol") is None


def test_repoint_moves_a_passthrough_drive_to_another_host_disk(client: HyperVClient,
                                                               host: Host,
                                                               tmp_path: Path) -> None:
    host.storage.add_fc_port(HBA)
    host.storage.add_fc_lun(WWPN, 1, size=GiB)
    host.storage.add_fc_lun(WWPN, 2, size=2 * GiB)
    hv = volumes(client)
    vm = new_vm(client, tmp_path)
    put(client, vm, "vol", hv.connect(fc(1), "vol"))
    other = hv.connect(fc(2), "other")
    drive = read_vm_disks(client.session, vm.guid).volume("vol")
    vmdisks.repoint(client.session, client.service, drive, other.resource)  # type: ignore[arg-type]
    moved = read_vm_disks(client.session, vm.guid).volume("vol")
    assert moved is not None and vmdisks.same_resource(moved.resource or "", other.resource)


# -- VMs built with volumes -----------------------------------------------------------------


def test_gen1_vm_boots_from_a_passthrough_volume_on_ide(client: HyperVClient, host: Host,
                                                        tmp_path: Path) -> None:
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL)
    host.storage.add_smb_share(SHARE, tmp_path / "share")
    vhdfile.create(tmp_path / "share" / "volume-1.vhdx", "vhdx", "dynamic", GiB)
    hv = volumes(client)
    request = dataclasses.replace(request_for(), block_devices=rules.BlockDevices(
        root_volume=rules.Volume("root-vol"),
        volumes=(rules.Volume("data-vol", "smbfs", qos_specs={"total_iops_sec": "40"}),)))
    plan = rules.plan_instance(request, client.host().facts)
    vm = client.create_vm(plan, files={}, switch=None, data_root=str(tmp_path), volumes={
        "root-vol": hv.connect(iscsi(0), "root"), "data-vol": hv.connect(smb(), "data")})
    client.set_state(vm, RequestedState.START)
    disks = read_vm_disks(client.session, vm.guid)
    root, data = disks.volume("root-vol"), disks.volume("data-vol")
    assert (root.bus, root.controller, root.slot, root.kind) == ("ide", 0, 0, "passthrough")  # type: ignore[union-attr]
    assert (data.bus, data.slot, data.medium["IOPSLimit"]) == ("scsi", 0, 40)  # type: ignore[union-attr,index]
    [vm_info] = inventory(host)
    assert vm_info["state"] == "Running"
    assert vm_info["firmware"]["boot_order"][0] == "ide"



def test_a_vm_built_with_a_passthrough_volume_and_nics_gets_its_ports_features(
        client: HyperVClient, host: Host, tmp_path: Path) -> None:
    # A passthrough drive has no medium: the NICs' connections follow fewer media than
    # disks in the second AddResourceSettings (the bench's full spawn failed on it).
    host.storage.add_iscsi_lun(IQN, 0, size=GiB, portal=PORTAL)
    vifs = (rules.Vif("plain", "fa:16:3e:00:00:0a"),
            rules.Vif("tagged", "fa:16:3e:00:00:0b", vlan=100, port_security=False))
    request = dataclasses.replace(
        request_for(vifs=vifs, properties={"hw_machine_type": "hyperv-gen2"}),
        block_devices=rules.BlockDevices(volumes=(rules.Volume("data-vol"),)))
    plan = rules.plan_instance(request, client.host().facts)
    vm = client.create_vm(plan, files=files_for(plan, tmp_path / "vm"),
                          switch=client.switch(None), data_root=str(tmp_path / "vm"),
                          volumes={"data-vol": volumes(client).connect(iscsi(0), "data")})
    data = read_vm_disks(client.session, vm.guid).volume("data-vol")
    assert data is not None and data.kind == "passthrough"
    assert {n["name"]: (n["switch"], n["vlan"], n["mac_spoofing"])
            for n in inventory(host)[0]["nics"]} == {"plain": ("external", None, False),
                                                     "tagged": ("external", 100, True)}


def test_volumes_sharing_a_target_or_share_are_serialized(client: HyperVClient) -> None:
    hv = volumes(client)
    with hv.serialized(iscsi(0)):
        lock = hv._locks[f"iscsi:{IQN}"]
        assert lock.locked()
        assert not lock.acquire(blocking=False)  # LUN 1 of the same target would wait
    assert not lock.locked()
    with hv.serialized(smb()):
        assert hv._locks[f"smb:{SHARE.lower()}"].locked()
    with hv.serialized(fc()):  # nothing shared: no lock
        assert all(not lock.locked() for lock in hv._locks.values())
