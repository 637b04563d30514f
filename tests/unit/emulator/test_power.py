"""RequestStateChange, the shutdown component, jobs and GetSummaryInformation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import Client

from hyperv_emulator import CimError, init_host
from hyperv_emulator.profiles import PRESETS, NumaNode

RUNNING, OFF, SAVED, PAUSED = 2, 3, 6, 9
# From each stable state, where a request leads (None: 32775, synchronously).
TABLE = {
    OFF: {2: RUNNING, 3: None, 6: None, 9: None, 10: None, 11: None, 4: None, 32769: None},
    RUNNING: {2: None, 3: OFF, 6: SAVED, 9: PAUSED, 10: RUNNING, 11: RUNNING, 4: None},
    PAUSED: {2: RUNNING, 3: OFF, 6: SAVED, 9: None, 11: None},
    SAVED: {2: RUNNING, 3: OFF, 6: None, 9: None, 11: None},
}
REACH = {OFF: [], RUNNING: [2], PAUSED: [2, 9], SAVED: [2, 6]}


@pytest.mark.parametrize(("start", "requested", "target"), [
    (start, requested, target) for start, row in TABLE.items() for requested, target in row.items()
])
def test_transitions(client: Client, start: int, requested: int, target: int | None) -> None:
    system = client.define()
    for step in REACH[start]:
        client.ok(client.state(system, step))
    assert client.enabled_state(system) == start
    result = client.state(system, requested)
    if target is None:
        assert (result.return_value, result.job) == (32775, None)
        assert client.enabled_state(system) == start
    else:
        job = client.job(result)
        assert (job["JobState"], job["ErrorCode"]) == (7, 0)
        assert client.enabled_state(system) == target
        affected = client.session.query("SELECT * FROM Msvm_AffectedJobElement")
        assert str(client.session.get(system).path) in {a["AffectedElement"] for a in affected}


def test_shutdown_component_exists_only_while_the_guest_runs(client: Client) -> None:
    system = client.define()
    guid = client.session.get(system)["Name"]
    query = f"SELECT * FROM Msvm_ShutdownComponent WHERE SystemName = '{guid}'"
    assert client.session.query(query) == []
    client.ok(client.state(system, 2))
    component = client.session.query(query)
    assert len(component) == 1
    assert client.session.associators(system, assoc_class="Msvm_SystemDevice") == component
    client.ok(client.state(system, 9))
    paused = client.session.invoke(component[0].path, "InitiateShutdown", Force=False,
                                   Reason="test")
    assert paused.return_value == 32775  # the guest must be running
    client.ok(client.state(system, 2))
    result = client.session.invoke(component[0].path, "InitiateShutdown", Force=False,
                                   Reason="test")
    assert (result.return_value, result.outputs) == (0, {})  # no Job output: synchronous
    assert client.enabled_state(system) == OFF
    assert client.session.query(query) == []


def test_disabled_shutdown_integration_means_no_component(client: Client) -> None:
    system = client.define()
    component = client.session.query(
        "SELECT * FROM Msvm_ShutdownComponentSettingData WHERE InstanceID LIKE 'Microsoft:%' "
        "AND NOT InstanceID LIKE 'Microsoft:Definition%'")[0]
    component["EnabledState"] = 3
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[component]))
    client.ok(client.state(system, 2))
    assert client.session.query("SELECT * FROM Msvm_ShutdownComponent") == []


def test_transitional_states_with_slow_jobs(client: Client) -> None:
    client.session.host.update_settings(job_polls=2)
    system = client.define()
    result = client.state(system, 2)
    assert result.return_value == 4096
    assert client.enabled_state(system) == 10  # Starting
    assert client.state(system, 3).return_value == 32775  # busy
    states = [client.session.get(result.job)["JobState"] for _ in range(3)]
    assert states == [4, 4, 7]
    assert client.enabled_state(system) == RUNNING
    stopping = client.state(system, 3)
    assert client.enabled_state(system) == 4  # Stopping
    cancel = client.session.invoke(stopping.job, "RequestStateChange", RequestedState=5)
    assert cancel.return_value == 0
    assert client.session.get(stopping.job)["JobState"] == 9  # Killed
    assert client.enabled_state(system) == RUNNING  # the change was undone


def test_starting_beyond_host_memory_fails(tmp_path: Path) -> None:
    small = PRESETS["ws2022"].replace(numa_nodes=(NumaNode(4096, 4), NumaNode(4096, 4)))
    client = Client(init_host(tmp_path / "small.db", small).session())
    big = client.define("big")
    memory = client.devices(big, "Msvm_MemorySettingData")[0]
    memory["VirtualQuantity"] = 6144
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[memory]))
    client.ok(client.state(big, 2))  # spans both nodes (NUMA spanning is on)
    nodes = client.session.query("SELECT * FROM Msvm_NumaNode")
    assert sum(n["CurrentlyConsumableMemoryBlocks"] for n in nodes) == 2048
    other = client.define("other")
    memory = client.devices(other, "Msvm_MemorySettingData")[0]
    memory["VirtualQuantity"] = 4096
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[memory]))
    job = client.refused(client.state(other, 2), 32778)
    assert "not enough memory" in job["ErrorDescription"].lower()
    assert client.enabled_state(other) == OFF
    client.ok(client.state(big, 3))
    client.ok(client.state(other, 2))


def test_uptime_counts_running_time_only(client: Client) -> None:
    system = client.define()
    assert client.session.get(system)["OnTimeInMilliseconds"] == 0
    client.ok(client.state(system, 2))
    time.sleep(0.02)
    first = client.session.get(system)["OnTimeInMilliseconds"]
    assert first >= 20
    client.ok(client.state(system, 9))
    paused = client.session.get(system)["OnTimeInMilliseconds"]
    time.sleep(0.02)
    assert client.session.get(system)["OnTimeInMilliseconds"] == paused
    client.ok(client.state(system, 3))
    assert client.session.get(system)["OnTimeInMilliseconds"] == 0


def test_summary_information(client: Client) -> None:
    first = client.define("vm1")
    second = client.define("vm2")
    client.ok(client.state(second, 2))
    paths = [str(client.vssd(second).path), str(client.vssd(first).path)]
    result = client.call("GetSummaryInformation", SettingData=paths,
                         RequestedInformation=[1, 4, 100, 103, 105])
    assert (result.return_value, result.job) == (0, None)
    vm2, vm1 = result["SummaryInformation"]
    assert (vm2["ElementName"], vm2["EnabledState"], vm2["NumberOfProcessors"]) == (
        "vm2", 2, 1)
    assert vm2["MemoryUsage"] == 1024 and vm2["UpTime"] >= 0
    assert (vm1["ElementName"], vm1["EnabledState"], vm1["MemoryUsage"], vm1["UpTime"]) == (
        "vm1", 3, None, 0)
    assert vm1["Name"] is None  # not requested
    everyone = client.call("GetSummaryInformation", RequestedInformation=[0])
    assert len(everyone["SummaryInformation"]) == 2
    assert client.call("GetSummaryInformation", RequestedInformation=[999]).return_value == \
        32773
    assert client.call("GetSummaryInformation", SettingData=[client.vsms],
                       RequestedInformation=[0]).return_value == 32773


def test_failed_jobs_explain_themselves(client: Client) -> None:
    system = client.define()
    bare = client.session.new_instance("Msvm_ResourceAllocationSettingData")
    result = client.add(system, bare)
    job = client.refused(result, 32773)
    assert job["ErrorSummaryDescription"] and "Job ID" in job["ErrorDescription"]
    errors = client.session.invoke(result.job, "GetErrorEx")["Errors"]
    assert len(errors) == 1 and "Msvm_Error" in errors[0] and "32773" in errors[0]
    affected = client.session.associators(result.job, assoc_class="Msvm_AffectedJobElement")
    assert [a["Name"] for a in affected] == [client.session.get(system)["Name"]]
    good = client.ok(client.state(system, 2))
    assert client.session.invoke(good.job, "GetErrorEx")["Errors"] is None
    assert client.session.invoke(good.job, "RequestStateChange",
                                 RequestedState=5).return_value == 32775


def test_finished_jobs_are_removed_after_five_minutes(client: Client) -> None:
    system = client.define()
    job = client.ok(client.state(system, 2)).job
    with client.session._txn(write=True) as txn:
        txn.purge_expired(time.time() + 301)
    with pytest.raises(CimError) as info:
        client.session.get(job)
    assert info.value.hresult == 0x80041002


def test_the_host_itself_cannot_change_state(client: Client) -> None:
    host = client.session.query("SELECT * FROM Msvm_ComputerSystem")[0]
    assert client.session.invoke(host.path, "RequestStateChange",
                                 RequestedState=3).return_value == 32775


def test_guest_reboot_keeps_it_running_and_restarts_uptime(client: Client) -> None:
    system = client.define()
    client.ok(client.state(system, 2))
    time.sleep(0.2)
    before = client.session.get(system)["OnTimeInMilliseconds"]
    component = client.session.query("SELECT * FROM Msvm_ShutdownComponent")[0]
    result = client.session.invoke(component.path, "InitiateReboot", Force=True, Reason="x")
    assert (result.return_value, result.outputs) == (0, {})
    assert client.enabled_state(system) == RUNNING
    assert client.session.get(system)["OnTimeInMilliseconds"] < before
    assert client.session.invoke(component.path, "InitiateHibernate").return_value == 32770


def test_a_hanging_job_runs_until_killed(client: Client) -> None:
    client.session.host.update_settings(job_polls=-1)
    system = client.define()
    started = client.state(system, 2)
    assert [client.session.get(started.job)["JobState"] for _ in range(3)] == [4, 4, 4]
    assert client.enabled_state(system) == 10
    client.session.invoke(started.job, "RequestStateChange", RequestedState=5)
    assert client.enabled_state(system) == OFF


def test_call_hooks_can_inject_a_fault(client: Client) -> None:
    from hyperv_emulator.providers import base

    def fail_starts(ctx, cls, method, instance, args):  # type: ignore[no-untyped-def]
        if method.name == "RequestStateChange" and args.get("RequestedState") == 2:
            raise base.Refused(32768, "injected failure")

    system = client.define()
    base.CALL_HOOKS.append(fail_starts)
    try:
        job = client.refused(client.state(system, 2), 32768)
    finally:
        base.CALL_HOOKS.remove(fail_starts)
    assert "injected failure" in job["ErrorDescription"]
    assert client.enabled_state(system) == OFF
    client.ok(client.state(system, 2))
