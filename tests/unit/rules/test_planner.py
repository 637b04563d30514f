"""The plan as a whole: complete, immutable, independent of the request's later changes."""

from __future__ import annotations

import dataclasses

import pytest

from nova_hyperv.rules import (
    DiskPlan,
    Ephemeral,
    HyperVConfig,
    MemoryPlan,
    NicPlan,
    NumaPlan,
    PciDevicePlan,
    PciRequest,
    ProcessorPlan,
    RemoteFxPlan,
    SecureBootPlan,
    SerialPortPlan,
    Vif,
    VmPlan,
    Volume,
    VtpmPlan,
    plan_instance,
    plan_resize,
)
from nova_hyperv.rules.disk_size import GIB

from .builders import UUID, WS2016, make_host, make_request, plan

HOST = make_host((10, 0, 14393), remotefx=True, guarded=True, pci=(("10de", "13f2", True),))


def test_full_featured_request_on_2016() -> None:
    vm = plan(
        HOST,
        HyperVConfig(dynamic_memory_ratio=2.0, enable_remotefx=True, limit_cpu_features=True),
        vcpus=4, ram=8192, disk=40, ephemeral=10, swap=0,
        specs={"os:secure_boot": "required", "hw:numa_nodes": "2",
               "quota:disk_total_iops_sec": "800", "os:resolution": "1920x1200",
               "os:monitors": "2", "os:vram": "256"},
        props={"hw_machine_type": "hyperv-gen2", "os_secure_boot": "optional",
               "os_type": "windows", "os_shielded_vm": "required",
               "img_pdk_reference": "pdk-1", "logging_serial_port": "2",
               "hw_cpu_features": "vmx"},
        virtual_size=30 * GIB, hostname="web1",
        volumes=(Volume("vol-1", boot_index=1, tag="data"),),
        vifs=(Vif("port-1", "fa:16:3e:00:00:01", tag="lan"),),
        pci=(PciRequest("10de", "13f2"),), config_drive=True,
    )
    root_size = vm.root_virtual_size
    assert root_size is not None and 30 * GIB < root_size < 40 * GIB
    assert vm == VmPlan(
        name="instance-00000001", instance_uuid=UUID, notes=(UUID,), generation=2,
        secure_boot=SecureBootPlan(True, "MicrosoftWindows",
                                   "1734C6E8-3154-4DDA-BA5F-A874CC483422"),
        vtpm=VtpmPlan(True, True, "pdk-1", (("@@ComputerName@@", "web1"),)),
        memory=MemoryPlan(8192, False, 8192, 8192),
        processors=ProcessorPlan(4, True, True),
        numa=NumaPlan(2, 2, 4096),
        remotefx=RemoteFxPlan(2, "1920x1200", 256 << 20),
        disks=(
            DiskPlan("root", "root", "disk", "scsi", 0, 0, 800, 0, root_size, "root.vhdx"),
            DiskPlan("eph0", "ephemeral", "disk", "scsi", 0, 1, 800, None, 10 * GIB,
                     "eph0.vhdx"),
            DiskPlan("vol-1", "volume", "disk", "scsi", 0, 2, None, 1, None, None, "vol-1",
                     "iscsi", "data"),
            DiskPlan("configdrive", "config_drive", "disk", "scsi", 0, 3, None, None, None,
                     "configdrive.vhd"),
        ),
        boot_order=("root", "vol-1", "eph0", "port-1", "configdrive"),
        nics=(NicPlan("port-1", "fa:16:3e:00:00:01", "lan"),),
        serial_ports=(SerialPortPlan(1, "rw", f"\\\\.\\pipe\\{UUID}_rw"),
                      SerialPortPlan(2, "ro", f"\\\\.\\pipe\\{UUID}_ro")),
        pci_devices=(PciDevicePlan("10de", "13f2"),),
        host_shutdown_action="TurnOff", config_drive=True, root_virtual_size=root_size,
    )


def test_plan_is_immutable_and_hashable() -> None:
    vm = plan(ephemeral=1, vifs=(Vif("p", "fa:16:3e:00:00:01"),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        vm.generation = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        vm.disks[0].slot = 3  # type: ignore[misc]
    assert isinstance(vm.disks, tuple) and isinstance(vm.boot_order, tuple)
    assert hash(vm) == hash(plan(ephemeral=1, vifs=(Vif("p", "fa:16:3e:00:00:01"),)))


def test_request_mappings_are_read_only_copies() -> None:
    specs = {"hw:numa_nodes": "1"}
    request = make_request(specs=specs)
    specs["hw:numa_nodes"] = "bogus"
    assert plan_instance(request, WS2016).numa is not None
    with pytest.raises(TypeError):
        request.flavor.extra_specs["x"] = 1  # type: ignore[index]


def test_same_request_same_plan() -> None:
    assert plan(ephemeral=2, ephemerals=(Ephemeral(1), Ephemeral(1))) == plan(
        ephemeral=2, ephemerals=(Ephemeral(1), Ephemeral(1)))


def test_disk_lookup_by_name() -> None:
    vm = plan()
    assert vm.disk("root").kind == "root"
    with pytest.raises(KeyError):
        vm.disk("nope")


def test_resize_may_grow_disks_and_drop_ephemerals() -> None:
    before = plan(disk=20, ephemeral=10)
    grown = plan_resize(before, make_request(disk=40, ephemeral=20), make_host())
    assert grown.root_virtual_size > before.root_virtual_size  # type: ignore[operator]
    assert grown.disk("eph0").size_bytes == 20 * GIB
    dropped = plan_resize(before, make_request(disk=20, ephemeral=0), make_host())
    assert [d.name for d in dropped.disks] == ["root"]
