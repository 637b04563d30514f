"""Every rejection the rules know, one request each: code, field and a useful message.

The table must name every code in CODES (checked below), so a new rule cannot ship
without a test that makes it refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nova_hyperv.rules import (
    CODES,
    Ephemeral,
    HyperVConfig,
    Image,
    ImageLayout,
    PciRequest,
    RuleViolation,
    Vif,
    Volume,
    check_rescue_image,
    config_from_mapping,
    default_disk_math,
    flavor_from_mapping,
    plan_instance,
    plan_resize,
    plan_volume_attach,
    require_nic_hot_plug,
)

from .builders import GEN2, GIB, WS2012, WS2012R2, WS2016, WS2019, WS2022, make_host, make_request

SB_WIN = {**GEN2, "os_secure_boot": "required", "os_type": "windows"}
GUARDED = make_host(guarded=True)
RFX = {"os:resolution": "1920x1200"}
ON = HyperVConfig(enable_remotefx=True)


def planning(
    host: Any = WS2022, config: HyperVConfig | None = None, **kw: Any
) -> Callable[[], Any]:
    return lambda: plan_instance(make_request(**kw), host, config)


def rescuing(vm_generation: int = 1, **image: Any) -> Callable[[], Any]:
    return lambda: check_rescue_image(Image(id="rescue", **image), vm_generation,
                                      secure_boot=False, root_gb=1,
                                      disk_math=default_disk_math)


MBR = ImageLayout("mbr", bios_boot=True)
GPT_UEFI = ImageLayout("gpt", esp=True, efi_loader="\\EFI\\BOOT\\BOOTX64.EFI")


def resizing(old: dict[str, Any], new: dict[str, Any]) -> Callable[[], Any]:
    return lambda: plan_resize(plan_instance(make_request(**old), WS2022), make_request(**new),
                               WS2022)


CASES: list[tuple[str, str, Callable[[], Any]]] = [
    ("flavor-invalid", "vcpus", planning(vcpus=0)),
    ("flavor-invalid", "vcpus", planning(vcpus="two")),
    ("flavor-invalid", "ephemeral_gb", planning(ephemeral=-1)),
    ("flavor-invalid", "ram", lambda: flavor_from_mapping({"vcpus": 1, "disk": 1})),
    ("flavor-invalid", "cpus", lambda: flavor_from_mapping({"cpus": 1})),
    ("memory-invalid", "memory_mb", planning(ram=2047)),
    ("memory-invalid", "memory_mb", planning(ram=16)),
    ("vcpus-exceed-host", "vcpus", planning(vcpus=33)),
    ("instance-invalid", "uuid", planning(uuid="not-a-uuid")),
    ("instance-invalid", "name", planning(name="")),
    ("instance-invalid", "hostname", planning(hostname="")),
    ("config-invalid", "dynamic_memory_ratio", planning(config=HyperVConfig(0))),
    ("config-invalid", "dynamic_memory_ratio",
     lambda: config_from_mapping({"dynamic_memory_ratio": "fast"})),
    ("config-invalid", "enable_remotefx", lambda: config_from_mapping({"enable_remotefx": "2"})),
    ("config-invalid", "vswitch", lambda: config_from_mapping({"vswitch": "x"})),
    ("image-invalid", "virtual_size", planning(virtual_size=-1)),
    ("image-invalid", "virtual_size", planning(disk_format="vhd", virtual_size=2041 * GIB)),
    ("image-invalid", "block_size", planning(block_size=3 << 20)),
    ("image-format-unsupported", "disk_format", planning(disk_format="qcow2")),
    ("image-format-unsupported", "disk_format", planning(disk_format=None)),
    ("image-format-unsupported", "file_format", planning(file_format="raw")),
    ("generation-invalid", "hw_machine_type", planning(props={"hw_machine_type": "q35"})),
    ("generation-unsupported-by-host", "hw_machine_type", planning(WS2012, props=GEN2)),
    ("gen2-requires-vhdx", "disk_format", planning(props=GEN2, disk_format="vhd")),
    ("gen2-requires-vhdx", "file_format", planning(props=GEN2, file_format="vhd")),
    ("secure-boot-invalid", "os_secure_boot", planning(props={"os_secure_boot": "yes"})),
    ("secure-boot-invalid", "os:secure_boot", planning(specs={"os:secure_boot": "optional"})),
    ("secure-boot-image-not-capable", "os:secure_boot",
     planning(props=GEN2, specs={"os:secure_boot": "required"})),
    ("secure-boot-requires-gen2", "os_secure_boot", planning(props={"os_secure_boot": "required"})),
    ("secure-boot-requires-gen2", "os:secure_boot",
     planning(props={"os_secure_boot": "optional"}, specs={"os:secure_boot": "required"})),
    ("secure-boot-requires-os-type", "os_type",
     planning(props={**GEN2, "os_secure_boot": "required"})),
    ("secure-boot-requires-os-type", "os_type",
     planning(props={**SB_WIN, "os_type": "freebsd"})),
    ("secure-boot-linux-requires-host-10", "os_type",
     planning(WS2012R2, props={**SB_WIN, "os_type": "linux"})),
    ("vtpm-invalid", "os_vtpm", planning(props={"os_vtpm": "yes"})),
    ("vtpm-invalid", "os_shielded_vm", planning(props={"os_shielded_vm": "optional"})),
    ("vtpm-requires-secure-boot", "os_shielded_vm",
     planning(GUARDED, props={**GEN2, "os_shielded_vm": "required"})),
    ("vtpm-requires-windows", "os_vtpm",
     planning(GUARDED, props={**SB_WIN, "os_type": "linux", "os_vtpm": "required"})),
    ("vtpm-requires-host-10", "os_vtpm",
     planning(make_host((6, 3, 9600), guarded=True), props={**SB_WIN, "os_vtpm": "required"})),
    ("vtpm-requires-guarded-host", "os_shielded_vm",
     planning(props={**SB_WIN, "os_shielded_vm": "required"})),
    ("vtpm-requires-pdk-reference", "img_pdk_reference",
     planning(GUARDED, props={**SB_WIN, "os_shielded_vm": "required"})),
    ("fsk-invalid", "fsk:", planning(
        GUARDED, props={**SB_WIN, "os_vtpm": "required", "img_pdk_reference": "c1"},
        metadata={"fsk:": "x"})),
    ("fsk-invalid", "fsk:Admin", planning(
        GUARDED, props={**SB_WIN, "os_vtpm": "required", "img_pdk_reference": "c1"},
        metadata={"fsk:Admin": 5})),
    ("fsk-computername-mismatch", "fsk:ComputerName", planning(
        GUARDED, props={**SB_WIN, "os_vtpm": "required", "img_pdk_reference": "c1"},
        metadata={"fsk:ComputerName": "other"})),
    ("remotefx-unsupported-by-host", "os:resolution", planning(WS2019, ON, specs=RFX)),
    ("remotefx-disabled", "os:resolution", planning(WS2016, specs=RFX)),
    ("remotefx-requires-rds-virtualization", "os:resolution",
     planning(make_host((10, 0, 14393), remotefx_gpus=("GPU",)), ON, specs=RFX)),
    ("remotefx-requires-gpu", "os:resolution",
     planning(make_host((10, 0, 14393), server_features=frozenset({"RDS-Virtualization"})),
              ON, specs=RFX)),
    ("remotefx-gen2-requires-host-10", "os:resolution", planning(WS2012R2, ON, specs=RFX,
                                                                 props=GEN2)),
    ("remotefx-resolution-invalid", "os:resolution",
     planning(WS2012R2, ON, specs={"os:resolution": "3840x2160"})),
    ("remotefx-resolution-invalid", "os:resolution",
     planning(WS2016, ON, specs={"os:resolution": "huge"})),
    ("remotefx-monitors-invalid", "os:monitors",
     planning(WS2016, ON, specs={**RFX, "os:monitors": "5"})),
    ("remotefx-monitors-invalid", "os:monitors",
     planning(WS2016, ON, specs={**RFX, "os:monitors": 0})),
    ("remotefx-vram-invalid", "os:vram", planning(WS2016, ON, specs={**RFX, "os:vram": "100"})),
    ("remotefx-vram-invalid", "os:vram", planning(WS2016, ON, specs={**RFX, "os:vram": "1G"})),
    ("numa-nodes-invalid", "hw:numa_nodes", planning(specs={"hw:numa_nodes": "0"})),
    ("numa-nodes-invalid", "hw:numa_nodes", planning(specs={"hw:numa_nodes": "3"})),
    ("numa-nodes-invalid", "hw_numa_nodes", planning(props={"hw_numa_nodes": "two"})),
    ("numa-cell-invalid", "hw:numa_cpus.2", planning(specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.2": "0"})),
    ("numa-cell-invalid", "hw:numa_mem", planning(specs={"hw:numa_nodes": "1",
                                                         "hw:numa_mem": "2048"})),
    ("numa-topology-incomplete", "hw:numa_mem.1", planning(specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "1",
        "hw:numa_mem.0": "1024"})),
    ("numa-topology-incomplete", "hw:numa_cpus.0", planning(specs={"hw:numa_cpus.0": "0"})),
    ("numa-cpus-invalid", "hw:numa_cpus.1", planning(specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.0": "0,1", "hw:numa_cpus.1": "1",
        "hw:numa_mem.0": "1024", "hw:numa_mem.1": "1024"})),
    ("numa-cpus-invalid", "hw:numa_cpus.0", planning(specs={
        "hw:numa_nodes": "1", "hw:numa_cpus.0": "0-x", "hw:numa_mem.0": "2048"})),
    ("numa-cpus-invalid", "hw:numa_cpus.0", planning(vcpus=4, specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "1",
        "hw:numa_mem.0": "1024", "hw:numa_mem.1": "1024"})),
    ("numa-memory-invalid", "hw:numa_mem.0", planning(specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "1",
        "hw:numa_mem.0": "1024", "hw:numa_mem.1": "512"})),
    ("numa-memory-invalid", "hw:numa_mem.1", planning(specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "1",
        "hw:numa_mem.0": "1024", "hw:numa_mem.1": "lots"})),
    ("numa-image-conflicts-with-flavor", "hw_numa_nodes",
     planning(specs={"hw:numa_nodes": "2"}, props={"hw_numa_nodes": "1"})),
    ("numa-image-conflicts-with-flavor", "hw_numa_cpus.0", planning(
        specs={"hw:numa_nodes": "1", "hw:numa_cpus.0": "0-1", "hw:numa_mem.0": "2048"},
        props={"hw_numa_cpus.0": "0-1"})),
    ("numa-asymmetric", "hw:numa_nodes", planning(vcpus=3, specs={"hw:numa_nodes": "2"})),
    ("numa-asymmetric", "hw:numa_cpus.1", planning(vcpus=3, ram=3072, specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "1-2",
        "hw:numa_mem.0": "1536", "hw:numa_mem.1": "1536"})),
    ("numa-asymmetric", "hw_numa_mem.1", planning(props={
        "hw_numa_nodes": "2", "hw_numa_cpus.0": "0", "hw_numa_cpus.1": "1",
        "hw_numa_mem.0": "1536", "hw_numa_mem.1": "512"})),
    ("numa-node-exceeds-host", "hw:numa_nodes",
     planning(make_host(numa=((1024, 16), (1024, 16))), specs={"hw:numa_nodes": "1"})),
    ("cpu-features-invalid", "hw:cpu_features", planning(specs={"hw:cpu_features": 5})),
    ("nested-virtualization-requires-host-10", "hw:cpu_features",
     planning(WS2012R2, specs={"hw:cpu_features": "vmx"})),
    ("nested-virtualization-unsupported-on-cluster", "hw_cpu_features",
     planning(make_host(clustered=True), props={"hw_cpu_features": "VMX"})),
    ("disk-qos-invalid", "quota:disk_total_iops_sec",
     planning(specs={"quota:disk_total_iops_sec": "-1"})),
    ("disk-qos-invalid", "quota:disk_total_bytes_sec",
     planning(specs={"quota:disk_total_bytes_sec": "fast"})),
    ("disk-qos-invalid", "quota:disk_total_bytes_sec",
     planning(specs={"quota:disk_total_bytes_sec": str(8192 * 10**9 + 8192)})),
    ("disk-qos-unsupported-by-host", "quota:disk_total_iops_sec",
     planning(WS2012, specs={"quota:disk_total_iops_sec": "100"})),
    ("disk-bus-invalid", "ephemerals[0].bus",
     planning(ephemeral=1, ephemerals=(Ephemeral(1, bus="virtio"),))),
    ("disk-bus-unsupported-by-generation", "volumes[0].bus",
     planning(props=GEN2, volumes=(Volume("v1", bus="IDE"),))),
    ("root-disk-bus-invalid", "root volume.bus",
     planning(disk_format=None, root_volume=Volume("v1", bus="scsi"))),
    ("disk-device-type-unsupported", "volumes[0].device_type",
     planning(volumes=(Volume("v1", device_type="cdrom"),))),
    ("disk-slots-exhausted", "v64",
     planning(volumes=tuple(Volume(f"v{i}") for i in range(65)))),
    ("disk-slots-exhausted", "eph2", planning(
        ephemeral=3, config_drive=True,
        ephemerals=tuple(Ephemeral(1, bus="ide") for _ in range(3)))),
    ("disk-slots-exhausted", "v62", planning(
        props=GEN2, config_drive=True, volumes=tuple(Volume(f"v{i}") for i in range(63)))),
    ("ephemeral-invalid", "ephemerals[1].size_gb",
     planning(ephemeral=2, ephemerals=(Ephemeral(1), Ephemeral(2)))),
    ("ephemeral-invalid", "ephemerals[0].size_gb",
     planning(ephemeral=2, ephemerals=(Ephemeral(0),))),
    ("ephemeral-invalid", "ephemerals[0].tag",
     planning(ephemeral=2, ephemerals=(Ephemeral(1, tag=7),))),  # type: ignore[arg-type]
    ("volume-invalid", "volumes[1].volume_id",
     planning(volumes=(Volume("v1"), Volume("v1")))),
    ("volume-invalid", "volumes[0].volume_id", planning(volumes=(Volume(" "),))),
    ("volume-connection-type-unsupported", "volumes[0].connection_type",
     planning(volumes=(Volume("v1", connection_type="nfs"),))),
    ("volume-ide-hot-attach", "volume.bus",
     lambda: plan_volume_attach(Volume("v1", bus="ide"), 1, (), running=True)),
    ("disk-slots-exhausted", "v64", lambda: plan_volume_attach(
        Volume("v64"), 2, [("scsi", 0, n) for n in range(64)], running=True)),
    ("volume-connection-type-unsupported", "volume.connection_type",
     lambda: plan_volume_attach(Volume("v1", connection_type="rbd"), 2, (), running=True)),
    ("boot-index-invalid", "volumes[0].boot_index",
     planning(volumes=(Volume("v1", boot_index="first"),))),
    ("root-disk-too-small", "root_gb", planning(disk=20, virtual_size=20 * GIB)),
    ("pci-request-invalid", "pci_requests[0].vendor_id", planning(pci=(PciRequest("zz", "1"),))),
    ("pci-request-invalid", "pci_requests[0].count",
     planning(pci=(PciRequest("10de", "13f2", 0),))),
    ("pci-passthrough-requires-host-10", "pci_requests",
     planning(WS2012R2, pci=(PciRequest("10de", "13f2"),))),
    ("pci-devices-unavailable", "pci_requests", planning(pci=(PciRequest("10de", "13f2"),))),
    ("serial-port-invalid", "interactive_serial_port",
     planning(props={"interactive_serial_port": "3"})),
    ("serial-port-invalid", "logging_serial_port", planning(props={"logging_serial_port": "com1"})),
    ("nic-invalid", "vifs[0].mac", planning(vifs=(Vif("p1", "zz:zz"),))),
    ("nic-invalid", "vifs[0].mac", planning(vifs=(Vif("p1", "01:00:5e:00:00:01"),))),
    ("nic-invalid", "vifs[1].id",
     planning(vifs=(Vif("p1", "fa:16:3e:00:00:01"), Vif("p1", "fa:16:3e:00:00:02")))),
    ("nic-hot-plug-requires-host-10", "vm_state", lambda: require_nic_hot_plug(True, 2, WS2012R2)),
    ("nic-hot-plug-requires-gen2", "generation", lambda: require_nic_hot_plug(True, 1, WS2022)),
    ("image-not-uefi-bootable", "hw_machine_type", planning(props=GEN2, layout=MBR)),
    ("image-not-bios-bootable", "hw_machine_type",
     planning(props={"hw_machine_type": "hyperv-gen1"}, layout=GPT_UEFI)),
    ("secure-boot-requires-efi-loader", "os_secure_boot",
     planning(props=SB_WIN, layout=ImageLayout("none"))),
    ("rescue-generation-mismatch", "hw_machine_type",
     rescuing(1, disk_format="vhdx", file_format="vhdx", properties=GEN2)),
    ("rescue-image-iso-unsupported", "disk_format",
     rescuing(2, disk_format="iso", file_format="iso")),
    ("resize-root-disk-smaller", "root_gb", resizing({"disk": 40}, {"disk": 20})),
    ("resize-ephemeral-disk-smaller", "ephemeral_gb",
     resizing({"ephemeral": 20}, {"ephemeral": 10})),
]


@pytest.mark.parametrize(("code", "field", "call"), CASES,
                         ids=[f"{c}:{f}" for c, f, _ in CASES])
def test_request_is_refused(code: str, field: str, call: Callable[[], Any]) -> None:
    with pytest.raises(RuleViolation) as caught:
        call()
    error = caught.value
    assert (error.code, error.field) == (code, field)
    # The message names the field, shows the value and says what is allowed.
    assert field in error.message
    assert "Allowed: " in error.message and error.allowed in error.message
    shown = "(not set)" if error.value is None else repr(error.value)
    assert shown in error.message


def test_every_code_has_a_refusal_above() -> None:
    assert {code for code, _, _ in CASES} == set(CODES)


def test_an_unregistered_code_is_a_programming_error() -> None:
    with pytest.raises(AssertionError, match="no-such-code"):
        RuleViolation("no-such-code", "f", 1, "x", "y")


def test_message_reads_as_one_sentence_with_its_source() -> None:
    error = RuleViolation("serial-port-invalid", "logging_serial_port", "3", "1, 2",
                          "Hyper-V VMs have serial ports 1 and 2", source="image property")
    assert error.message == (
        "image property logging_serial_port = '3': Hyper-V VMs have serial ports 1 and 2. "
        "Allowed: 1, 2."
    )
    assert str(error) == error.message
