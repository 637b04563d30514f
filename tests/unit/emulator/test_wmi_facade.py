"""The PyMI-compatible facade: monikers, quoting, values, methods, errors, events."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperv_emulator import init_host, wmi

HV = "Microsoft:Hyper-V:"


@pytest.fixture
def conn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[wmi._Connection]:
    state = tmp_path / "host.db"
    init_host(state, "ws2022")
    monkeypatch.setenv(wmi.STATE_VARIABLE, str(state))
    wmi.unbind()
    yield wmi.WMI(moniker="//./root/virtualization/v2")
    wmi.unbind()


def _define(conn: wmi._Connection, name: str = "vm1") -> wmi._Instance:
    vssd = conn.Msvm_VirtualSystemSettingData.new()
    vssd.ElementName = name
    vssd.VirtualSystemSubType = "Microsoft:Hyper-V:SubType:2"
    service = conn.Msvm_VirtualSystemManagementService()[0]
    job, system, code = service.DefineSystem(ResourceSettings=[], ReferenceConfiguration=None,
                                             SystemSettings=vssd.GetText_(1))
    assert (job, code) == (None, 0)
    return wmi.WMI(moniker=system)


def test_monikers(conn: wmi._Connection) -> None:
    assert wmi.WMI().Win32_OperatingSystem()[0].Version == "10.0.20348"
    assert wmi.WMI(moniker="//HV-WS2022/root/cimv2").Win32_ComputerSystem()[0].Name == \
        "HV-WS2022"
    system = _define(conn)
    path = system.path_()
    assert path.startswith("\\\\HV-WS2022\\root\\virtualization\\v2:Msvm_ComputerSystem.")
    # os-win turns backslashes into slashes before fetching by path.
    assert wmi.WMI(moniker=path.replace("\\", "/")).Name == system.Name
    with pytest.raises(wmi.x_wmi) as info:
        wmi.WMI(moniker="//elsewhere/root/virtualization/v2")
    assert info.value.com_error.excepinfo[5] & 0xFFFFFFFF == 0x800706BA
    with pytest.raises(wmi.x_wmi) as info:
        wmi.WMI(moniker="//./root/nowhere")
    assert info.value.com_error.excepinfo[5] & 0xFFFFFFFF == 0x8004100E


def test_errors_carry_message_and_hresult(conn: wmi._Connection) -> None:
    system = _define(conn)
    missing = system.path_().replace(system.Name, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(wmi.x_wmi) as info:
        wmi.WMI(moniker=missing)
    excepinfo = info.value.com_error.excepinfo
    assert excepinfo[5] == -2147217406  # 0x80041002, signed as PyMI passes it
    assert "does not exist" in excepinfo[2]
    with pytest.raises(wmi.x_wmi) as info:
        conn.query("SELECT Nope FROM Msvm_ComputerSystem")
    assert info.value.com_error.excepinfo[5] & 0xFFFFFFFF == 0x80041017
    with pytest.raises(wmi.x_wmi):
        conn.Msvm_NoSuchClass()


def test_class_calls_quote_values_like_pymi(conn: wmi._Connection) -> None:
    system = _define(conn)
    # Every filter value is quoted with str(): booleans read 'True', integers '3'.
    assert [s.Name for s in conn.Msvm_ComputerSystem(EnabledState=3)] == [system.Name]
    pools = conn.Msvm_ResourcePool(Primordial=True, ResourceSubType=HV + "Synthetic DVD Drive")
    assert len(pools) == 1
    projected = conn.Msvm_ComputerSystem(["ElementName"], Name=system.Name)[0]
    assert projected.ElementName == "vm1" and projected.path_() == system.path_()
    assert projected.EnabledState is None  # not selected


def test_query_doubles_backslashes(conn: wmi._Connection) -> None:
    found = conn.query("SELECT * FROM Msvm_SyntheticEthernetPortSettingData "
                       "WHERE InstanceID LIKE '%\\Default'")
    assert len(found) == 1
    path = found[0].path_()
    again = conn.query(f"SELECT * FROM Msvm_SyntheticEthernetPortSettingData "
                       f"WHERE __PATH = '{path}'")
    assert [a.InstanceID for a in again] == [found[0].InstanceID]


def test_instances_values_and_assignment(conn: wmi._Connection) -> None:
    system = _define(conn)
    vssd = conn.Msvm_VirtualSystemSettingData(ElementName="vm1")[0]
    assert vssd.instanceid == vssd.InstanceID  # case-insensitive
    assert isinstance(vssd.Notes, tuple)
    with pytest.raises(wmi.x_wmi) as info:
        vssd.NoSuchProperty = 1
    assert info.value.com_error.excepinfo[5] & 0xFFFFFFFF == 0x80041031
    with pytest.raises(AttributeError):
        _ = vssd.NoSuchProperty
    drive = conn.query("SELECT * FROM Msvm_ResourceAllocationSettingData WHERE "
                       f"ResourceSubType = '{HV}Synthetic Disk Drive' AND "
                       "InstanceID LIKE '%\\Default'")[0]
    drive.AddressOnParent = 3  # an int into a string property
    assert drive.AddressOnParent == "3"
    nic = conn.Msvm_SyntheticEthernetPortSettingData.new()
    nic.StaticMacAddress = "True"  # a string into a boolean
    assert nic.StaticMacAddress is True
    nic.StaticMacAddress = "no"
    assert nic.StaticMacAddress is False
    with pytest.raises(wmi.x_wmi):
        nic.VirtualSystemIdentifiers = 5
    assert system.path().Class == "Msvm_ComputerSystem"
    assert system.path().RelPath.startswith("Msvm_ComputerSystem.CreationClassName=")
    assert "Msvm_ComputerSystem" in repr(system)


def test_references_read_from_instances_are_objects(conn: wmi._Connection) -> None:
    system = _define(conn)
    link = conn.Msvm_SettingsDefineState(ManagedElement=system.path_())[0]
    assert link.ManagedElement.Name == system.Name  # fetched as an object
    assert link.SettingData.ElementName == "vm1"
    vssd = link.SettingData
    assert [a.Name for a in vssd.associators(wmi_result_class="Msvm_ComputerSystem")] == [
        system.Name]
    assert len(vssd.references("Msvm_VirtualSystemSettingDataComponent")) > 10


def test_methods_take_positional_arguments_sorted_by_name(conn: wmi._Connection) -> None:
    system = _define(conn)
    service = conn.Msvm_VirtualSystemManagementService()[0]
    vssd_path = conn.Msvm_VirtualSystemSettingData(ElementName="vm1")[0].path_()
    # GetSummaryInformation(RequestedInformation, SettingData): A-Z, not the MOF order.
    code, summaries = service.GetSummaryInformation([1, 100], [vssd_path])
    assert code == 0
    assert (summaries[0].ElementName, summaries[0].EnabledState) == ("vm1", 3)
    job, code = system.RequestStateChange(2)
    assert code == 4096 and wmi.WMI(moniker=job).JobState == 7
    scsi = conn.query("SELECT * FROM Msvm_ResourceAllocationSettingData WHERE "
                      f"ResourceSubType = '{HV}Synthetic SCSI Controller' AND "
                      "InstanceID LIKE '%\\Default'")[0]
    # (AffectedConfiguration, ResourceSettings) positionally; outputs sorted by name.
    job, resulting, code = service.AddResourceSettings(system.path_(), [scsi.GetText_(1)])
    assert code == 4096  # a running VM refuses a new SCSI controller: a failed job
    assert resulting is None and wmi.WMI(moniker=job).ErrorCode == 32775
    with pytest.raises(wmi.x_wmi):
        service.GetSummaryInformation([1], [vssd_path], "one too many")
    with pytest.raises(wmi.x_wmi):  # a reference to something that is not there
        service.DestroySystem(system.path_().replace(system.Name, "0" * 8 + "-0000-0000-0000-"
                                                     + "0" * 12))


def test_writing_instances_directly_is_not_how_hyperv_works(conn: wmi._Connection) -> None:
    vssd = conn.Msvm_VirtualSystemManagementServiceSettingData()[0]
    with pytest.raises(wmi.x_wmi) as info:
        vssd.Put_()
    assert info.value.com_error.excepinfo[5] & 0xFFFFFFFF == 0x80041024


def test_exception_classes_can_be_the_clients(conn: wmi._Connection) -> None:
    class Theirs(Exception):
        def __init__(self, info: str = "", com_error: object = None) -> None:
            super().__init__(info)
            self.com_error = com_error

    class TheirsTimedOut(Theirs):
        pass

    wmi.use_exception_classes(Theirs, TheirsTimedOut)
    try:
        with pytest.raises(Theirs):
            conn.query("SELECT * FROM Nope")
    finally:
        wmi.use_exception_classes(wmi.x_wmi, wmi.x_wmi_timed_out)


def test_watch_for_power_state_changes(conn: wmi._Connection) -> None:
    system = _define(conn)
    watcher = conn.Msvm_ComputerSystem.watch_for(
        raw_wql="SELECT * FROM __InstanceModificationEvent WITHIN 2 WHERE TargetInstance ISA "
                "'Msvm_ComputerSystem' AND TargetInstance.EnabledState <> "
                "PreviousInstance.EnabledState")
    with pytest.raises(wmi.x_wmi_timed_out):
        watcher(50)
    starter = threading.Thread(target=lambda: (time.sleep(0.05), system.RequestStateChange(2)))
    starter.start()
    event = watcher(5000)
    starter.join()
    assert (event.ElementName, event.EnabledState) == ("vm1", 2)
    assert event.previous.EnabledState == 3
    created = conn.Msvm_SyntheticEthernetPortSettingData.watch_for(
        raw_wql="SELECT * FROM __InstanceCreationEvent WITHIN 2 WHERE TargetInstance ISA "
                "'Msvm_SyntheticEthernetPortSettingData'")
    nic = conn.query("SELECT * FROM Msvm_SyntheticEthernetPortSettingData WHERE "
                     "InstanceID LIKE '%\\Default'")[0]
    nic.ElementName = "port-9"
    service = conn.Msvm_VirtualSystemManagementService()[0]
    service.AddResourceSettings(system.path_(), [nic.GetText_(1)])
    assert created(1000).ElementName == "port-9"


def test_counters_are_the_facade_sessions(conn: wmi._Connection) -> None:
    wmi.session().counters.reset()
    conn.Msvm_ComputerSystem()
    _define(conn)
    counted = wmi.session().counters.total
    assert (counted.queries, counted.calls, counted.gets) == (2, 1, 1)
