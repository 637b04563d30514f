"""Building VMs from plans on the emulated host: what the host holds afterwards."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tests.unit.hyperv.conftest import UUID, files_for, inventory, plan_for

from hyperv_emulator import Host
from hyperv_emulator.providers import base
from hyperv_emulator.providers.base import Refused
from nova_hyperv import cim, rules
from nova_hyperv.hyperv import HyperVClient, VmCreateFailed, VmState
from nova_hyperv.hyperv import build as build_module


def build(client: HyperVClient, plan: rules.VmPlan, tmp_path: Path) -> None:
    switch = client.switch(None) if plan.nics else None
    vm = client.create_vm(plan, files=files_for(plan, tmp_path), switch=switch,
                          data_root=str(tmp_path))
    assert vm.state == VmState.OFF


def test_gen1_vm_with_every_default_device_set(client: HyperVClient, host: Host,
                                               tmp_path: Path) -> None:
    plan = plan_for(client, vcpus=2, memory_mb=2048, ephemeral_gb=1, swap_mb=512,
                    file_format="vhd",
                    vifs=(rules.Vif("port-a", "fa:16:3e:00:00:0a", "nic1"),),
                    properties={"interactive_serial_port": "2"})
    build(client, plan, tmp_path)
    [vm] = inventory(host)
    assert (vm["name"], vm["generation"], vm["notes"]) == ("instance-00000001", 1, [UUID])
    assert vm["firmware"] == {"type": "BIOS", "boot_order": ["ide", "cd", "network", "floppy"]}
    assert vm["processors"]["count"] == 2
    assert vm["memory"]["startup_mb"] == 2048 and not vm["memory"]["dynamic"]
    assert not vm["numa"]["virtual_numa"]
    storage = {c["controller"]: c["drives"] for c in vm["storage"]}
    assert [d["path"] for d in storage["IDE 0"]] == [str(tmp_path / "root.vhd")]
    assert [d["path"] for d in storage["SCSI 0"]] == [str(tmp_path / "eph0.vhdx"),
                                                      str(tmp_path / "swap.vhdx")]
    assert vm["nics"] == [{"name": "port-a", "mac": "FA163E00000A", "static_mac": True,
                           "switch": "external", "vlan": None, "mac_spoofing": False}]
    pipes = {p["name"]: p["pipe"] for p in vm["serial_ports"]}
    assert pipes == {"COM 1": f"\\\\.\\pipe\\{UUID}_ro", "COM 2": f"\\\\.\\pipe\\{UUID}_rw"}


def test_gen2_secure_boot_boot_order_nested_and_qos(client: HyperVClient, host: Host,
                                                     tmp_path: Path) -> None:
    plan = plan_for(
        client, vcpus=4, memory_mb=4096, ephemeral_gb=1, swap_mb=256,
        properties={"hw_machine_type": "hyperv-gen2", "os_secure_boot": "required",
                    "os_type": "linux", "hw_cpu_features": "vmx"},
        extra_specs={"quota:disk_total_iops_sec": "500"},
        vifs=(rules.Vif("port-a", "fa:16:3e:00:00:0a"), rules.Vif("port-b",
                                                                  "fa:16:3e:00:00:0b")),
    )
    build(client, plan, tmp_path)
    [vm] = inventory(host)
    assert vm["generation"] == 2
    assert vm["firmware"]["secure_boot"] is True
    assert vm["firmware"]["secure_boot_template"] == "MicrosoftUEFICertificateAuthority"
    assert vm["processors"]["nested_virtualization"] is True
    [scsi] = vm["storage"]
    assert [(d["slot"], Path(d["path"]).name, d["iops_limit"]) for d in scsi["drives"]] == [
        (0, "root.vhdx", 500), (1, "eph0.vhdx", 500), (2, "swap.vhdx", 500)]
    assert _boot_order(host) == ["root.vhdx", "eph0.vhdx", "port-a", "port-b", "swap.vhdx"]


def test_gen2_boot_order_is_rewritten_when_the_host_order_differs(
        client: HyperVClient, host: Host, tmp_path: Path) -> None:
    plan = plan_for(client, swap_mb=256, properties={"hw_machine_type": "hyperv-gen2"},
                    vifs=(rules.Vif("port-a", "fa:16:3e:00:00:0a"),))
    build(client, plan, tmp_path)
    assert _boot_order(host) == ["root.vhdx", "port-a", "swap.vhdx"]
    # Ask for another order than the one the host made: one ModifySystemSettings.
    with host.session() as session:
        devices = {}
        for link in session.query("SELECT * FROM Msvm_LogicalIdentity"):
            device = session.get(link["SystemElement"])
            devices[device["ElementName"] if device["ElementName"] == "port-a"
                    else device["InstanceID"]] = str(device.path)
    drives = sorted((k for k in devices if k != "port-a"), reverse=True)  # swap, root
    wanted = [devices[drives[0]], devices["port-a"], devices[drives[1]]]
    guid = cim.parse_path(wanted[1]).key("InstanceID").split(":")[1].split("\\")[0]
    with cim.count_round_trips(client.session, "order") as stats:
        build_module._boot_order(client.session, client.service, guid, wanted)
    assert _boot_order(host) == ["swap.vhdx", "port-a", "root.vhdx"]
    if client.session.counters is not None:
        assert stats.calls == 1


def _boot_order(host: Host) -> list[str]:
    """The VM's BootSourceOrder as file names and NIC names."""
    with host.session() as session:
        [vssd] = session.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
                               "VirtualSystemType = 'Microsoft:Hyper-V:System:Realized'")
        names = []
        for entry in vssd["BootSourceOrder"]:
            [link] = session.references(entry, result_class="Msvm_LogicalIdentity")
            device = session.get(link["SystemElement"])
            if device.class_name == "Msvm_SyntheticEthernetPortSettingData":
                names.append(device["ElementName"])
            else:
                [medium] = [m for m in session.query(
                    "SELECT * FROM Msvm_StorageAllocationSettingData")
                    if m["Parent"]
                    and cim.parse_path(m["Parent"]).key("InstanceID") == device["InstanceID"]]
                names.append(Path(medium["HostResource"][0]).name)
        return names


def test_vnuma_and_dynamic_memory(client: HyperVClient, host: Host, tmp_path: Path) -> None:
    numa = plan_for(client, vcpus=4, memory_mb=4096, extra_specs={"hw:numa_nodes": "2"},
                    name="numa", uuid="11111111-2222-3333-4444-555555555555")
    build(client, numa, tmp_path / "a")
    dynamic = plan_for(client, rules.HyperVConfig(dynamic_memory_ratio=2.0),
                       memory_mb=4096, name="dyn", uuid="11111111-2222-3333-4444-666666666666")
    build(client, dynamic, tmp_path / "b")
    vms = {vm["name"]: vm for vm in inventory(host)}
    assert vms["numa"]["numa"]["virtual_numa"] is True
    assert vms["numa"]["processors"]["max_per_numa_node"] == 2
    assert vms["numa"]["memory"]["max_per_numa_node_mb"] == 2048
    assert not vms["numa"]["memory"]["dynamic"]
    memory = vms["dyn"]["memory"]
    assert (memory["startup_mb"], memory["dynamic"], memory["minimum_mb"],
            memory["maximum_mb"]) == (2048, True, 2048, 4096)
    assert vms["dyn"]["numa"]["virtual_numa"] is False


def test_iso_root_is_a_dvd_and_boots_first_on_gen1(client: HyperVClient, host: Host,
                                                   tmp_path: Path) -> None:
    build(client, plan_for(client, file_format="iso"), tmp_path)
    [vm] = inventory(host)
    assert vm["firmware"]["boot_order"] == ["cd", "ide", "network", "floppy"]
    ide0 = next(c for c in vm["storage"] if c["controller"] == "IDE 0")
    assert [(d["type"], Path(d["path"]).name) for d in ide0["drives"]] == [
        ("DVD Drive", "root.iso")]


@pytest.mark.parametrize("method", ["ModifyResourceSettings", "AddResourceSettings"])
def test_failure_part_way_removes_the_vm(client: HyperVClient, host: Host, tmp_path: Path,
                                         method: str) -> None:
    def refuse(ctx, cls, called, instance, args):  # type: ignore[no-untyped-def]
        if called.name == method:
            raise Refused(32773, "injected failure")

    base.CALL_HOOKS.append(refuse)
    try:
        with pytest.raises(VmCreateFailed) as caught:
            build(client, plan_for(client), tmp_path)
    finally:
        base.CALL_HOOKS.remove(refuse)
    assert "injected failure" in str(caught.value)
    assert caught.value.cleanup_error is None
    assert inventory(host) == []


def test_round_trips_of_a_full_gen2_build(host: Host, tmp_path: Path) -> None:
    from tests.unit.hyperv.conftest import open_client

    client = open_client(host, "emulated")
    plan = plan_for(client, vcpus=4, memory_mb=4096, ephemeral_gb=1, swap_mb=256,
                    properties={"hw_machine_type": "hyperv-gen2", "os_secure_boot": "required",
                                "os_type": "windows", "interactive_serial_port": "1",
                                "logging_serial_port": "2"},
                    extra_specs={"hw:numa_nodes": "2", "quota:disk_total_iops_sec": "100"},
                    vifs=(rules.Vif("port-a", "fa:16:3e:00:00:0a"),
                          rules.Vif("port-b", "fa:16:3e:00:00:0b")))
    switch = client.switch(None)
    client.service  # noqa: B018 - cached once per driver, not per spawn
    with cim.count_round_trips(client.session, "create") as stats:
        client.create_vm(plan, files=files_for(plan, tmp_path), switch=switch,
                         data_root=str(tmp_path))
    # DefineSystem, device query, ModifyResourceSettings, AddResourceSettings x2,
    # boot-entry query, VM settings query: the host appended in plan order, so no
    # ModifySystemSettings was needed.
    assert stats.as_dict() == {"queries": 3, "gets": 0, "calls": 4, "job_polls": 0,
                               "total": 7}


def _remotefx_host(tmp_path: Path, adapter: str, preset: str = "ws2016") -> tuple[Host,
                                                                                 HyperVClient]:
    from tests.unit.hyperv.conftest import open_client

    from hyperv_emulator import init_host

    host = init_host(tmp_path / "rfx.db", preset)
    return host, open_client(host, adapter)


@pytest.mark.parametrize("adapter", ["emulated", "wmi"])
@pytest.mark.parametrize("generation", [1, 2])
def test_remotefx_replaces_the_display_controller(tmp_path: Path, adapter: str,
                                                  generation: int) -> None:
    host, client = _remotefx_host(tmp_path, adapter)
    properties = {"hw_machine_type": "hyperv-gen2"} if generation == 2 else {}
    plan = plan_for(client, rules.HyperVConfig(enable_remotefx=True), properties=properties,
                    extra_specs={"os:resolution": "1920x1200", "os:monitors": "2",
                                 "os:vram": "256"})
    build(client, plan, tmp_path)
    [vm] = inventory(host)
    assert vm["remotefx"] == {"monitors": 2, "resolution": "1920x1200", "vram_mb": 256}
    with host.session() as session:
        displays = {d["ResourceSubType"]: d for d in session.query(
            "SELECT * FROM Msvm_ResourceAllocationSettingData WHERE ResourceType = 24")
            if d["InstanceID"].startswith("Microsoft:" + vm["id"])}
    assert "Microsoft:Hyper-V:Synthetic Display Controller" not in displays
    if generation == 1:
        assert displays["Microsoft:Hyper-V:S3 Display Controller"]["Address"] == \
            "02C1,00000000,01"


def test_remotefx_refused_by_a_2019_host_leaves_no_vm(tmp_path: Path) -> None:
    # The rules refuse RemoteFX for a 2019 host before any VM exists; a plan made for
    # another host shows what the host itself does: it refuses, and the VM goes.
    host, client = _remotefx_host(tmp_path, "emulated", "ws2019")
    plan = plan_for(client)
    with pytest.raises(VmCreateFailed, match="RemoteFX 3D video is not available"):
        build(client, dataclasses.replace(plan, remotefx=rules.RemoteFxPlan(
            1, "1920x1200", None)), tmp_path)
    assert inventory(host) == []


def _dda_host(tmp_path: Path, adapter: str) -> tuple[Host, HyperVClient]:
    from tests.unit.hyperv.conftest import open_client

    from hyperv_emulator import init_host
    from hyperv_emulator.profiles import PRESETS, AssignableDevice

    profile = PRESETS["ws2022"].replace(assignable_devices=(
        AssignableDevice("10DE", "1EB8", "PCIROOT(0)#PCI(0300)#PCI(0000)"),
        AssignableDevice("10DE", "1EB8", "PCIROOT(0)#PCI(0301)#PCI(0000)"),
    ))
    host = init_host(tmp_path / "dda.db", profile)
    return host, open_client(host, adapter)


@pytest.mark.parametrize("adapter", ["emulated", "wmi"])
def test_pci_devices_are_assigned_until_none_is_free(tmp_path: Path, adapter: str) -> None:
    host, client = _dda_host(tmp_path, adapter)
    assert [(d.vendor_id, d.product_id, d.free) for d in client.host().pci_devices] == [
        ("10de", "1eb8", True), ("10de", "1eb8", True)]
    assert [d.address for d in client.host().pci_devices] == ["0000:01:00.0", "0000:02:00.0"]
    wanted = (rules.PciDevicePlan("10de", "1eb8"),)
    for index in range(2):
        plan = dataclasses.replace(
            plan_for(client, name=f"gpu-{index}",
                     uuid=f"00000000-0000-0000-0000-00000000000{index}"),
            pci_devices=wanted, host_shutdown_action="TurnOff")
        build(client, plan, tmp_path / str(index))
    assert sorted(len(vm["pci_devices"]) for vm in inventory(host)) == [1, 1]
    assert [d.free for d in client.host(refresh=True).pci_devices] == [False, False]
    plan = dataclasses.replace(plan_for(client, name="gpu-2"), pci_devices=wanted,
                               host_shutdown_action="TurnOff")
    from nova_hyperv.hyperv import HostConfigurationError

    with pytest.raises(HostConfigurationError, match="has 0 free"):
        build(client, plan, tmp_path / "2")
    assert len(inventory(host)) == 2


@pytest.mark.parametrize(("machine_type", "cdrom", "where"), [
    ("hyperv-gen1", False, ("IDE 1", 0, "Hard Drive", "configdrive.vhd")),
    ("hyperv-gen1", True, ("IDE 1", 0, "DVD Drive", "configdrive.iso")),
    ("hyperv-gen2", False, ("SCSI 0", 1, "Hard Drive", "configdrive.vhd")),
    ("hyperv-gen2", True, ("SCSI 0", 1, "DVD Drive", "configdrive.iso")),
])
def test_the_config_drive_goes_where_the_plan_put_it(
        client: HyperVClient, host: Host, tmp_path: Path, machine_type: str, cdrom: bool,
        where: tuple[object, ...]) -> None:
    from tests.unit.hyperv.conftest import request_for

    request = dataclasses.replace(
        request_for(properties={"hw_machine_type": machine_type}), config_drive=True)
    plan = rules.plan_instance(request, client.host().facts,
                               rules.HyperVConfig(config_drive_cdrom=cdrom))
    build(client, plan, tmp_path)
    [vm] = inventory(host)
    found = [(c["controller"], d["slot"], d["type"], Path(d["path"]).name)
             for c in vm["storage"] for d in c["drives"] if "configdrive" in str(d["path"])]
    assert found == [where]
