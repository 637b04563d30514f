"""The CimSession contract, run over the emulated adapter and the PyMI (`wmi`) adapter.

The `wmi` runs go through `hyperv_emulator.wmi`, the PyMI-compatible facade, so the code
path the driver takes on Windows (PyMI's query escaping, positional outputs, GetText_
embedding, x_wmi errors) is exercised here too.
"""

from __future__ import annotations

import pytest

from hyperv_emulator import Host
from nova_hyperv import cim
from nova_hyperv.cim.wmi import WmiSession

VSMS = "SELECT * FROM Msvm_VirtualSystemManagementService"


def _service(session: cim.CimSession) -> cim.CimInstance:
    return session.query(VSMS)[0]


def _define(session: cim.CimSession, name: str, generation: int = 1) -> str:
    vssd = session.new_instance("Msvm_VirtualSystemSettingData")
    vssd["ElementName"] = name
    vssd["VirtualSystemSubType"] = f"Microsoft:Hyper-V:SubType:{generation}"
    vssd["Notes"] = ["a note"]
    result = session.invoke(_service(session), "DefineSystem", SystemSettings=vssd)
    session.finish(result, "DefineSystem")
    return result["ResultingSystem"]


def _vms_named(session: cim.CimSession, name: str) -> list[cim.CimInstance]:
    return session.query(
        f"SELECT * FROM Msvm_ComputerSystem WHERE ElementName = {cim.quote(name)}")


def test_query_get_and_read_values(session: cim.CimSession) -> None:
    switches = session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")
    assert [s["ElementName"] for s in switches] == ["external"]
    switch = switches[0]
    assert switch.class_name == "Msvm_VirtualEthernetSwitch"
    again = session.get(switch.path)
    assert again["Name"] == switch["Name"]
    assert again.get("elementname") == "external"  # names are case-insensitive
    assert again.get("Description") == "Microsoft Virtual Switch"
    assert switch.get("ElementName", "x") == "external"


def test_other_namespace(session: cim.CimSession) -> None:
    [os_] = session.query("SELECT Version, Caption FROM Win32_OperatingSystem", cim.CIMV2)
    assert os_["Version"] == "10.0.20348"


def test_define_system_with_embedded_instance_and_read_it_back(
        session: cim.CimSession) -> None:
    path = _define(session, "vm-one")
    vm = session.get(path)
    assert vm["ElementName"] == "vm-one"
    assert vm["EnabledState"] == 3
    assert cim.parse_path(path).key("Name") == vm["Name"]


@pytest.mark.parametrize("name", [
    "it's", 'say "hi"', "back\\slash", "pct%_and_under", "tail\\", "[bracket]",
])
def test_hostile_names_are_quoted(session: cim.CimSession, name: str) -> None:
    _define(session, name)
    _define(session, "decoy")
    found = _vms_named(session, name)
    assert [vm["ElementName"] for vm in found] == [name]


def test_name_with_both_quote_marks(session: cim.CimSession) -> None:
    name = "it's \"quoted\""
    _define(session, name)
    query = f"SELECT * FROM Msvm_ComputerSystem WHERE ElementName = {cim.quote(name)}"
    if isinstance(session, WmiSession):
        with pytest.raises(cim.CimInvalidQuery, match="PyMI cannot send"):
            session.query(query)
    else:
        assert [vm["ElementName"] for vm in session.query(query)] == [name]


def test_like_prefix_keeps_wildcards_inert(session: cim.CimSession) -> None:
    _define(session, "a%b-1")
    _define(session, "axb-1")
    _define(session, "a_b-1")
    found = session.query("SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE "
                          + cim.like_prefix("a%b"))
    assert [vm["ElementName"] for vm in found] == ["a%b-1"]
    found = session.query("SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE "
                          + cim.like_prefix("a_b"))
    assert [vm["ElementName"] for vm in found] == ["a_b-1"]


def test_missing_object_is_not_found(session: cim.CimSession) -> None:
    path = _define(session, "gone")
    vm = session.get(path)
    result = session.invoke(_service(session), "DestroySystem", AffectedSystem=vm.path)
    session.finish(result, "DestroySystem")
    with pytest.raises(cim.CimNotFound):
        session.get(path)


def test_unknown_class_and_bad_query(session: cim.CimSession) -> None:
    with pytest.raises(cim.CimInvalidClass):
        session.query("SELECT * FROM Msvm_NoSuchClass")
    with pytest.raises(cim.CimInvalidQuery):
        session.query("SELECT FROM WHERE")
    with pytest.raises(cim.CimInvalidClass):
        session.query("SELECT * FROM MSCluster_Cluster", "root/MSCluster")


def test_unknown_property_is_typed(session: cim.CimSession) -> None:
    vssd = session.new_instance("Msvm_VirtualSystemSettingData")
    with pytest.raises(cim.CimInvalidProperty):
        vssd["NoSuchProperty"] = 1
    switch = session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")[0]
    with pytest.raises(cim.CimInvalidProperty):
        switch["NoSuchProperty"]


def test_failed_job_carries_code_and_description(session: cim.CimSession) -> None:
    path = _define(session, "needs-parts")
    bare = session.new_instance("Msvm_ResourceAllocationSettingData")  # no type: refused
    result = session.invoke(_service(session), "AddResourceSettings",
                            AffectedConfiguration=path, ResourceSettings=[bare])
    with pytest.raises(cim.CimJobFailed) as caught:
        session.finish(result, "adding a device")
    assert caught.value.error_code == 32773
    assert "ResourceType" in caught.value.description
    assert "adding a device failed" in str(caught.value)


def test_invalid_state_is_typed(session: cim.CimSession) -> None:
    vm = session.get(_define(session, "off-already"))
    result = session.invoke(vm, "RequestStateChange", RequestedState=3)
    with pytest.raises(cim.CimInvalidState) as caught:
        session.finish(result, "turning off", vm.path)
    assert caught.value.return_value == 32775


def test_outputs_by_name_and_references_as_paths(session: cim.CimSession) -> None:
    path = _define(session, "with-controller")
    controller = session.new_instance("Msvm_ResourceAllocationSettingData")
    controller["ResourceType"] = 6
    controller["ResourceSubType"] = "Microsoft:Hyper-V:Synthetic SCSI Controller"
    result = session.invoke(_service(session), "AddResourceSettings",
                            AffectedConfiguration=path, ResourceSettings=[controller])
    session.finish(result, "adding a controller")
    [added] = result["ResultingResourceSettings"]
    assert isinstance(added, str)
    assert session.get(added)["ResourceSubType"] == controller["ResourceSubType"]
    summary = session.invoke(_service(session), "GetSummaryInformation",
                             RequestedInformation=[1, 100])
    assert [s["ElementName"] for s in summary["SummaryInformation"]] == ["with-controller"]


def test_job_is_polled_until_it_ends(session: cim.CimSession, host: Host) -> None:
    vm = session.get(_define(session, "slow"))
    host.update_settings(job_polls=2)
    result = session.invoke(vm, "RequestStateChange", RequestedState=2)
    job = session.finish(result, "starting")
    assert job is not None and job["JobState"] == 7
    assert session.get(vm.path)["EnabledState"] == 2


def test_job_that_never_ends_times_out_and_is_killed(session: cim.CimSession,
                                                     host: Host) -> None:
    vm = session.get(_define(session, "stuck"))
    host.update_settings(job_polls=-1)
    result = session.invoke(vm, "RequestStateChange", RequestedState=2)
    with pytest.raises(cim.CimJobTimeout, match=r"within 0\.2 s"):
        session.finish(result, "starting", timeout=0.2)
    assert session.get(vm.path)["EnabledState"] == 3  # the kill put it back


def test_static_method_with_an_embedded_output(session: cim.CimSession) -> None:
    result = session.invoke("root/Microsoft/Windows/Hgs:MSFT_HgsClientConfiguration", "Get")
    assert result.return_value == 0
    assert result["cmdletOutput"]["IsHostGuarded"] is False


def test_method_the_host_does_not_implement_is_not_supported(
        session: cim.CimSession) -> None:
    vm = session.get(_define(session, "exported"))
    with pytest.raises(cim.CimNotSupported):
        session.invoke(_service(session), "ExportSystemDefinition",
                       ComputerSystem=vm.path, ExportDirectory="C:\\x")


def test_round_trips_are_counted(session: cim.CimSession) -> None:
    assert session.counters is not None
    with cim.count_round_trips(session, "probe"):
        session.query(VSMS)
        vm = session.get(_define(session, "counted"))
        session.finish(session.invoke(vm, "RequestStateChange", RequestedState=2), "start")
    probe = session.counters.snapshot()["probe"]
    # query; (query + DefineSystem) in _define; get; RequestStateChange; one job poll.
    assert probe["queries"] == 2
    assert probe["calls"] == 2
    assert probe["job_polls"] == 1
