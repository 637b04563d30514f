"""DefineSystem, DestroySystem and ModifySystemSettings with Hyper-V's rules."""

from __future__ import annotations

import pytest
from tests.unit.emulator.hvclient import HV, Client

from hyperv_emulator import CimError

GEN1_SET = [
    "Processor", "Memory", "Emulated IDE Controller", "Emulated IDE Controller",
    "Virtual Diskette Controller", "Synthetic Diskette Drive", "Serial Controller",
    "Serial Port", "Serial Port", "Virtual Keyboard", "Virtual PS/2 Mouse", "Synthetic Mouse",
    "S3 Display Controller", "Synthetic Display Controller", "Shutdown Component",
    "Time Synchronization Component", "Key-Value Pair Exchange Component", "VSS Component",
    "Heartbeat Component", "Guest Service Interface Component",
]
GEN2_SET = [
    "Processor", "Memory", "Serial Controller", "Serial Port", "Serial Port", "Virtual Keyboard",
    "Synthetic Keyboard", "Synthetic Mouse", "Synthetic Display Controller",
    "Shutdown Component", "Time Synchronization Component",
    "Key-Value Pair Exchange Component", "VSS Component", "Heartbeat Component",
    "Guest Service Interface Component",
]


def _labels(client: Client, system: str) -> list[str]:
    return [str(d["ResourceSubType"] or d["OtherResourceType"]).removeprefix(HV)
            for d in client.devices(system)]


@pytest.mark.parametrize(("generation", "expected"), [(1, GEN1_SET), (2, GEN2_SET)])
def test_default_devices_per_generation(client: Client, generation: int,
                                        expected: list[str]) -> None:
    system = client.define("vm1", generation)
    assert _labels(client, system) == expected
    guid = client.session.get(system)["Name"]
    ids = {d["InstanceID"] for d in client.devices(system)}
    assert f"Microsoft:{guid}\\83F8638B-8DCA-4152-9EDA-2CA8B33039B4\\0" in ids or generation == 2
    assert f"Microsoft:{guid}\\4764334d-e001-4176-82ee-5594ec9b530e" in ids
    assert f"Microsoft:{guid}\\b637f346-6a0e-4dec-af52-bd70cb80a21d\\0" in ids
    # A new generation 2 VM shows exactly 4 plain RASDs (reference notes §2.4).
    plain = client.devices(system, "Msvm_ResourceAllocationSettingData")
    assert len(plain) == (4 if generation == 2 else 9)
    assert client.session.query(
        f"SELECT * FROM Msvm_SecuritySettingData WHERE InstanceID LIKE 'Microsoft:{guid}%'")


def test_a_new_vm(client: Client) -> None:
    system = client.define("vm1", 2, Notes=["first", "second"])
    cs = client.session.get(system)
    assert (cs["EnabledState"], cs["ElementName"], cs["Caption"]) == (3, "vm1", "Virtual Machine")
    vssd = client.vssd(system)
    assert vssd["InstanceID"] == f"Microsoft:{cs['Name']}"
    assert vssd["VirtualSystemIdentifier"] == vssd["ConfigurationID"] == cs["Name"]
    assert vssd["Notes"] == ("first",)  # only Notes[0] is kept (reference notes §2.2)
    assert vssd["Version"] == "10.0"
    assert (vssd["SecureBootEnabled"], vssd["SecureBootTemplateId"]) == (
        True, "1734C6E8-3154-4DDA-BA5F-A874CC483422")
    assert vssd["BootSourceOrder"] == ()
    assert client.session.associators(system, assoc_class="Msvm_SettingsDefineState") == [vssd]
    parts = client.session.associators(vssd.path,
                                       assoc_class="Msvm_VirtualSystemSettingDataComponent")
    assert len(parts) == len(GEN2_SET)
    first = client.devices(system)[0]
    assert client.session.associators(first.path, result_class="Msvm_VirtualSystemSettingData"
                                      ) == [vssd]


def test_null_subtype_is_generation_1(client: Client) -> None:
    system = client.define("vm1", 1)
    vssd = client.vssd(system)
    assert vssd["VirtualSystemSubType"] == "Microsoft:Hyper-V:SubType:1"
    assert vssd["BootOrder"] == (1, 2, 3, 0)
    assert vssd["SecureBootEnabled"] is False


def test_resource_settings_are_added_with_the_definition(client: Client) -> None:
    vssd = client.session.new_instance("Msvm_VirtualSystemSettingData")
    vssd["ElementName"] = "vm1"
    scsi = client.template(HV + "Synthetic SCSI Controller")
    system = client.ok(client.call("DefineSystem", SystemSettings=vssd,
                                   ResourceSettings=[scsi]))["ResultingSystem"]
    assert "Synthetic SCSI Controller" in _labels(client, system)


@pytest.mark.parametrize(("values", "fragment"), [
    ({"VirtualSystemSubType": "Microsoft:Hyper-V:SubType:3"}, "SubType:3"),
    ({"Version": "3.0"}, "configuration version"),
    ({"ElementName": "x" * 101}, "at most 100"),
    ({"ElementName": "  "}, "cannot be empty"),
    ({"SecureBootEnabled": True}, "generation 2"),
    ({"VirtualSystemSubType": "Microsoft:Hyper-V:SubType:2",
      "SecureBootTemplateId": "00000000-0000-0000-0000-000000000000"}, "not a Secure Boot"),
    ({"AutomaticStartupAction": 9}, "allowed: 2 (None)"),
    ({"BootOrder": [1, 1]}, "twice"),
])
def test_define_refusals_fail_as_a_job(client: Client, values: dict[str, object],
                                       fragment: str) -> None:
    vssd = client.session.new_instance("Msvm_VirtualSystemSettingData")
    vssd["ElementName"] = "vm1"
    vssd.update(values)
    job = client.refused(client.call("DefineSystem", SystemSettings=vssd), 32773)
    assert fragment in job["ErrorDescription"]
    assert client.session.query("SELECT * FROM Msvm_ComputerSystem WHERE "
                                "Caption = 'Virtual Machine'") == []


def test_names_may_repeat_unless_the_host_is_told_otherwise(client: Client) -> None:
    client.define("vm1")
    vssd = client.session.new_instance("Msvm_VirtualSystemSettingData")
    vssd["ElementName"] = "VM1"
    # Real Hyper-V accepts a second VM with the same name: identity is the GUID.
    client.ok(client.call("DefineSystem", SystemSettings=vssd))
    client.session.host.update_settings(unique_vm_names=True)
    job = client.refused(client.call("DefineSystem", SystemSettings=vssd), 32773)
    assert "already exists" in job["ErrorDescription"]


def test_define_input_errors(client: Client) -> None:
    assert client.call("DefineSystem", SystemSettings=client.session.new_instance(
        "Msvm_VirtualSystemSettingData"), ReferenceConfiguration=client.vsms
                       ).return_value == 1
    job = client.refused(client.call("DefineSystem", SystemSettings="<INSTANCE"), 32773)
    assert "well-formed" in job["ErrorDescription"]
    processor = client.template(HV + "Processor")
    client.refused(client.call("DefineSystem", SystemSettings=processor), 32773)
    with pytest.raises(CimError) as info:
        client.call("DefineSystem", SystemSettings="x", Bogus=1)
    assert info.value.hresult == 0x80041008


def test_destroy(client: Client) -> None:
    system = client.define("vm1")
    client.scsi(system)
    guid = client.session.get(system)["Name"]
    client.ok(client.state(system, 2))
    refused = client.call("DestroySystem", AffectedSystem=system)
    assert (refused.return_value, refused.job) == (32775, None)
    client.ok(client.state(system, 6))  # saved: may be destroyed
    result = client.ok(client.call("DestroySystem", AffectedSystem=system))
    assert result.return_value == 4096
    rows = client.session._conn.execute("SELECT COUNT(*) FROM inst WHERE vm = ?", (guid,))
    assert rows.fetchone()[0] == 0
    with pytest.raises(CimError) as info:
        client.session.get(system)
    assert info.value.hresult == 0x80041002
    client.refused(client.call("DestroySystem", AffectedSystem=system), 32773)


def test_modify_system_settings(client: Client) -> None:
    system = client.define("vm1")
    vssd = client.vssd(system)
    partial = client.session.new_instance("Msvm_VirtualSystemSettingData")
    partial["InstanceID"] = vssd["InstanceID"].lower()  # matched case-insensitively
    partial["ElementName"] = "renamed"
    partial["Notes"] = ["a", "b"]
    assert client.call("ModifySystemSettings", SystemSettings=partial).return_value == 0
    after = client.vssd(system)
    assert (after["ElementName"], after["Notes"]) == ("renamed", ("a",))
    assert after["AutomaticStartupAction"] == vssd["AutomaticStartupAction"]  # NULL: unchanged
    assert client.session.get(system)["ElementName"] == "renamed"
    mmio = client.session.new_instance("Msvm_VirtualSystemSettingData")
    mmio["InstanceID"] = vssd["InstanceID"]
    mmio["LowMmioGapSize"] = 256
    client.ok(client.call("ModifySystemSettings", SystemSettings=mmio))


@pytest.mark.parametrize(("values", "code", "fragment"), [
    ({"VirtualSystemSubType": "Microsoft:Hyper-V:SubType:1"}, 32773, "cannot be changed"),
    ({"Version": "9.0"}, 32773, "cannot be changed"),
    ({"VirtualSystemType": "Microsoft:Hyper-V:System:Planned"}, 32773, "cannot be changed"),
    ({"UserSnapshotType": 7}, 32773, "allowed: 2"),
    ({"BootOrder": [0, 1]}, 32773, "generation 1 setting"),
])
def test_modify_system_settings_refusals(client: Client, values: dict[str, object], code: int,
                                         fragment: str) -> None:
    system = client.define("vm1")
    change = client.vssd(system)
    change.update(values)
    job = client.refused(client.call("ModifySystemSettings", SystemSettings=change), code)
    assert fragment in job["ErrorDescription"]


def test_modify_unknown_settings(client: Client) -> None:
    vssd = client.session.new_instance("Msvm_VirtualSystemSettingData")
    vssd["InstanceID"] = "Microsoft:00000000-0000-0000-0000-000000000000"
    client.refused(client.call("ModifySystemSettings", SystemSettings=vssd), 32773)


def test_changes_that_need_the_vm_off(client: Client) -> None:
    system = client.define("vm1")
    client.ok(client.state(system, 2))
    for name, value in (("VirtualNumaEnabled", False), ("SecureBootEnabled", False),
                        ("SecureBootTemplateId", "272E7447-90A4-4563-A4B9-8E4AB00526CE")):
        change = client.vssd(system)
        change[name] = value
        job = client.refused(client.call("ModifySystemSettings", SystemSettings=change), 32775)
        assert "to be off" in job["ErrorDescription"]
    notes = client.vssd(system)
    notes["Notes"] = ["allowed while running"]
    assert client.call("ModifySystemSettings", SystemSettings=notes).return_value == 0


def test_boot_order_rules(client: Client) -> None:
    gen1 = client.define("vm1", 1)
    for order, fragment in (([0, 1, 2, 3, 1], "at most 4"), ([4], "generation 1 boots"),
                            ([2, 2], "twice")):
        change = client.vssd(gen1)
        change["BootOrder"] = order
        job = client.refused(client.call("ModifySystemSettings", SystemSettings=change), 32773)
        assert fragment in job["ErrorDescription"]
    gen2 = client.define("vm2", 2)
    change = client.vssd(gen2)
    change["BootSourceOrder"] = ["root\\virtualization\\v2:Msvm_BootSourceSettingData."
                                 'InstanceID="nope"']
    client.refused(client.call("ModifySystemSettings", SystemSettings=change), 32773)
