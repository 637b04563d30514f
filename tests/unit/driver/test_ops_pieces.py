"""The driver's ops helpers that need no Nova services: faults, images, sizes, uptime."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from nova import exception

import vhdfile
from nova_hyperv import rules
from nova_hyperv.ops import errors, images, metadata
from nova_hyperv.ops.host import _cim_datetime, uptime_text
from vhdfile import testimages


def test_fault_text_puts_what_to_change_first() -> None:
    violation = rules.RuleViolation(
        "secure-boot-requires-gen2", "os_secure_boot", "required",
        "Secure Boot only with hw_machine_type=hyperv-gen2",
        "Secure Boot needs UEFI, which only generation 2 VMs have",
        source="image property")
    text = errors.fault_text(violation)
    assert text.startswith("image property os_secure_boot = 'required': allowed Secure Boot "
                           "only with hw_machine_type=hyperv-gen2. ")
    assert text.endswith("[secure-boot-requires-gen2]")


@pytest.mark.parametrize(("code", "source", "expected"), [
    ("generation-invalid", "image property", exception.ImageUnacceptable),
    ("gen2-requires-vhdx", "image", exception.ImageUnacceptable),
    ("root-disk-too-small", "flavor", exception.FlavorDiskSmallerThanImage),
    ("numa-nodes-invalid", "flavor extra spec", exception.InvalidInput),
    ("config-invalid", "[hyperv] option", exception.InvalidInput),
])
def test_violations_become_exceptions_nova_does_not_reschedule(
        code: str, source: str, expected: type[Exception]) -> None:
    violation = rules.RuleViolation(code, "field", "value", "something", "because",
                                    source=source)
    found = errors.translate(violation, None, "image-id")
    assert type(found) is expected
    assert "field = 'value': allowed something" in found.format_message()


def test_detect_format_reads_the_content(tmp_path: Path) -> None:
    vhdx = tmp_path / "disk.vhd"  # the name lies: the content decides
    testimages.mbr_bios_image(vhdx, format="vhdx", size=8 << 20)
    assert images.detect_format(str(vhdx)) == "vhdx"
    iso = tmp_path / "cd"
    iso.write_bytes(bytes(32769) + b"CD001" + bytes(100))
    assert images.detect_format(str(iso)) == "iso"
    raw = tmp_path / "raw"
    raw.write_bytes(bytes(1 << 16))
    assert images.detect_format(str(raw)) is None


@pytest.mark.parametrize("fmt", ["vhd", "vhdx"])
@pytest.mark.parametrize("use_cow", [False, True])
def test_disk_math_gives_files_that_fit_the_budget(fmt: str, use_cow: bool) -> None:
    budget = 10 << 30
    layout = rules.DiskLayout(format=fmt)
    size = images.disk_math_for(use_cow)(layout, budget)
    kind = "differencing" if use_cow else "dynamic"
    block = vhdfile.default_block_size(vhdfile.DiskFormat(fmt), vhdfile.DiskType(kind))
    locators = images.VHD_LOCATOR_BOUND if use_cow and fmt == "vhd" else 0
    assert vhdfile.max_file_size(fmt, kind, size, block_size=block,
                                 parent_locator_bytes=locators) <= budget
    assert vhdfile.max_file_size(fmt, kind, size + (2 << 20), block_size=block,
                                 parent_locator_bytes=locators) > budget


def test_local_disks_are_all_or_nothing(tmp_path: Path) -> None:
    plan_disks = (
        rules.DiskPlan("eph0", "ephemeral", "disk", "scsi", 0, 0, size_bytes=1 << 30,
                       file_name="eph0.vhdx"),
        rules.DiskPlan("swap", "swap", "disk", "scsi", 0, 1, size_bytes=1000,  # not sectors
                       file_name="swap.vhdx"),
    )

    class Plan:
        disks = plan_disks
        root_virtual_size = None

    with pytest.raises(vhdfile.VhdError):
        images.create_local_disks(images.ImageCache(str(tmp_path)), None, Plan(),  # type: ignore[arg-type]
                                  str(tmp_path), use_cow=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_device_buses() -> None:
    scsi = rules.DiskPlan("eph0", "ephemeral", "disk", "scsi", 0, 5)
    ide = rules.DiskPlan("eph1", "ephemeral", "disk", "ide", 1, 1)
    assert metadata.disk_bus(scsi).address == "0:0:0:5"
    assert metadata.disk_bus(ide).address == "1:1"


def test_uptime_text() -> None:
    boot = _cim_datetime("20260101000000.000000+060")
    assert boot == datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone(
        datetime.timedelta(hours=1)))
    now = datetime.datetime(2026, 1, 3, 2, 30, tzinfo=datetime.UTC)
    assert uptime_text(boot, now) == (" 02:30:00 up 2 days,  3:30,  0 users,  "
                                      "load average: 0.00, 0.00, 0.00")
    assert _cim_datetime(None) is None and _cim_datetime("garbage") is None


def test_volume_entries_are_replaced_and_the_rest_kept() -> None:
    from nova.objects import virt_device_metadata as objects

    nic = objects.NetworkInterfaceMetadata(mac="fa:16:3e:00:00:01", bus=objects.PCIDeviceBus(),
                                           tags=["lan"])
    ephemeral = objects.DiskMetadata(bus=objects.SCSIDeviceBus(address="0:0:0:0"),
                                     tags=["scratch"])
    old = objects.DiskMetadata(bus=objects.SCSIDeviceBus(address="0:0:0:1"), serial="gone",
                               tags=[])
    existing = objects.InstanceDeviceMetadata(devices=[nic, ephemeral, old])
    found = metadata.with_volumes(
        existing, {"gone", "kept"}, [metadata.VolumeAddress("kept", "ide", 1, 0)],
        {"kept": "db", "gone": None})
    assert found.devices[:2] == [nic, ephemeral]
    [entry] = found.devices[2:]
    assert (entry.serial, entry.bus.address, entry.tags) == ("kept", "1:0", ["db"])
    assert isinstance(entry.bus, objects.IDEDeviceBus)
