"""Add / Modify / RemoveResourceSettings and port features, with Hyper-V's device rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import HV, Client, client_for


def test_a_bare_instance_is_refused(client: Client) -> None:
    # A real host: job state 10, ErrorCode 32773 (R:add_nic).
    system = client.define()
    for class_name in ("Msvm_ResourceAllocationSettingData",
                       "Msvm_SyntheticEthernetPortSettingData"):
        bare = client.session.new_instance(class_name)
        job = client.refused(client.add(system, bare), 32773)
        assert "no device Hyper-V knows" in job["ErrorDescription"]


def test_template_ids_are_ignored_and_new_ones_assigned(client: Client) -> None:
    system = client.define()
    guid = client.session.get(system)["Name"]
    first = client.scsi(system)
    second = client.scsi(system)
    for path in (first, second):
        instance_id = client.session.get(path)["InstanceID"]
        assert instance_id.startswith(f"Microsoft:{guid}\\") and instance_id.endswith("\\0")
    assert first != second
    links = client.session.associators(first, result_class="Msvm_VirtualSystemSettingData")
    assert [v["InstanceID"] for v in links] == [f"Microsoft:{guid}"]


def test_storage_chain(client: Client) -> None:
    system = client.define()
    controller = client.scsi(system)
    drive = client.ok(client.drive(system, controller, 3))["ResultingResourceSettings"][0]
    stored = client.session.get(drive)
    assert stored["AddressOnParent"] == "3"
    assert stored["InstanceID"] == client.session.get(controller)["InstanceID"] + "\\3\\D"
    media = client.ok(client.media(system, drive))["ResultingResourceSettings"][0]
    assert client.session.get(media)["InstanceID"].endswith("\\3\\L")
    # a second image in the same drive, media under a controller, a full slot
    assert "already holds media" in client.refused(client.media(system, drive), 32773)[
        "ErrorDescription"]
    job = client.refused(client.media(system, controller), 32768)  # R:attach_vhd
    assert "must be a" in job["ErrorDescription"]
    assert "already in use" in client.refused(client.drive(system, controller, 3), 32773)[
        "ErrorDescription"]
    assert "0..63" in client.refused(client.drive(system, controller, 64), 32773)[
        "ErrorDescription"]
    auto = client.ok(client.drive(system, controller))["ResultingResourceSettings"][0]
    assert client.session.get(auto)["AddressOnParent"] == "0"
    iso = client.ok(client.drive(system, controller, 4, "Synthetic DVD Drive"))
    dvd = iso["ResultingResourceSettings"][0]
    assert "must be a" in client.refused(client.media(system, dvd), 32773)["ErrorDescription"]
    client.ok(client.media(system, dvd, "C:\\iso\\a.iso", "Virtual CD/DVD Disk"))


def test_removing_a_controller_takes_its_drives_and_boot_entries(client: Client) -> None:
    system = client.define()
    controller = client.scsi(system)
    drive = client.ok(client.drive(system, controller, 0))["ResultingResourceSettings"][0]
    client.ok(client.media(system, drive))
    assert len(client.vssd(system)["BootSourceOrder"]) == 1
    identity = client.session.query("SELECT * FROM Msvm_LogicalIdentity")
    assert len(identity) == 1
    client.ok(client.call("RemoveResourceSettings", ResourceSettings=[controller]))
    assert client.devices(system, subtype=HV + "Synthetic Disk Drive") == []
    assert client.devices(system, "Msvm_StorageAllocationSettingData") == []
    assert client.vssd(system)["BootSourceOrder"] == ()
    assert client.session.query("SELECT * FROM Msvm_BootSourceSettingData WHERE "
                                "InstanceID LIKE 'Microsoft:%'") == []


def test_controller_and_ide_rules(client: Client) -> None:
    system = client.define()
    for _ in range(4):
        client.scsi(system)
    assert "maximum" in client.refused(client.add(system, client.template(
        HV + "Synthetic SCSI Controller")), 32773)["ErrorDescription"]
    gen1 = client.define("vm2", 1)
    ide = client.devices(gen1, subtype=HV + "Emulated IDE Controller")
    assert [c["Address"] for c in ide] == ["0", "1"]
    assert "0..1" in client.refused(client.drive(gen1, str(ide[0].path), 2), 32773)[
        "ErrorDescription"]
    client.ok(client.state(gen1, 2))
    job = client.refused(client.drive(gen1, str(ide[0].path), 0), 32775)
    assert "to be off" in job["ErrorDescription"]
    job = client.refused(client.add(gen1, client.template(HV + "Synthetic SCSI Controller")),
                         32775)
    assert "to be off" in job["ErrorDescription"]
    job = client.refused(client.add(gen1, client.template(HV + "Emulated IDE Controller")),
                         32773)
    assert "cannot be added" in job["ErrorDescription"]


def test_dvd_on_generation1_scsi_is_refused(client: Client) -> None:
    gen1 = client.define("vm1", 1)
    controller = client.scsi(gen1)
    job = client.refused(client.drive(gen1, controller, 0, "Synthetic DVD Drive"), 32773)
    assert "IDE controllers only" in job["ErrorDescription"]


def test_passthrough_disks(client: Client) -> None:
    system = client.define()
    controller = client.scsi(system)
    disk = client.session.query("SELECT * FROM Msvm_DiskDrive WHERE DriveNumber = 3")[0]
    drive = client.template(HV + "Physical Disk Drive")
    drive["Parent"] = controller
    drive["AddressOnParent"] = 1
    drive["HostResource"] = [str(disk.path).upper()]
    path = client.add_ok(system, drive)
    assert client.session.get(path)["HostResource"] == (str(disk.path),)
    other = client.define("vm2")
    again = client.template(HV + "Physical Disk Drive")
    again["Parent"] = client.scsi(other)
    again["HostResource"] = [str(disk.path)]
    assert "already attached" in client.refused(client.add(other, again), 32773)[
        "ErrorDescription"]
    missing = client.template(HV + "Physical Disk Drive")
    missing["Parent"] = controller
    missing["HostResource"] = [str(disk.path).replace("\\\\3\"", "\\\\9\"")]
    client.refused(client.add(system, missing), 32773)


def test_nic_rules(client: Client) -> None:
    gen2 = client.define("vm2", 2)
    nic = client.ok(client.nic(gen2, mac="00-15-5d-00-00-01"))["ResultingResourceSettings"][0]
    stored = client.session.get(nic)
    assert (stored["Address"], stored["StaticMacAddress"]) == ("00155D000001", True)
    assert stored["VirtualSystemIdentifiers"]
    job = client.refused(client.nic(gen2, "bad", mac="01155D000001"), 32773)  # multicast
    assert "not a valid static MAC" in job["ErrorDescription"]
    dynamic = client.ok(client.nic(gen2, "dyn"))["ResultingResourceSettings"][0]
    assert client.session.get(dynamic)["Address"] == "000000000000"
    client.ok(client.state(gen2, 2))
    assigned = client.session.get(dynamic)["Address"]
    assert assigned.startswith("00155D") and assigned != "000000000000"
    client.ok(client.nic(gen2, "hot"))  # generation 2 on a 2016+ host: hot add works
    gen1 = client.define("vm1", 1)
    client.ok(client.state(gen1, 2))
    job = client.refused(client.nic(gen1, "hot"), 32775)
    assert "to be off" in job["ErrorDescription"]
    legacy = client.session.query("SELECT * FROM Msvm_EmulatedEthernetPortSettingData "
                                  "WHERE InstanceID LIKE '%\\\\Default'")[0]
    assert "generation 1" in client.refused(client.add(gen2, legacy), 32773)["ErrorDescription"]


def test_nic_hot_add_needs_a_2016_host(tmp_path: Path) -> None:
    client = client_for(tmp_path, "ws2012r2")
    system = client.define("vm1", 2)
    client.ok(client.state(system, 2))
    client.refused(client.nic(system), 32775)


def test_switch_connections_and_port_features(client: Client) -> None:
    system = client.define()
    nic = client.ok(client.nic(system))["ResultingResourceSettings"][0]
    switch = client.session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")[0]
    port = client.session.query("SELECT * FROM Msvm_EthernetPortAllocationSettingData "
                                "WHERE InstanceID LIKE '%\\\\Default'")[0]
    port["Parent"] = nic
    port["HostResource"] = [str(switch.path)]
    connection = client.add_ok(system, port)
    stored = client.session.get(connection)
    assert stored["InstanceID"] == client.session.get(nic)["InstanceID"] + "\\C"
    assert stored["LastKnownSwitchName"] == "external"
    assert "already connected" in client.refused(client.add(system, port), 32773)[
        "ErrorDescription"]
    nowhere = client.session.query("SELECT * FROM Msvm_EthernetPortAllocationSettingData "
                                   "WHERE InstanceID LIKE '%\\\\Default'")[0]
    nowhere["Parent"] = client.ok(client.nic(system, "p2"))["ResultingResourceSettings"][0]
    nowhere["HostResource"] = ["root\\virtualization\\v2:Msvm_VirtualEthernetSwitch."
                               'CreationClassName="Msvm_VirtualEthernetSwitch",Name="X"']
    assert "not a virtual switch" in client.refused(client.add(system, nowhere), 32773)[
        "ErrorDescription"]
    vlan = client.session.query("SELECT * FROM Msvm_EthernetSwitchPortVlanSettingData "
                                "WHERE InstanceID LIKE '%\\\\Default'")[0]
    vlan["OperationMode"] = 1
    vlan["AccessVlanId"] = 7
    result = client.ok(client.call("AddFeatureSettings", AffectedConfiguration=connection,
                                   FeatureSettings=[vlan]))
    feature = client.session.get(result["ResultingFeatureSettings"][0])
    assert feature["InstanceID"].startswith(stored["InstanceID"] + "\\")
    assert "already has" in client.refused(client.call(
        "AddFeatureSettings", AffectedConfiguration=connection, FeatureSettings=[vlan]),
        32773)["ErrorDescription"]
    feature["AccessVlanId"] = 8
    client.ok(client.call("ModifyFeatureSettings", FeatureSettings=[feature]))
    assert client.session.get(feature.path)["AccessVlanId"] == 8
    feature["OperationMode"] = 9
    client.refused(client.call("ModifyFeatureSettings", FeatureSettings=[feature]), 32773)
    # Removing the NIC takes its connection and the connection's features.
    client.ok(client.call("RemoveResourceSettings", ResourceSettings=[nic]))
    assert client.session.query("SELECT * FROM Msvm_EthernetSwitchPortVlanSettingData "
                                "WHERE NOT InstanceID LIKE 'Microsoft:Definition%'") == []
    assert client.devices(system, "Msvm_EthernetPortAllocationSettingData") == []


def test_processor_rules(client: Client) -> None:
    system = client.define()
    processor = client.devices(system, "Msvm_ProcessorSettingData")[0]
    processor["VirtualQuantity"] = 33
    assert "1 to 32" in client.refused(client.call(
        "ModifyResourceSettings", ResourceSettings=[processor]), 32773)["ErrorDescription"]
    processor["VirtualQuantity"] = 4
    processor["Reservation"] = 200000
    client.refused(client.call("ModifyResourceSettings", ResourceSettings=[processor]), 32773)
    processor["Reservation"] = 4
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[processor]))
    client.ok(client.state(system, 2))
    processor["VirtualQuantity"] = 2
    job = client.refused(client.call("ModifyResourceSettings", ResourceSettings=[processor]),
                         32775)
    assert "to be off" in job["ErrorDescription"]
    nested = client.devices(system, "Msvm_ProcessorSettingData")[0]
    nested["ExposeVirtualizationExtensions"] = True
    client.refused(client.call("ModifyResourceSettings", ResourceSettings=[nested]), 32775)
    weight = client.devices(system, "Msvm_ProcessorSettingData")[0]
    weight["Weight"] = 200
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[weight]))


@pytest.mark.parametrize(("values", "fragment"), [
    ({"VirtualQuantity": 1025}, "2 MB units"),
    ({"VirtualQuantity": 16}, "32 MB minimum"),
    ({"DynamicMemoryEnabled": True, "Reservation": 2048, "VirtualQuantity": 1024,
      "Limit": 4096}, "minimum <= startup <= maximum"),
    ({"TargetMemoryBuffer": 1}, "5..2000"),
])
def test_memory_rules(client: Client, values: dict[str, object], fragment: str) -> None:
    system = client.define()
    vssd = client.vssd(system)
    vssd["VirtualNumaEnabled"] = False
    client.ok(client.call("ModifySystemSettings", SystemSettings=vssd))
    memory = client.devices(system, "Msvm_MemorySettingData")[0]
    memory.update(values)
    job = client.refused(client.call("ModifyResourceSettings", ResourceSettings=[memory]), 32773)
    assert fragment in job["ErrorDescription"]


def test_dynamic_memory_and_vnuma_exclude_each_other(client: Client) -> None:
    system = client.define()  # VirtualNumaEnabled is on by default
    memory = client.devices(system, "Msvm_MemorySettingData")[0]
    memory.update({"DynamicMemoryEnabled": True, "Reservation": 512, "Limit": 2048})
    job = client.refused(client.call("ModifyResourceSettings", ResourceSettings=[memory]), 32773)
    assert "NUMA is span based" in job["ErrorDescription"]
    vssd = client.vssd(system)
    vssd["VirtualNumaEnabled"] = False
    client.ok(client.call("ModifySystemSettings", SystemSettings=vssd))
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[memory]))
    vssd["VirtualNumaEnabled"] = True
    client.refused(client.call("ModifySystemSettings", SystemSettings=vssd), 32773)


def test_static_memory_resize_while_running(client: Client, tmp_path: Path) -> None:
    system = client.define()
    client.ok(client.state(system, 2))
    memory = client.devices(system, "Msvm_MemorySettingData")[0]
    memory["VirtualQuantity"] = 2048
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[memory]))
    old = client_for(tmp_path, "ws2012r2")
    legacy = old.define("vm1", 2)
    old.ok(old.state(legacy, 2))
    memory = old.devices(legacy, "Msvm_MemorySettingData")[0]
    memory["VirtualQuantity"] = 2048
    old.refused(old.call("ModifyResourceSettings", ResourceSettings=[memory]), 32775)


def test_serial_ports(client: Client) -> None:
    system = client.define()
    ports = client.devices(system, "Msvm_SerialPortSettingData")
    ports[0]["Connection"] = ["\\\\.\\pipe\\vm1-com1"]
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[ports[0]]))
    ports[1]["Connection"] = ["C:\\not-a-pipe"]
    assert "not a named pipe" in client.refused(client.call(
        "ModifyResourceSettings", ResourceSettings=[ports[1]]), 32773)["ErrorDescription"]
    assert "cannot be added" in client.refused(client.add(system, client.template(
        HV + "Serial Port")), 32773)["ErrorDescription"]
    assert "cannot be removed" in client.refused(client.call(
        "RemoveResourceSettings", ResourceSettings=[str(ports[0].path)]), 32773)[
        "ErrorDescription"]
    assert client.devices(system, "Msvm_SerialPortSettingData")[0]["Connection"] == (
        "\\\\.\\pipe\\vm1-com1",)


def test_identity_cannot_change(client: Client) -> None:
    system = client.define()
    mouse = client.devices(system, subtype=HV + "Synthetic Mouse")[0]
    mouse["ResourceSubType"] = HV + "Synthetic Keyboard"
    assert "cannot be changed" in client.refused(client.call(
        "ModifyResourceSettings", ResourceSettings=[mouse]), 32773)["ErrorDescription"]
    unknown = client.template(HV + "Synthetic Mouse")
    assert "matches by" in client.refused(client.call(
        "ModifyResourceSettings", ResourceSettings=[unknown]), 32773)["ErrorDescription"]


def test_display_controller_can_be_swapped_while_off(client: Client) -> None:
    system = client.define()
    display = client.devices(system, "Msvm_SyntheticDisplayControllerSettingData")[0]
    client.ok(client.call("RemoveResourceSettings", ResourceSettings=[str(display.path)]))
    client.add_ok(system, client.template(HV + "Synthetic Display Controller"))
    assert "already has" in client.refused(client.add(system, client.template(
        HV + "Synthetic Display Controller")), 32773)["ErrorDescription"]


def test_add_needs_a_vm(client: Client) -> None:
    result = client.add(client.vsms, client.template(HV + "Synthetic SCSI Controller"))
    assert "not a virtual machine" in client.refused(result, 32773)["ErrorDescription"]


def test_inventory_shows_each_nics_vlan_and_mac_spoofing(client: Client) -> None:
    from hyperv_emulator.inventory import describe

    system = client.define()
    switch = client.session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")[0]
    connections = []
    for name in ("plain", "tagged"):
        nic = client.ok(client.nic(system, name))["ResultingResourceSettings"][0]
        port = client.session.query("SELECT * FROM Msvm_EthernetPortAllocationSettingData "
                                    "WHERE InstanceID LIKE '%\\\\Default'")[0]
        port["Parent"] = nic
        port["HostResource"] = [str(switch.path)]
        connections.append(client.add_ok(system, port))
    vlan = client.session.query("SELECT * FROM Msvm_EthernetSwitchPortVlanSettingData "
                                "WHERE InstanceID LIKE '%\\\\Default'")[0]
    vlan["OperationMode"] = 1
    vlan["AccessVlanId"] = 42
    security = client.session.query("SELECT * FROM Msvm_EthernetSwitchPortSecuritySettingData "
                                    "WHERE InstanceID LIKE '%\\\\Default'")[0]
    security["AllowMacSpoofing"] = True
    client.ok(client.call("AddFeatureSettings", AffectedConfiguration=connections[1],
                          FeatureSettings=[vlan, security]))
    nics = {n["name"]: (n["switch"], n["vlan"], n["mac_spoofing"])
            for n in describe(client.session)["vms"][0]["nics"]}
    assert nics == {"plain": ("external", None, False), "tagged": ("external", 42, True)}
