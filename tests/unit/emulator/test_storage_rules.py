"""What a VM's drives may hold: real images, QoS on virtual disks, offline host disks, and
what a starting VM must be able to open and boot."""

from __future__ import annotations

import pytest
from tests.unit.emulator.hvclient import HV, Client
from tests.unit.emulator.images import MiB, make_image

import vhdfile

SASD = "Msvm_StorageAllocationSettingData"


def _scsi_drive(client: Client, system: str, slot: int = 0,
                subtype: str = "Synthetic Disk Drive") -> str:
    controllers = client.devices(system, subtype=HV + "Synthetic SCSI Controller")
    controller = str(controllers[0].path) if controllers else client.scsi(system)
    return client.ok(client.drive(system, controller, slot, subtype))[
        "ResultingResourceSettings"][0]


def _modify(client: Client, path: str, **values: object) -> object:
    setting = client.session.get(path)
    setting.update(values)
    return client.call("ModifyResourceSettings", ResourceSettings=[setting])


def test_an_image_must_exist_and_be_what_the_drive_takes(client: Client) -> None:
    host = client.session.host
    system = client.define()
    disk_drive = _scsi_drive(client, system)
    dvd_drive = _scsi_drive(client, system, 1, "Synthetic DVD Drive")
    job = client.refused(client.media(system, disk_drive, "C:\\VMs\\none.vhdx", make=False),
                         32779)
    assert "cannot find the file" in job["ErrorDescription"] and "vm1" in job["ErrorDescription"]
    vhdx = make_image(host, "C:\\VMs\\real.vhdx")
    renamed = vhdx.with_name("named.vhd")
    renamed.write_bytes(vhdx.read_bytes())
    job = client.refused(client.media(system, disk_drive, "C:\\VMs\\named.vhd"), 32773)
    assert "is a VHDX but its name ends in .vhd" in job["ErrorDescription"]
    raw = host.storage.local_path("C:\\VMs\\raw.vhdx")
    raw.write_bytes(bytes(MiB))
    job = client.refused(client.media(system, disk_drive, "C:\\VMs\\raw.vhdx"), 32768)
    assert "not a VHD or VHDX" in job["ErrorDescription"]
    make_image(host, "C:\\VMs\\base.vhdx")
    make_image(host, "C:\\VMs\\child.vhdx", parent="C:\\VMs\\base.vhdx")
    host.storage.local_path("C:\\VMs\\base.vhdx").unlink()
    job = client.refused(client.media(system, disk_drive, "C:\\VMs\\child.vhdx"), 32779)
    assert "no parent file found" in job["ErrorDescription"]
    not_iso = host.storage.local_path("C:\\VMs\\fake.iso")
    not_iso.write_bytes(bytes(40000))
    job = client.refused(client.media(system, dvd_drive, "C:\\VMs\\fake.iso",
                                      "Virtual CD/DVD Disk"), 32773)
    assert "is not an ISO image" in job["ErrorDescription"]
    client.refused(client.media(system, dvd_drive, "C:\\VMs\\real.vhdx", "Virtual CD/DVD Disk"),
                   32773)
    client.ok(client.media(system, disk_drive, "C:\\VMs\\real.vhdx"))
    client.ok(client.media(system, dvd_drive, "C:\\VMs\\cd.iso", "Virtual CD/DVD Disk"))
    assert len(client.devices(system, SASD)) == 2


def test_swapping_and_ejecting_a_dvd(client: Client) -> None:
    system = client.define()
    dvd_drive = _scsi_drive(client, system, 0, "Synthetic DVD Drive")
    iso = client.ok(client.media(system, dvd_drive, "C:\\VMs\\a.iso", "Virtual CD/DVD Disk"))[
        "ResultingResourceSettings"][0]
    client.refused(_modify(client, iso, HostResource=["C:\\VMs\\b.iso"]), 32779)
    make_image(client.session.host, "C:\\VMs\\b.iso")
    client.ok(_modify(client, iso, HostResource=["C:\\VMs\\b.iso"]))
    client.ok(_modify(client, iso, HostResource=[]))  # eject (R:dvd_insert_iso)
    assert client.session.get(iso)["HostResource"] == ()


def test_floppy_images_are_144_mb(client: Client) -> None:
    system = client.define(generation=1)
    drive = str(client.devices(system, subtype=HV + "Synthetic Diskette Drive")[0].path)
    small = client.session.host.storage.local_path("C:\\VMs\\small.vfd")
    small.parent.mkdir(parents=True)
    small.write_bytes(bytes(720 * 1024))
    job = client.refused(client.media(system, drive, "C:\\VMs\\small.vfd",
                                      "Virtual Floppy Disk"), 32773)
    assert "1474560 bytes" in job["ErrorDescription"]
    client.ok(client.media(system, drive, "C:\\VMs\\boot.vfd", "Virtual Floppy Disk"))


def test_disk_qos(client: Client) -> None:
    system = client.define()
    vhd = client.ok(client.media(system, _scsi_drive(client, system)))[
        "ResultingResourceSettings"][0]
    client.ok(_modify(client, vhd, IOPSLimit=500, IOPSReservation=100))
    stored = client.session.get(vhd)
    assert (stored["IOPSLimit"], stored["IOPSReservation"]) == (500, 100)
    for values, why in (({"IOPSLimit": 50}, "below IOPSReservation"),
                        ({"IOPSLimit": 1_000_000_001}, "above 1000000000"),
                        ({"IOPSLimit": 0, "IOPSReservation": 1_000_000_001}, "above")):
        job = client.refused(_modify(client, vhd, **values), 32773)
        assert why in job["ErrorDescription"]
    client.ok(client.state(system, 2))
    client.ok(_modify(client, vhd, IOPSLimit=0, IOPSReservation=0))  # while running
    dvd = client.ok(client.media(system, _scsi_drive(client, system, 1, "Synthetic DVD Drive"),
                                 "C:\\VMs\\cd.iso", "Virtual CD/DVD Disk"))[
        "ResultingResourceSettings"][0]
    job = client.refused(_modify(client, dvd, IOPSLimit=100), 32773)
    assert "virtual hard disks" in job["ErrorDescription"]


def test_passthrough_needs_an_offline_host_disk(client: Client) -> None:
    storage = client.session.host.storage
    session = client.session
    system = client.define()
    storage.add_fc_port("10:00:00:90:fa:0a:0b:0c")
    assert session.invoke("\\\\.\\root\\Microsoft\\Windows\\Storage:MSFT_StorageSetting",
                          "Set", NewDiskPolicy=1).return_value == 0  # OnlineAll
    storage.add_fc_lun("500a098188ad7a33", 1, size=64 * MiB, serial="vol-2")
    disk = session.query("SELECT * FROM MSFT_Disk WHERE SerialNumber = 'vol-2'",
                         "root/Microsoft/Windows/Storage")[0]
    assert disk["IsOffline"] is False
    host_drive = session.query(f"SELECT * FROM Msvm_DiskDrive WHERE DriveNumber = "
                               f"{disk['Number']}")[0]
    passthrough = client.template(HV + "Physical Disk Drive")
    controller = client.scsi(system)
    passthrough["Parent"] = controller
    passthrough["HostResource"] = [str(host_drive.path)]
    job = client.refused(client.add(system, passthrough), 32768)
    assert "online on the host" in job["ErrorDescription"]
    assert session.invoke(disk.path, "Offline").return_value == 0
    client.ok(client.add(system, passthrough))
    # a disk passed through belongs to its VM: the host cannot take it back online
    assert session.invoke(disk.path, "Online").return_value == 4


def test_starting_opens_what_is_attached(client: Client) -> None:
    host = client.session.host
    system = client.define()
    client.ok(client.media(system, _scsi_drive(client, system), "C:\\VMs\\root.vhdx"))
    client.ok(client.media(system, _scsi_drive(client, system, 1, "Synthetic DVD Drive"),
                           "C:\\VMs\\cd.iso", "Virtual CD/DVD Disk"))
    host.storage.local_path("C:\\VMs\\cd.iso").unlink()
    job = client.refused(client.state(system, 2), 32768)
    assert "failed to start" in job["ErrorSummaryDescription"]
    assert "cannot find the file" in job["ErrorDescription"]
    assert client.enabled_state(system) == 3
    make_image(host, "C:\\VMs\\cd.iso")
    client.ok(client.state(system, 2))


def test_generation2_boots_from_vhdx_only(client: Client) -> None:
    host = client.session.host
    system = client.define()
    make_image(host, "C:\\VMs\\root.vhd")
    client.ok(client.media(system, _scsi_drive(client, system), "C:\\VMs\\root.vhd"))
    job = client.refused(client.state(system, 2), 32768)
    assert "boots from VHDX only" in job["ErrorDescription"]
    # a VHD is a fine data disk: put a VHDX first in the boot order and it starts
    client.ok(client.media(system, _scsi_drive(client, system, 1), "C:\\VMs\\root.vhdx"))
    vssd = client.vssd(system)
    vssd["BootSourceOrder"] = list(reversed(vssd["BootSourceOrder"]))
    client.ok(client.call("ModifySystemSettings", SystemSettings=vssd))
    client.ok(client.state(system, 2))
    # generation 1 boots a VHD from IDE
    old = client.define("vm2", generation=1)
    ide = str(client.devices(old, subtype=HV + "Emulated IDE Controller")[0].path)
    drive = client.ok(client.drive(old, ide, 0))["ResultingResourceSettings"][0]
    make_image(host, "C:\\VMs\\old.vhd")
    client.ok(client.media(old, drive, "C:\\VMs\\old.vhd"))
    client.ok(client.state(old, 2))


@pytest.mark.parametrize("kind", ["fixed", "dynamic"])
def test_a_vhd_renamed_vhdx_is_refused_too(client: Client, kind: str) -> None:
    local = client.session.host.storage.local_path("C:\\VMs\\disk.vhdx")
    local.parent.mkdir(parents=True)
    vhdfile.create(local, "vhd", kind, 8 * MiB)
    system = client.define()
    job = client.refused(client.media(system, _scsi_drive(client, system), "C:\\VMs\\disk.vhdx"),
                         32773)
    assert "is a VHD but its name ends in .vhdx" in job["ErrorDescription"]
