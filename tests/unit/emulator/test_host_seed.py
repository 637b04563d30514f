"""A fresh emulated host: the objects a real one shows before any VM exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import HV, Client, client_for

from hyperv_emulator import reset_host
from hyperv_emulator.providers import catalog


def test_one_default_template_per_subtype(client: Client) -> None:
    for subtype in ("Processor", "Memory", "Synthetic SCSI Controller", "Synthetic Disk Drive",
                    "Synthetic DVD Drive", "Physical Disk Drive", "Serial Port",
                    "Synthetic Display Controller", "Emulated IDE Controller"):
        template = client.template(HV + subtype)
        assert template["InstanceID"].startswith("Microsoft:Definition\\")
        assert template["InstanceID"].endswith("\\Default")
    for subtype in ("Virtual Hard Disk", "Virtual CD/DVD Disk", "Virtual Floppy Disk"):
        assert client.template(HV + subtype, "Msvm_StorageAllocationSettingData")
    # os-win takes [0] of these without a subtype filter: it must be the right one.
    for class_name, subtype in (
        ("Msvm_SyntheticEthernetPortSettingData", "Synthetic Ethernet Port"),
        ("Msvm_EthernetPortAllocationSettingData", "Ethernet Connection"),
        ("Msvm_PciExpressSettingData", "Virtual Pci Express Port"),
    ):
        found = client.session.query(
            f"SELECT * FROM {class_name} WHERE InstanceID LIKE '%\\\\Default'")
        assert [f["ResourceSubType"] for f in found] == [HV + subtype]
    bandwidth = client.session.query("SELECT * FROM Msvm_EthernetSwitchPortBandwidthSettingData"
                                     " WHERE InstanceID LIKE '%\\\\Default'")
    assert len(bandwidth) == 1


def test_templates_are_reachable_from_their_pool(client: Client) -> None:
    # Primordial pool -> ElementCapabilities -> AllocationCapabilities ->
    # SettingsDefineCapabilities (ValueRole 0) -> the Default template.
    pool = client.session.query(
        "SELECT * FROM Msvm_ResourcePool WHERE Primordial = TRUE AND "
        f"ResourceSubType = '{HV}Synthetic DVD Drive'")[0]
    capabilities = client.session.associators(pool.path, assoc_class="Msvm_ElementCapabilities",
                                              result_class="Msvm_AllocationCapabilities")[0]
    links = client.session.references(capabilities.path,
                                      result_class="Msvm_SettingsDefineCapabilities")
    default = [link for link in links if link["ValueRole"] == 0]
    assert len(default) == 1
    assert client.session.get(default[0]["PartComponent"])["InstanceID"].endswith("\\Default")
    processor_max = client.session.query(
        "SELECT * FROM Msvm_ProcessorSettingData WHERE InstanceID LIKE "
        "'Microsoft:Definition%Maximum'")
    assert processor_max[0]["VirtualQuantity"] == 32  # the preset's logical processors


def test_secure_boot_templates(client: Client) -> None:
    templates = {
        t["ElementName"]: t for t in client.session.query(
            "SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
            "InstanceID LIKE 'Microsoft:Definition\\\\VirtualSystem\\\\SecureBootTemplateId%'")
    }
    assert {name: t["SecureBootTemplateId"] for name, t in templates.items()} == {
        "MicrosoftWindows": "1734C6E8-3154-4DDA-BA5F-A874CC483422",
        "MicrosoftUEFICertificateAuthority": "272E7447-90A4-4563-A4B9-8E4AB00526CE",
        "OpenSourceShieldedVM": "4292AE2B-EE2C-42B5-A969-DD8F8689F6F3",
    }
    assert all(t["VirtualSystemType"] != "Microsoft:Hyper-V:System:Realized"
               for t in templates.values())
    capabilities = client.session.query(
        "SELECT * FROM Msvm_VirtualSystemManagementCapabilities")[0]
    reachable = client.session.associators(capabilities.path,
                                           assoc_class="Msvm_SettingsDefineCapabilities")
    assert set(templates) <= {r["ElementName"] for r in reachable}
    # No VM shows up where os-win looks for VMs.
    assert client.session.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
                                "VirtualSystemType = 'Microsoft:Hyper-V:System:Realized'") == []


def test_host_system_numa_and_cimv2(client: Client) -> None:
    systems = client.session.query("SELECT * FROM Msvm_ComputerSystem")
    assert [(s["Name"], s["Caption"]) for s in systems] == [
        ("HV-WS2022", "Hosting Computer System")]
    nodes = client.session.query("SELECT * FROM Msvm_NumaNode")
    assert [n["NodeID"] for n in nodes] == ["Microsoft:PhysicalNode\\0",
                                            "Microsoft:PhysicalNode\\1"]
    hosted = client.session.associators(nodes[1].path, assoc_class="Msvm_HostedDependency")
    kinds = sorted({h.class_name for h in hosted})
    assert kinds == ["Msvm_Memory", "Msvm_Processor"]
    assert sum(h.class_name == "Msvm_Processor" for h in hosted) == 16
    system = client.session.query("SELECT * FROM Win32_OperatingSystem", "root/cimv2")[0]
    assert (system["Version"], system["BuildNumber"]) == ("10.0.20348", "20348")
    assert system["TotalVisibleMemorySize"] == 131072 * 1024
    disk = client.session.query("SELECT * FROM Msvm_DiskDrive WHERE DriveNumber = 3")
    assert len(disk) == 1
    switch = client.session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")
    assert [s["ElementName"] for s in switch] == ["external"]


@pytest.mark.parametrize(("preset", "version", "serial_class"), [
    ("ws2012r2", "6.3.9600", "Msvm_ResourceAllocationSettingData"),
    ("ws2016", "10.0.14393", "Msvm_SerialPortSettingData"),
    ("ws2025", "10.0.26100", "Msvm_SerialPortSettingData"),
])
def test_the_build_decides_the_schema(tmp_path: Path, preset: str, version: str,
                                      serial_class: str) -> None:
    client = client_for(tmp_path, preset)
    assert client.session.query("SELECT Version FROM Win32_OperatingSystem",
                                "root/cimv2")[0]["Version"] == version
    system = client.define("vm1", 1)
    ports = client.devices(system, subtype=HV + "Serial Port")
    assert [p.class_name for p in ports] == [serial_class, serial_class]
    assert [p["ElementName"] for p in ports] == ["COM 1", "COM 2"]


def test_secure_boot_templates_need_a_build_with_template_ids(tmp_path: Path) -> None:
    client = client_for(tmp_path, "ws2012r2")
    assert client.session.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
                                "ElementName = 'MicrosoftWindows'") == []


def test_reset_removes_vms_and_keeps_the_host(client: Client) -> None:
    client.define("vm1")
    host = client.session.host
    before = client.session.query("SELECT * FROM Msvm_ResourcePool")
    reset_host(host.path)
    with host.session() as fresh:
        assert fresh.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
                           "VirtualSystemType = 'Microsoft:Hyper-V:System:Realized'") == []
        assert len(fresh.query("SELECT * FROM Msvm_ResourcePool")) == len(before)


def test_every_kind_with_a_pool_has_one(client: Client) -> None:
    pools = client.session.query("SELECT * FROM CIM_ResourcePool")
    labels = {p["ResourceSubType"] or p["OtherResourceType"] for p in pools}
    for kind in catalog.KINDS.values():
        if kind.pool and kind.exists_on(20348):
            assert kind.type_label in labels, kind.name


def test_host_files_and_settings(tmp_path: Path) -> None:
    import sqlite3

    from hyperv_emulator import init_host, open_host

    state = tmp_path / "h.db"
    host = init_host(state, "ws2016")
    with pytest.raises(FileExistsError, match="already exists"):
        init_host(state, "ws2016")
    assert init_host(state, "ws2019", overwrite=True).profile.preset == "ws2019"
    assert open_host(state).build == 17763
    with pytest.raises(ValueError, match="unknown host setting"):
        host.update_settings(job_pols=2)
    assert host.update_settings(job_polls=2).job_polls == 2
    assert open_host(state).settings.job_polls == 2
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE meta (name TEXT, value TEXT)").connection.close()
    with pytest.raises(ValueError, match="not an emulated Hyper-V host"):
        open_host(other)
    with pytest.raises(FileNotFoundError):
        open_host(tmp_path / "missing.db")


@pytest.mark.parametrize("preset", ["ws2012r2", "ws2022"])
def test_each_external_switch_is_bound_to_an_adapter(tmp_path: Path, preset: str) -> None:
    from hyperv_emulator.profiles import PRESETS, VSwitch

    profile = PRESETS[preset].replace(vswitches=(
        VSwitch("lan"), VSwitch("host", "internal"), VSwitch("wan"), VSwitch("lab", "private")))
    session = client_for(tmp_path, profile).session
    switches = {s["ElementName"]: s["Name"] for s in
                session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")}
    adapters = session.query("SELECT * FROM Msvm_ExternalEthernetPort WHERE IsBound = TRUE")
    bound_to = {}
    for adapter in adapters:
        # The chain os-win walks (networkutils._get_vswitch_external_port).
        [sap] = session.references(adapter.path,
                                   result_class="Msvm_EthernetDeviceSAPImplementation")
        [connection] = session.query(
            "SELECT * FROM Msvm_ActiveConnection WHERE Dependent = '"
            + sap["Dependent"].replace("\\", "\\\\") + "'")
        endpoint = session.get(connection["Antecedent"])
        bound_to[adapter["ElementName"]] = endpoint["SystemName"]
        [port] = session.associators(endpoint.path,
                                     assoc_class="Msvm_EthernetDeviceSAPImplementation",
                                     result_class="Msvm_EthernetSwitchPort")
        [switch] = session.associators(port.path, assoc_class="Msvm_SystemDevice",
                                       result_class="Msvm_VirtualEthernetSwitch")
        assert switch["Name"] == endpoint["SystemName"]
    assert bound_to == {"Emulated Ethernet Adapter #1": switches["lan"],
                        "Emulated Ethernet Adapter #3": switches["wan"]}
