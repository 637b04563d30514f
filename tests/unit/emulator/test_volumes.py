"""Volumes on the emulated host: iSCSI and FC LUNs become host disks, go away, grow;
passthrough disks attach to VMs; the SAN policy; the host-side API's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import HV, Client
from tests.unit.emulator.images import MiB, make_image

from hyperv_emulator.errors import CimError
from hyperv_emulator.host import Host, reset_host
from hyperv_emulator.hoststorage import StorageError
from hyperv_emulator.instances import Instance
from hyperv_emulator.session import MethodResult, Session

NS = "root/Microsoft/Windows/Storage"
IQN = "iqn.2010-10.org.openstack:volume-1"
PORTAL_CLASS = f"\\\\.\\{NS.replace('/', chr(92))}:MSFT_iSCSITargetPortal"
TARGET_CLASS = f"\\\\.\\{NS.replace('/', chr(92))}:MSFT_iSCSITarget"
SETTING_CLASS = f"\\\\.\\{NS.replace('/', chr(92))}:MSFT_StorageSetting"


class Initiator:
    """What a driver does on the host to reach iSCSI volumes (os-brick's steps, in WMI)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def portal(self, address: str, port: int = 3260) -> MethodResult:
        return self.session.invoke(PORTAL_CLASS, "New", TargetPortalAddress=address,
                                   TargetPortalPortNumber=port)

    def connect(self, iqn: str = IQN, **inputs: object) -> MethodResult:
        return self.session.invoke(TARGET_CLASS, "Connect", NodeAddress=iqn, **inputs)

    def target(self, iqn: str = IQN) -> Instance:
        return self.session.query(f"SELECT * FROM MSFT_iSCSITarget WHERE NodeAddress = '{iqn}'",
                                  NS)[0]

    def disks(self) -> list[Instance]:
        return self.session.query("SELECT * FROM MSFT_Disk", NS)

    def disk(self, serial: str) -> Instance:
        return self.session.query(f"SELECT * FROM MSFT_Disk WHERE SerialNumber = '{serial}'",
                                  NS)[0]

    def host_drive(self, number: int) -> Instance:
        return self.session.query(f"SELECT * FROM Msvm_DiskDrive WHERE DriveNumber = {number}")[0]


@pytest.fixture
def initiator(client: Client) -> Initiator:
    return Initiator(client.session)


def _host(client: Client) -> Host:
    return client.session.host


def test_iscsi_login_makes_the_disks_appear_and_logout_removes_them(
        client: Client, initiator: Initiator) -> None:
    storage = _host(client).storage
    storage.add_iscsi_lun(IQN, 0, size=64 * MiB, serial="vol-1", portal="10.0.0.5:3260")
    storage.add_iscsi_lun(IQN, 1, size=32 * MiB, serial="vol-1b", portal="10.0.0.5")
    before = {d["Number"] for d in initiator.disks()}
    assert before == {3}  # the host profile's local disk
    created = initiator.portal("10.0.0.5")["CreatedTargetPortal"]
    assert created["TargetPortalAddress"] == "10.0.0.5"
    assert initiator.target()["IsConnected"] is False  # discovered, not logged in
    session = initiator.connect(IsPersistent=True)["CreatediSCSISession"]
    assert (session["TargetNodeAddress"], session["IsConnected"], session["IsPersistent"]) == (
        IQN, True, True)
    disk = initiator.disk("vol-1")
    assert (disk["Number"], disk["Size"], disk["BusType"], disk["IsOffline"]) == (
        1, 64 * MiB, 9, True)  # OfflineShared: a SAN disk arrives offline
    assert initiator.disk("vol-1b")["Number"] == 2
    drive = initiator.host_drive(1)
    assert (drive["MaxMediaSize"], drive["SystemName"]) == (64 * MiB, _host(client).hostname)
    win32 = client.session.query("SELECT * FROM Win32_DiskDrive WHERE Index = 1", "root/cimv2")
    assert (win32[0]["SerialNumber"], win32[0]["Name"]) == ("vol-1", "\\\\.\\PHYSICALDRIVE1")
    stored = client.session.query("SELECT * FROM MSFT_iSCSISession", NS)[0]
    linked = client.session.associators(stored.path, result_class="MSFT_Disk")
    assert sorted(d["SerialNumber"] for d in linked) == ["vol-1", "vol-1b"]
    assert initiator.target()["IsConnected"] is True
    with pytest.raises(CimError, match="ISDSC_TARGET_ALREADY_LOGGED_IN"):
        initiator.connect()
    assert client.session.invoke(initiator.target().path, "Disconnect").return_value == 0
    assert {d["Number"] for d in initiator.disks()} == {3}
    assert client.session.query("SELECT * FROM Msvm_DiskDrive WHERE DriveNumber = 1") == []
    assert client.session.query("SELECT * FROM MSFT_iSCSISession", NS) == []
    assert initiator.target()["IsConnected"] is False


def test_iscsi_refusals(client: Client, initiator: Initiator) -> None:
    storage = _host(client).storage
    storage.add_iscsi_lun(IQN, 0, size=MiB, portal="10.0.0.5",
                          chap=("user", "secret-1234"))
    with pytest.raises(CimError, match="ISDSC_CONNECTION_FAILED"):
        initiator.portal("10.0.0.9")
    with pytest.raises(CimError, match="ISDSC_TARGET_NOT_FOUND"):
        initiator.connect()  # not discovered yet
    initiator.portal("10.0.0.5")
    with pytest.raises(CimError, match="Authentication Failure"):
        initiator.connect()
    with pytest.raises(CimError, match="Authentication Failure"):
        initiator.connect(AuthenticationType="ONEWAYCHAP", ChapUsername="user",
                          ChapSecret="wrong")
    with pytest.raises(CimError, match="ISDSC_CONNECTION_FAILED"):
        initiator.connect(TargetPortalAddress="10.0.0.6")
    initiator.connect(AuthenticationType="ONEWAYCHAP", ChapUsername="user",
                      ChapSecret="secret-1234")
    with pytest.raises(CimError, match="ISDSC_INVALID_SESSION_ID"):
        client.session.invoke(initiator.target().path, "Disconnect", SessionIdentifier="nope")


def test_passthrough_of_a_volume_and_what_it_blocks(client: Client,
                                                    initiator: Initiator) -> None:
    storage = _host(client).storage
    storage.add_iscsi_lun(IQN, 0, size=64 * MiB, serial="vol-1", portal="10.0.0.5")
    initiator.portal("10.0.0.5")
    initiator.connect()
    number = initiator.disk("vol-1")["Number"]
    system = client.define()
    controller = client.scsi(system)
    passthrough = client.template(HV + "Physical Disk Drive")
    passthrough["Parent"] = controller
    passthrough["HostResource"] = [str(initiator.host_drive(number).path)]
    attached = client.ok(client.add(system, passthrough))["ResultingResourceSettings"][0]
    assert storage.disks()[0].attached_to == "vm1"
    with pytest.raises(CimError, match="ISDSC_SESSION_BUSY"):
        client.session.invoke(initiator.target().path, "Disconnect")
    with pytest.raises(StorageError, match="detach it first"):
        storage.remove_lun(IQN, 0)
    client.ok(client.state(system, 2))
    assert [(d.kind, d.size) for d in storage.guest_disks("vm1")] == [("passthrough", 64 * MiB)]
    client.ok(client.state(system, 3))
    client.ok(client.call("RemoveResourceSettings", ResourceSettings=[attached]))
    storage.remove_lun(IQN, 0)
    assert [d.number for d in storage.disks()] == [3]


def test_extending_a_volume(client: Client, initiator: Initiator) -> None:
    storage = _host(client).storage
    storage.add_iscsi_lun(IQN, 0, size=64 * MiB, serial="vol-1", portal="10.0.0.5")
    initiator.portal("10.0.0.5")
    initiator.connect()
    disk = initiator.disk("vol-1")
    system = client.define()
    passthrough = client.template(HV + "Physical Disk Drive")
    passthrough["Parent"] = client.scsi(system)
    passthrough["HostResource"] = [str(initiator.host_drive(disk["Number"]).path)]
    client.ok(client.add(system, passthrough))
    lun = storage.extend_lun(IQN, 0, 128 * MiB)
    assert lun.size == 128 * MiB and lun.path.stat().st_size == 128 * MiB
    # the guest reads the LUN itself; the host sees the new size after a rescan
    assert storage.guest_disks("vm1")[0].size == 128 * MiB
    assert initiator.disk("vol-1")["Size"] == 64 * MiB
    assert client.session.invoke(disk.path, "Refresh").return_value == 0
    assert initiator.disk("vol-1")["Size"] == 128 * MiB
    assert initiator.host_drive(disk["Number"])["MaxMediaSize"] == 128 * MiB
    win32 = client.session.query(f"SELECT * FROM Win32_DiskDrive WHERE Index = {disk['Number']}",
                                 "root/cimv2")[0]
    assert win32["Size"] == 128 * MiB
    with pytest.raises(StorageError, match="grows to a larger"):
        storage.extend_lun(IQN, 0, 64 * MiB)


def test_a_vm_sees_its_virtual_disk_grow(client: Client) -> None:
    host = _host(client)
    make_image(host, "C:\\VMs\\root.vhdx", 64 * MiB)
    make_image(host, "C:\\VMs\\cd.iso")
    system = client.define()
    controller = client.scsi(system)
    drive = client.ok(client.drive(system, controller, 0))["ResultingResourceSettings"][0]
    client.ok(client.media(system, drive, "C:\\VMs\\root.vhdx"))
    dvd = client.ok(client.drive(system, controller, 1, "Synthetic DVD Drive"))[
        "ResultingResourceSettings"][0]
    client.ok(client.media(system, dvd, "C:\\VMs\\cd.iso", "Virtual CD/DVD Disk"))
    client.ok(client.state(system, 2))
    service = client.session.query("SELECT * FROM Msvm_ImageManagementService")[0]
    client.ok(client.session.invoke(service.path, "ResizeVirtualHardDisk",
                                    Path="C:\\VMs\\root.vhdx", MaxInternalSize=96 * MiB))
    assert [(d.controller, d.slot, d.kind, d.size) for d in host.storage.guest_disks("vm1")] == [
        ("SCSI 0", 0, "vhd", 96 * MiB), ("SCSI 0", 1, "iso", 32 * 1024 + 2048)]


def test_fibre_channel_luns_appear_when_presented(client: Client, initiator: Initiator) -> None:
    storage = _host(client).storage
    with pytest.raises(StorageError, match="no Fibre Channel port"):
        storage.add_fc_lun("500a098188ad7a33", 0, size=MiB)
    storage.add_fc_port("10000090fa0a0b0c")
    ports = client.session.query("SELECT * FROM MSFT_InitiatorPort WHERE ConnectionType = 1", NS)
    assert [p["PortAddress"] for p in ports] == ["10000090fa0a0b0c"]
    lun = storage.add_fc_lun("50:0a:09:81:88:ad:7a:33", 2, size=8 * MiB, serial="fc-vol")
    assert (lun.target, lun.initiator) == ("500a098188ad7a33", "10000090fa0a0b0c")
    disk = initiator.disk("fc-vol")
    assert (disk["BusType"], disk["UniqueIdFormat"], len(disk["UniqueId"])) == (6, 3, 32)
    with pytest.raises(StorageError, match="not a port of this host"):
        storage.add_fc_lun("500a098188ad7a33", 3, size=MiB, initiator_wwpn="1000000000000001")
    storage.remove_lun("500a098188ad7a33", 2)
    assert client.session.query("SELECT * FROM MSFT_Disk WHERE SerialNumber = 'fc-vol'", NS) == []
    assert not lun.path.exists()  # a backing file the host made goes with the LUN


def _mapping(client: Client, port: str, room: int = 16) -> MethodResult:
    [hba] = client.session.query("SELECT * FROM MSFC_HBAFCPInfo", "root/WMI")
    return client.session.invoke(hba.path, "GetFcpTargetMapping",
                                 HbaPortWWN=list(bytes.fromhex(port)), InEntryCount=room)


def test_fc_target_mapping_names_each_luns_disk(client: Client, initiator: Initiator) -> None:
    storage = _host(client).storage
    storage.add_fc_port("10000090fa0a0b0c")
    [port] = client.session.query("SELECT * FROM MSFT_InitiatorPort WHERE ConnectionType = 1",
                                  NS)
    [hba] = client.session.query("SELECT * FROM MSFC_HBAFCPInfo", "root/WMI")
    assert (hba["InstanceName"], hba["Active"]) == (port["InstanceName"], True)
    storage.add_fc_lun("500a098188ad7a33", 2, size=8 * MiB, serial="two")
    storage.add_fc_lun("500a098188ad7a33", 5, size=8 * MiB, serial="five")
    result = _mapping(client, "10000090fa0a0b0c")
    assert (result["HBAStatus"], result["TotalEntryCount"], result["OutEntryCount"]) == (0, 2, 2)
    found = {}
    for entry in result["Entry"]:
        fcp, scsi = entry["FCPId"], entry["ScsiId"]
        name = "".join(chr(c) for c in scsi["OSDeviceName"] if c)
        assert bytes(fcp["PortWWN"]).hex() == "500a098188ad7a33"
        assert scsi["ScsiOSLun"] == fcp["FcpLun"]
        found[fcp["FcpLun"]] = name
    assert found == {2: f"\\\\.\\PHYSICALDRIVE{initiator.disk('two')['Number']}",
                     5: f"\\\\.\\PHYSICALDRIVE{initiator.disk('five')['Number']}"}
    assert initiator.disk("five")["Location"] == (
        "Integrated : Adapter 3 : Port 0 : Target 0 : LUN 5")
    short = _mapping(client, "10000090fa0a0b0c", room=1)
    assert (short["HBAStatus"], short["TotalEntryCount"], len(short["Entry"])) == (7, 2, 1)
    assert _mapping(client, "1000000000000009")["HBAStatus"] == 5  # not this HBA's port


def test_san_policy(client: Client, initiator: Initiator) -> None:
    session = client.session
    setting = session.invoke(SETTING_CLASS, "Get")["StorageSettings"]
    assert setting["NewDiskPolicy"] == 2  # Windows Server: OfflineShared
    with pytest.raises(CimError, match="NewDiskPolicy 7"):
        session.invoke(SETTING_CLASS, "Set", NewDiskPolicy=7)
    session.invoke(SETTING_CLASS, "Set", NewDiskPolicy=1)
    storage = _host(client).storage
    storage.add_iscsi_lun(IQN, 0, size=MiB, serial="a", portal="10.0.0.5")
    initiator.portal("10.0.0.5")
    initiator.connect()
    assert initiator.disk("a")["IsOffline"] is False
    assert session.invoke(initiator.disk("a").path, "Offline").return_value == 0
    assert (initiator.disk("a")["IsOffline"], initiator.disk("a")["OfflineReason"]) == (True, 1)


def test_a_rescan_finds_a_lun_added_to_a_connected_target(client: Client,
                                                           initiator: Initiator) -> None:
    storage = _host(client).storage
    storage.add_iscsi_lun(IQN, 0, size=MiB, serial="a", portal="10.0.0.5")
    initiator.portal("10.0.0.5")
    initiator.connect()
    storage.add_iscsi_lun(IQN, 1, size=MiB, serial="b", portal="10.0.0.5")
    assert client.session.invoke(SETTING_CLASS, "UpdateHostStorageCache").return_value == 0
    assert sorted(d["SerialNumber"] for d in initiator.disks()) == ["SER-3", "a", "b"]


def test_backing_files_and_host_api_refusals(client: Client, tmp_path: Path) -> None:
    storage = _host(client).storage
    given = tmp_path / "vol.img"
    given.write_bytes(bytes(3 * MiB))
    lun = storage.add_iscsi_lun(IQN, 0, path=str(given))
    assert (lun.size, lun.path, len(lun.serial)) == (3 * MiB, given, 12)
    made = storage.add_iscsi_lun(IQN, 1, path=str(tmp_path / "new.img"), size=MiB)
    assert made.path.stat().st_size == MiB
    for kwargs, message in (
            ({"target_iqn": "volume-1", "size": MiB}, "not an iSCSI name"),
            ({"target_iqn": IQN, "lun": 0, "size": MiB}, "already has LUN 0"),
            ({"target_iqn": IQN, "lun": 255, "size": MiB}, "0..254"),
            ({"target_iqn": IQN, "lun": 2, "size": 1000}, "multiple of 512"),
            ({"target_iqn": IQN, "lun": 2}, "backing file"),
            ({"target_iqn": IQN, "lun": 2, "path": "rel.img"}, "absolute"),
            ({"target_iqn": IQN, "lun": 2, "path": str(given), "size": MiB}, "already exists"),
            ({"target_iqn": IQN, "lun": 2, "size": MiB, "portal": "10.9.9.9"}, "served at")):
        with pytest.raises(StorageError, match=message):
            storage.add_iscsi_lun(**kwargs)
    with pytest.raises(StorageError, match="16 hex digits"):
        storage.add_fc_port("10:00")
    with pytest.raises(StorageError, match="no LUN 9"):
        storage.remove_lun(IQN, 9)
    assert [(x.target, x.lun) for x in storage.luns()] == [(IQN, 0), (IQN, 1)]


def test_a_reset_keeps_the_san_and_logs_out(client: Client, initiator: Initiator) -> None:
    host = _host(client)
    host.storage.add_iscsi_lun(IQN, 0, size=MiB, serial="a", portal="10.0.0.5")
    host.storage.add_fc_port("10000090fa0a0b0c")
    host.storage.add_fc_lun("500a098188ad7a33", 0, size=MiB, serial="f")
    initiator.portal("10.0.0.5")
    initiator.connect()
    reset_host(host.path)
    assert sorted(d.serial for d in host.storage.disks()) == ["SER-3", "f"]
    assert [x.lun for x in host.storage.luns()] == [0, 0]
    assert host.storage.iscsi_sessions() == []


SMB = "\\\\.\\root\\Microsoft\\Windows\\SMB:MSFT_SmbMapping"


def test_smb_mappings(client: Client, tmp_path: Path) -> None:
    storage = _host(client).storage
    session = client.session
    with pytest.raises(CimError, match="ERROR_BAD_NET_NAME"):
        session.invoke(SMB, "Create", RemotePath="\\\\filer\\vols")
    storage.add_smb_share("\\\\filer\\vols", tmp_path / "export")
    with pytest.raises(CimError, match="ERROR_ALREADY_ASSIGNED"):
        session.invoke(SMB, "Create", RemotePath="\\\\filer\\vols", LocalPath="C:")
    with pytest.raises(CimError, match="drive letter"):
        session.invoke(SMB, "Create", RemotePath="\\\\filer\\vols", LocalPath="share")
    mapping = session.invoke(SMB, "Create", RemotePath="\\\\filer\\vols", LocalPath="S:",
                             UserName="nova")["CreatedMapping"]
    assert (mapping["RemotePath"], mapping["Status"]) == ("\\\\filer\\vols", 0)
    assert storage.local_path("S:\\v\\a.vhdx") == tmp_path / "export/v/a.vhdx"
    make_image(_host(client), "S:\\vol-1.vhdx")
    assert (tmp_path / "export/vol-1.vhdx").is_file()
    stored = session.query("SELECT * FROM MSFT_SmbMapping", "root/Microsoft/Windows/SMB")
    assert session.invoke(stored[0].path, "Remove", Force=True).return_value == 0
    assert storage.local_path("S:\\vol-1.vhdx").parent.name == "s"  # the drive is local again
