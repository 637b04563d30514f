"""Msvm_ImageManagementService on real files: what it makes, and what it refuses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import HV, Client
from tests.unit.emulator.images import MiB, make_image

import vhdfile
from hyperv_emulator.session import MethodResult

IMS_QUERY = "SELECT * FROM Msvm_ImageManagementService"


class Images:
    """A client of the image management service."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.session = client.session
        self.host = client.session.host
        self.service = str(self.session.query(IMS_QUERY)[0].path)

    def call(self, method: str, **inputs: object) -> MethodResult:
        return self.session.invoke(self.service, method, **inputs)

    def setting(self, path: str, type_: int = 3, format_: int = 3, size: int | None = 64 * MiB,
                **values: object) -> object:
        setting = self.session.new_instance("Msvm_VirtualHardDiskSettingData")
        setting["Path"] = path
        setting["Type"] = type_
        setting["Format"] = format_
        if size is not None:
            setting["MaxInternalSize"] = size
        setting.update(values)
        return setting

    def create(self, path: str, *args: object, **values: object) -> MethodResult:
        return self.call("CreateVirtualHardDisk",
                         VirtualDiskSettingData=self.setting(path, *args, **values))

    def info(self, path: str) -> dict[str, str | None]:
        result = self.call("GetVirtualHardDiskSettingData", Path=path)
        assert result.return_value == 0, result
        return _props(result["SettingData"])

    def state(self, path: str) -> dict[str, str | None]:
        result = self.call("GetVirtualHardDiskState", Path=path)
        assert result.return_value == 0, result
        return _props(result["State"])

    def local(self, path: str) -> Path:
        return self.host.storage.local_path(path)


def _props(xml: str) -> dict[str, str | None]:
    """What a client parsing the CIM-XML output reads (PROPERTY NAME -> VALUE)."""
    root = ET.fromstring(xml)
    return {p.get("NAME"): (p.findtext("VALUE")) for p in root.iter("PROPERTY")}


@pytest.fixture
def images(client: Client) -> Images:
    found = Images(client)
    found.local("C:\\VMs").mkdir(parents=True)
    return found


def test_create_read_back_and_state(images: Images) -> None:
    job = images.client.job(images.create("C:\\VMs\\disk.vhdx"))
    assert (job["JobState"], job["ErrorCode"], job["JobType"]) == (7, 0, 1)
    assert job["Description"] == "Creating Virtual Hard Disk"
    local = images.local("C:\\VMs\\disk.vhdx")
    assert local.is_file() and local.stat().st_size == 4 * MiB  # a real host: 4 MiB
    info = images.info("c:\\vms\\DISK.VHDX")  # NTFS: names match in any case
    assert (info["Type"], info["Format"], info["MaxInternalSize"]) == ("3", "3", str(64 * MiB))
    assert (info["BlockSize"], info["LogicalSectorSize"], info["PhysicalSectorSize"]) == (
        str(32 * MiB), "512", "4096")
    assert info["Path"] == "c:\\vms\\DISK.VHDX" and info["ParentPath"] is None
    state = images.state("C:\\VMs\\disk.vhdx")
    assert (state["FileSize"], state["InUse"], state["Alignment"]) == (str(4 * MiB), "false",
                                                                       "1")


def test_fixed_vhd_and_sizes_rounded_to_the_sector(images: Images) -> None:
    images.client.ok(images.create("C:\\VMs\\fixed.vhd", 2, 2, 10 * MiB + 1))
    info = images.info("C:\\VMs\\fixed.vhd")
    assert (info["Type"], info["Format"], info["MaxInternalSize"], info["BlockSize"]) == (
        "2", "2", str(10 * MiB + 512), "0")


@pytest.mark.parametrize(("path", "type_", "format_", "size", "code", "why"), [
    ("C:\\VMs\\snap.avhdx", 3, 3, MiB, 32773, "checkpoint"),
    ("C:\\VMs\\disk.vhdx", 3, 2, MiB, 32773, "ends in .vhdx"),
    ("C:\\VMs\\disk.vhd", 3, 3, MiB, 32773, "ends in .vhd"),
    ("C:\\VMs\\disk.img", 3, 3, MiB, 32773, "ends in .img"),
    ("C:\\VMs\\set.vhds", 3, 4, MiB, 32770, "VHD Sets"),
    ("C:\\VMs\\disk.vhdx", 3, 3, None, 32773, "MaxInternalSize is required"),
    ("C:\\VMs\\disk.vhdx", 7, 3, MiB, 32773, "Type = 7"),
    ("C:\\nowhere\\disk.vhdx", 3, 3, MiB, 32779, "folder does not exist"),
    ("disk.vhdx", 3, 3, MiB, 32773, "not a fully qualified path"),
    ("\\\\filer\\gone\\disk.vhdx", 3, 3, MiB, 32779, "network path"),
    ("C:\\VMs\\big.vhd", 3, 2, 2041 << 30, 32773, "2040 GiB"),
    ("C:\\VMs\\odd.vhdx", 3, 3, MiB, 32773, "block"),
])
def test_create_refusals(images: Images, path: str, type_: int, format_: int, size: int | None,
                         code: int, why: str) -> None:
    extra = {"BlockSize": 3 * MiB} if "odd" in path else {}
    job = images.client.refused(images.create(path, type_, format_, size, **extra), code)
    assert why in job["ErrorDescription"]
    assert list(images.local("C:\\VMs\\x").parent.iterdir()) == []  # nothing left behind


def test_existing_file_is_never_overwritten(images: Images) -> None:
    local = make_image(images.host, "C:\\VMs\\disk.vhdx", 8 * MiB)
    before = local.read_bytes()
    job = images.client.refused(images.create("C:\\VMs\\disk.vhdx"), 32773)
    assert "already exists" in job["ErrorDescription"]
    assert local.read_bytes() == before


def test_differencing_disk_records_the_parent_path_given(images: Images) -> None:
    make_image(images.host, "C:\\base\\parent.vhdx", 32 * MiB)
    images.client.ok(images.create("C:\\VMs\\child.vhdx", 4, 3, None,
                                   ParentPath="C:\\base\\parent.vhdx"))
    info = images.info("C:\\VMs\\child.vhdx")
    assert (info["Type"], info["ParentPath"], info["MaxInternalSize"]) == (
        "4", "C:\\base\\parent.vhdx", str(32 * MiB))
    assert info["BlockSize"] == str(2 * MiB)
    # the child's chain opens through the host's mapping of the recorded Windows path
    with vhdfile.open_disk(images.local("C:\\VMs\\child.vhdx"),
                           parent_resolver=lambda loc, child: images.local(
                               loc.absolute_path)) as disk:
        assert Path(disk.parent.path) == images.local("C:\\base\\parent.vhdx")


def test_differencing_refusals(images: Images) -> None:
    make_image(images.host, "C:\\base\\parent.vhd", 32 * MiB)
    cases = [
        ({}, 32773, "ParentPath is required"),
        ({"ParentPath": "C:\\base\\missing.vhdx"}, 32779, "cannot find the file"),
        ({"ParentPath": "C:\\base\\parent.vhd"}, 32773, "needs a vhdx parent"),
    ]
    for values, code, why in cases:
        job = images.client.refused(images.create("C:\\VMs\\child.vhdx", 4, 3, None, **values),
                                    code)
        assert why in job["ErrorDescription"]
    job = images.client.refused(images.create("C:\\VMs\\d.vhdx", 3, 3, MiB,
                                              ParentPath="C:\\base\\parent.vhd"), 32773)
    assert "only a differencing disk" in job["ErrorDescription"]


def test_paths_on_shares_and_local_paths(images: Images, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    images.host.storage.add_smb_share("\\\\filer\\Volumes", folder)
    images.client.ok(images.create("\\\\FILER\\volumes\\vol-1.vhdx"))
    assert (folder / "vol-1.vhdx").is_file()
    assert images.info("\\\\filer\\volumes\\vol-1.vhdx")["Format"] == "3"
    local = tmp_path / "linux" / "disk.vhdx"
    local.parent.mkdir()
    images.client.ok(images.create(str(local)))
    assert images.info(str(local))["Path"] == str(local)


def test_get_methods_answer_synchronously_and_refuse_missing_files(images: Images) -> None:
    for method in ("GetVirtualHardDiskSettingData", "GetVirtualHardDiskState"):
        result = images.call(method, Path="C:\\VMs\\missing.vhdx")
        assert (result.return_value, result.job) == (32779, None)
    garbage = images.local("C:\\VMs\\garbage.vhdx")
    garbage.write_bytes(b"not a disk" * 100)
    assert images.call("GetVirtualHardDiskSettingData",
                       Path="C:\\VMs\\garbage.vhdx").return_value == 32768


def test_resize(images: Images) -> None:
    make_image(images.host, "C:\\VMs\\d.vhdx", 64 * MiB)
    job = images.client.job(images.call("ResizeVirtualHardDisk", Path="C:\\VMs\\d.vhdx",
                                        MaxInternalSize=128 * MiB))
    assert (job["JobState"], job["JobType"]) == (7, 4)
    assert images.info("C:\\VMs\\d.vhdx")["MaxInternalSize"] == str(128 * MiB)
    with vhdfile.open_disk(images.local("C:\\VMs\\d.vhdx"), writable=True) as disk:
        disk.write(100 * MiB, b"data" * 1024)
    assert images.state("C:\\VMs\\d.vhdx")["MinInternalSize"] == str(101 * MiB)
    job = images.client.refused(images.call("ResizeVirtualHardDisk", Path="C:\\VMs\\d.vhdx",
                                            MaxInternalSize=64 * MiB), 32773)
    assert "cannot shrink below" in job["ErrorDescription"]
    images.client.ok(images.call("ResizeVirtualHardDisk", Path="C:\\VMs\\d.vhdx",
                                 MaxInternalSize=101 * MiB))
    make_image(images.host, "C:\\VMs\\d.vhd", 64 * MiB)
    job = images.client.refused(images.call("ResizeVirtualHardDisk", Path="C:\\VMs\\d.vhd",
                                            MaxInternalSize=32 * MiB), 32773)
    assert "shrinks only VHDX" in job["ErrorDescription"]
    make_image(images.host, "C:\\VMs\\child.vhd", parent="C:\\VMs\\d.vhd")
    job = images.client.refused(images.call("ResizeVirtualHardDisk", Path="C:\\VMs\\child.vhd",
                                            MaxInternalSize=128 * MiB), 32773)
    assert "differencing VHD" in job["ErrorDescription"]
    images.client.refused(images.call("ResizeVirtualHardDisk", Path="C:\\VMs\\none.vhdx",
                                      MaxInternalSize=128 * MiB), 32779)


def test_merge_deletes_the_child(images: Images) -> None:
    parent = make_image(images.host, "C:\\VMs\\base.vhdx", 16 * MiB)
    child = make_image(images.host, "C:\\VMs\\child.vhdx", parent="C:\\VMs\\base.vhdx")
    with vhdfile.open_disk(child, writable=True,
                           parent_resolver=lambda loc, c: str(parent)) as disk:
        disk.write(0, b"written in the child")
    job = images.client.job(images.call("MergeVirtualHardDisk", SourcePath="C:\\VMs\\child.vhdx",
                                        DestinationPath="C:\\VMs\\base.vhdx"))
    assert (job["JobState"], job["JobType"]) == (7, 5)
    assert not child.exists()
    with vhdfile.open_disk(parent) as disk:
        assert disk.read(0, 20) == b"written in the child"


def test_merge_refusals(images: Images) -> None:
    make_image(images.host, "C:\\VMs\\base.vhdx", 16 * MiB)
    make_image(images.host, "C:\\VMs\\other.vhdx", 16 * MiB)
    make_image(images.host, "C:\\VMs\\child.vhdx", parent="C:\\VMs\\base.vhdx")
    job = images.client.refused(images.call("MergeVirtualHardDisk",
                                            SourcePath="C:\\VMs\\child.vhdx",
                                            DestinationPath="C:\\VMs\\other.vhdx"), 32773)
    assert "is not a parent" in job["ErrorDescription"]
    images.client.refused(images.call("MergeVirtualHardDisk", SourcePath="C:\\VMs\\base.vhdx",
                                      DestinationPath="C:\\VMs\\other.vhdx"), 32773)
    images.client.refused(images.call("MergeVirtualHardDisk", SourcePath="C:\\VMs\\child.vhdx"),
                          32773)
    assert images.local("C:\\VMs\\child.vhdx").exists()


def test_convert_makes_a_new_file_and_keeps_the_source(images: Images) -> None:
    source = make_image(images.host, "C:\\VMs\\src.vhdx", 16 * MiB)
    with vhdfile.open_disk(source, writable=True) as disk:
        disk.write(MiB, b"payload")
    before = source.read_bytes()
    target = images.setting("C:\\VMs\\dst.vhd", 2, 2, 0)
    job = images.client.job(images.call("ConvertVirtualHardDisk", SourcePath="C:\\VMs\\src.vhdx",
                                        VirtualDiskSettingData=target))
    assert (job["JobState"], job["JobType"]) == (7, 6)
    assert source.read_bytes() == before
    info = images.info("C:\\VMs\\dst.vhd")
    assert (info["Type"], info["Format"], info["MaxInternalSize"]) == ("2", "2", str(16 * MiB))
    with vhdfile.open_disk(images.local("C:\\VMs\\dst.vhd")) as disk:
        assert disk.read(MiB, 7) == b"payload"
    for path, type_, format_, code in (("C:\\VMs\\dst.vhd", 3, 2, 32773),
                                       ("C:\\VMs\\x.vhdx", 3, 2, 32773),
                                       ("C:\\VMs\\diff.vhdx", 4, 3, 32773)):
        images.client.refused(images.call(
            "ConvertVirtualHardDisk", SourcePath="C:\\VMs\\src.vhdx",
            VirtualDiskSettingData=images.setting(path, type_, format_, 0)), code)
    assert not images.local("C:\\VMs\\x.vhdx").exists()


def test_reconnecting_a_parent(images: Images) -> None:
    parent = make_image(images.host, "C:\\old\\base.vhdx", 16 * MiB)
    make_image(images.host, "C:\\VMs\\child.vhdx", parent="C:\\old\\base.vhdx")
    moved = images.local("C:\\new\\base.vhdx")
    moved.parent.mkdir()
    moved.write_bytes(parent.read_bytes())
    parent.unlink()
    setting = images.setting("C:\\VMs\\child.vhdx", 4, 3, None, ParentPath="C:\\new\\base.vhdx")
    result = images.call("SetVirtualHardDiskSettingData", VirtualDiskSettingData=setting)
    assert result.return_value == 0
    assert images.info("C:\\VMs\\child.vhdx")["ParentPath"] == "C:\\new\\base.vhdx"
    # one change per call; an unrelated parent is refused unless the IDs are ignored
    setting = images.setting("C:\\VMs\\child.vhdx", 4, 3, None, ParentPath="C:\\old\\x.vhdx",
                             PhysicalSectorSize=512)
    job = images.client.refused(images.call("SetVirtualHardDiskSettingData",
                                            VirtualDiskSettingData=setting), 32773)
    assert "one of" in job["ErrorDescription"]
    make_image(images.host, "C:\\old\\other.vhdx", 16 * MiB)
    setting = images.setting("C:\\VMs\\child.vhdx", 4, 3, None, ParentPath="C:\\old\\other.vhdx")
    job = images.client.refused(images.call("SetVirtualHardDiskSettingData",
                                            VirtualDiskSettingData=setting), 32773)
    assert "is not the disk" in job["ErrorDescription"]
    result = images.call("SetParentVirtualHardDisk", ChildPath="C:\\VMs\\child.vhdx",
                         ParentPath="C:\\old\\other.vhdx", IgnoreIDMismatch=True)
    assert result.return_value == 0
    assert images.info("C:\\VMs\\child.vhdx")["ParentPath"] == "C:\\old\\other.vhdx"


def test_validate(images: Images) -> None:
    make_image(images.host, "C:\\VMs\\good.vhdx")
    images.client.ok(images.call("ValidateVirtualHardDisk", Path="C:\\VMs\\good.vhdx"))
    bad = images.local("C:\\VMs\\bad.vhdx")
    bad.write_bytes(b"vhdxfile" + bytes(300 * 1024))
    images.client.refused(images.call("ValidateVirtualHardDisk", Path="C:\\VMs\\bad.vhdx"),
                          32768)  # R:vhd_validate: a corrupt file fails the job with 32768


def test_jobs_that_report_for_a_while(images: Images) -> None:
    images.host.update_settings(job_polls=2)
    result = images.create("C:\\VMs\\slow.vhdx")
    assert images.local("C:\\VMs\\slow.vhdx").is_file()  # the work is done at the call
    states = [images.session.get(result.job)["JobState"] for _ in range(3)]
    assert states == [4, 4, 7]


# -- disks a running VM holds --------------------------------------------------------------


def _vm_with_disk(client: Client, path: str, generation: int = 2,
                  name: str = "vm1") -> tuple[str, str]:
    """A VM with `path` in slot 0 of its SCSI (generation 2) or first IDE controller."""
    system = client.define(name, generation)
    if generation == 2:
        controller = client.scsi(system)
    else:
        controller = str(client.devices(system, subtype=HV + "Emulated IDE Controller")[0].path)
    drive = client.ok(client.drive(system, controller, 0))["ResultingResourceSettings"][0]
    client.ok(client.media(system, drive, path))
    return system, controller


def test_a_running_vm_holds_its_disks(images: Images) -> None:
    client = images.client
    make_image(images.host, "C:\\VMs\\base.vhdx", 32 * MiB)
    make_image(images.host, "C:\\VMs\\root.vhdx", parent="C:\\VMs\\base.vhdx")
    system, _ = _vm_with_disk(client, "C:\\VMs\\root.vhdx")
    client.ok(client.state(system, 2))
    assert images.state("C:\\VMs\\root.vhdx")["InUse"] == "true"
    assert images.state("C:\\VMs\\base.vhdx")["InUse"] == "true"
    job = client.refused(images.call("MergeVirtualHardDisk", SourcePath="C:\\VMs\\root.vhdx",
                                     DestinationPath="C:\\VMs\\base.vhdx"), 32775)
    assert "vm1" in job["ErrorDescription"]
    client.refused(images.call("ResizeVirtualHardDisk", Path="C:\\VMs\\base.vhdx",
                               MaxInternalSize=64 * MiB), 32775)  # a parent: never online
    # online resize: a VHDX on SCSI grows while its VM runs
    client.ok(images.call("ResizeVirtualHardDisk", Path="C:\\VMs\\root.vhdx",
                          MaxInternalSize=64 * MiB))
    assert images.info("C:\\VMs\\root.vhdx")["MaxInternalSize"] == str(64 * MiB)
    client.refused(images.call("ConvertVirtualHardDisk", SourcePath="C:\\VMs\\root.vhdx",
                               VirtualDiskSettingData=images.setting("C:\\VMs\\c.vhdx", 3, 3,
                                                                     0)), 32775)
    # its parent is only read: copying it out works while the VM runs
    client.ok(images.call("ConvertVirtualHardDisk", SourcePath="C:\\VMs\\base.vhdx",
                          VirtualDiskSettingData=images.setting("C:\\VMs\\copy.vhdx", 3, 3,
                                                                0)))
    client.ok(client.state(system, 6))  # saved: the worker is gone, the files are free
    assert images.state("C:\\VMs\\root.vhdx")["InUse"] == "false"
    client.ok(images.call("MergeVirtualHardDisk", SourcePath="C:\\VMs\\root.vhdx",
                          DestinationPath="C:\\VMs\\base.vhdx"))


def test_online_resize_needs_a_vhdx_on_scsi(images: Images) -> None:
    client = images.client
    make_image(images.host, "C:\\VMs\\root.vhdx", 32 * MiB)
    make_image(images.host, "C:\\VMs\\data.vhd", 32 * MiB)
    make_image(images.host, "C:\\VMs\\ide.vhdx", 32 * MiB)
    system, controller = _vm_with_disk(client, "C:\\VMs\\root.vhdx")
    drive = client.ok(client.drive(system, controller, 1))["ResultingResourceSettings"][0]
    client.ok(client.media(system, drive, "C:\\VMs\\data.vhd"))
    old, _ = _vm_with_disk(client, "C:\\VMs\\ide.vhdx", generation=1, name="vm2")
    client.ok(client.state(system, 2))
    client.ok(client.state(old, 2))
    for path in ("C:\\VMs\\data.vhd", "C:\\VMs\\ide.vhdx"):
        job = client.refused(images.call("ResizeVirtualHardDisk", Path=path,
                                         MaxInternalSize=64 * MiB), 32775)
        assert "only a VHDX on a SCSI controller" in job["ErrorDescription"]
