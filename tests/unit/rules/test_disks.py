"""Disks: buses, controllers and slots per generation, config drive, volumes."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import DiskPlan, Ephemeral, HyperVConfig, Volume, plan_volume_attach

from .builders import GEN2, GIB, plan


def layout(vm: object) -> list[tuple[str, str, str, int, int]]:
    return [(d.name, d.kind, d.bus, d.controller, d.slot) for d in vm.disks]  # type: ignore[attr-defined]


def test_generation_1_root_on_ide_others_default_to_scsi() -> None:
    vm = plan(ephemeral=10, swap=512, volumes=(Volume("v1"),))
    assert layout(vm) == [
        ("root", "root", "ide", 0, 0),
        ("eph0", "ephemeral", "scsi", 0, 0),
        ("swap", "swap", "scsi", 0, 1),
        ("v1", "volume", "scsi", 0, 2),
    ]


def test_generation_1_ide_disks_fill_controller_0_then_1() -> None:
    vm = plan(ephemeral=3, ephemerals=(Ephemeral(1, bus="ide"), Ephemeral(1, bus=" IDE "),
                                       Ephemeral(1, bus="Ide")))
    assert layout(vm)[1:] == [("eph0", "ephemeral", "ide", 0, 1),
                              ("eph1", "ephemeral", "ide", 1, 0),
                              ("eph2", "ephemeral", "ide", 1, 1)]


def test_generation_1_config_drive_keeps_ide_1_0() -> None:
    vm = plan(config_drive=True, ephemeral=2,
              ephemerals=(Ephemeral(1, bus="ide"), Ephemeral(1, bus="ide")))
    assert layout(vm)[1:] == [("eph0", "ephemeral", "ide", 0, 1),
                              ("eph1", "ephemeral", "ide", 1, 1),
                              ("configdrive", "config_drive", "ide", 1, 0)]


def test_generation_2_is_scsi_only_and_config_drive_comes_last() -> None:
    vm = plan(props=GEN2, ephemeral=10, config_drive=True, volumes=(Volume("v1", bus="SCSI"),))
    assert layout(vm) == [
        ("root", "root", "scsi", 0, 0),
        ("eph0", "ephemeral", "scsi", 0, 1),
        ("v1", "volume", "scsi", 0, 2),
        ("configdrive", "config_drive", "scsi", 0, 3),
    ]


@pytest.mark.parametrize(("cdrom", "device", "file"), [(False, "disk", "configdrive.vhd"),
                                                        (True, "dvd", "configdrive.iso")])
def test_config_drive_as_disk_or_cdrom(cdrom: bool, device: str, file: str) -> None:
    vm = plan(config=HyperVConfig(config_drive_cdrom=cdrom), config_drive=True)
    drive = vm.disk("configdrive")
    assert (drive.device, drive.file_name) == (device, file)
    assert vm.config_drive


def test_slots_run_out_exactly_at_the_limit() -> None:
    assert len(plan(volumes=tuple(Volume(f"v{i}") for i in range(64))).disks) == 65
    assert len(plan(props=GEN2, volumes=tuple(Volume(f"v{i}") for i in range(63))).disks) == 64
    gen2_cd = plan(props=GEN2, config_drive=True, volumes=tuple(Volume(f"v{i}") for i in range(62)))
    assert gen2_cd.disk("configdrive").slot == 63


def test_boot_from_volume_puts_the_volume_at_the_boot_slot() -> None:
    vm = plan(disk_format=None, root_volume=Volume("boot", connection_type="FIBRE_CHANNEL",
                                                   tag="os"))
    root = vm.disks[0]
    assert root == DiskPlan(name="boot", kind="root", device="disk", bus="ide", controller=0,
                            slot=0, boot_index=0, volume_id="boot",
                            connection_type="fibre_channel", tag="os")
    assert vm.root_virtual_size is None


def test_gen2_boot_from_volume_on_scsi() -> None:
    vm = plan(props=GEN2, disk_format=None, root_volume=Volume("boot", bus="scsi"))
    assert layout(vm) == [("boot", "root", "scsi", 0, 0)]


def test_local_disk_sizes_and_files() -> None:
    vm = plan(disk=20, ephemeral=30, swap=1024, ephemerals=(Ephemeral(10), Ephemeral("20")))
    assert [(d.name, d.size_bytes, d.file_name) for d in vm.disks] == [
        ("root", vm.root_virtual_size, "root.vhdx"),
        ("eph0", 10 * GIB, "eph0.vhdx"),
        ("eph1", 20 * GIB, "eph1.vhdx"),
        ("swap", 1024 << 20, "swap.vhdx"),
    ]


def test_tags_and_connection_types_are_carried() -> None:
    vm = plan(ephemeral=1, ephemerals=(Ephemeral(1, tag="scratch"),),
              volumes=(Volume("v1", connection_type="smbfs", tag="data"),))
    assert vm.disk("eph0").tag == "scratch"
    assert (vm.disk("v1").tag, vm.disk("v1").connection_type) == ("data", "smbfs")


def test_empty_bus_means_default() -> None:
    assert plan(volumes=(Volume("v1", bus=" "),)).disk("v1").bus == "scsi"


# -- volumes attached to an existing VM ---------------------------------------------------


def test_attached_volume_takes_the_first_free_scsi_slot() -> None:
    occupied = [("ide", 0, 0), ("scsi", 0, 0), ("scsi", 0, 2)]
    disk = plan_volume_attach(Volume("vol", tag="db"), 1, occupied, running=True)
    assert (disk.bus, disk.controller, disk.slot, disk.volume_id, disk.tag, disk.kind) == (
        "scsi", 0, 1, "vol", "db", "volume")


def test_attached_volume_on_ide_of_a_stopped_gen1_vm() -> None:
    disk = plan_volume_attach(Volume("vol", bus=" IDE "), 1, [("ide", 0, 0), ("ide", 0, 1)],
                              running=False)
    assert (disk.bus, disk.controller, disk.slot) == ("ide", 1, 0)


def test_attached_smb_volume_carries_its_front_end_qos_and_others_do_not() -> None:
    specs = {"total_bytes_sec": "20000", "total_iops_sec": None}
    smb = plan_volume_attach(Volume("a", connection_type="smbfs", qos_specs=specs), 2, (),
                             running=True)
    iscsi = plan_volume_attach(Volume("b", qos_specs=specs), 2, (), running=True)
    assert (smb.iops_limit, iscsi.iops_limit) == (2, None)  # 20000 // 8192, rounded down
