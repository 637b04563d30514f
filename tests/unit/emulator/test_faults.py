"""Injected faults (the Nth call fails, a job hangs) and a host restart."""

from __future__ import annotations

import datetime as _dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import Client

from hyperv_emulator import CimError, Host, init_host, open_host, reset_host, serial
from hyperv_emulator.cimtypes import parse_datetime
from hyperv_emulator.profiles import PRESETS, NumaNode

RUNNING, OFF, SAVED, PAUSED = 2, 3, 6, 9


@pytest.fixture
def host(client: Client) -> Host:
    """The host of conftest's `client`."""
    return client.session.host


def define_result(client: Client, name: str) -> int:
    vssd = client.session.new_instance("Msvm_VirtualSystemSettingData")
    vssd["ElementName"] = name
    return client.call("DefineSystem", SystemSettings=vssd).return_value


# -- failing the Nth call -----------------------------------------------------------------


def test_the_nth_call_fails_with_the_code_as_its_return_value(client: Client,
                                                              host: Host) -> None:
    fault = host.faults.add("DefineSystem", nth=2, code=32768)
    assert (fault.id, fault.seen, fault.fired) == (1, 0, 0)
    assert [define_result(client, f"vm{i}") for i in range(4)] == [0, 32768, 0, 0]
    [after] = host.faults.list()
    assert (after.seen, after.fired, after.spent) == (2, 1, True)
    names = [v["ElementName"] for v in client.session.query(
        "SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine'")]
    assert names == ["vm0", "vm2", "vm3"]  # the failed call changed nothing


def test_a_fault_as_a_failed_job_the_way_real_starts_fail(client: Client, host: Host) -> None:
    system = client.define("vm1")
    host.faults.add("RequestStateChange", code=32778, as_job=True)
    job = client.refused(client.state(system, 2), 32778)
    assert job["JobType"] == 12 and job["ErrorSummaryDescription"] == "'vm1' failed."
    assert "Injected fault #1: call 1 of Msvm_ComputerSystem.RequestStateChange" in job[
        "ErrorDescription"]
    affected = client.session.associators(job.path, assoc_class="Msvm_AffectedJobElement")
    assert [a["ElementName"] for a in affected] == ["vm1"]
    assert client.enabled_state(system) == OFF
    client.ok(client.state(system, 2))  # spent: the next start works


def test_every_call_from_the_nth_on_and_only_on_the_named_class(client: Client,
                                                                host: Host) -> None:
    system = client.define("vm1")
    host.faults.add("RequestStateChange", nth=2, code=32775, times=0,
                    class_name="Msvm_ComputerSystem")
    client.ok(client.state(system, 2))
    assert [client.state(system, s).return_value for s in (3, 3, 9)] == [32775] * 3
    assert host.faults.list()[0].fired == 3
    assert host.faults.clear() == 1
    client.ok(client.state(system, 3))


def test_a_fault_on_a_method_of_a_class_that_is_no_vm(client: Client, host: Host) -> None:
    """Storage classes have no Caption: the injected refusal names no VM (it once failed
    with WBEM_E_INVALID_PROPERTY instead of the fault's code)."""
    host.storage.add_iscsi_lun("iqn.2010-10.org.openstack:v1", 0, size=1 << 20,
                               portal="10.0.0.5:3260")
    storage = "root/Microsoft/Windows/Storage"
    portal = f"\\\\.\\{storage.replace('/', chr(92))}:MSFT_iSCSITargetPortal"
    client.session.invoke(portal, "New", TargetPortalAddress="10.0.0.5")
    [target] = client.session.query("SELECT * FROM MSFT_iSCSITarget", storage)
    assert client.session.invoke(target.path, "Connect",
                                 NodeAddress=target["NodeAddress"]).return_value == 0
    host.faults.add("Disconnect", code=32768, class_name="MSFT_iSCSITarget")
    assert client.session.invoke(target.path, "Disconnect").return_value == 32768
    assert client.session.invoke(target.path, "Disconnect").return_value == 0  # spent


def test_job_methods_count_only_when_a_fault_names_the_job_class(client: Client,
                                                                 host: Host) -> None:
    host.update_settings(job_polls=-1)
    system = client.define("vm1")
    host.faults.add("RequestStateChange", nth=2, code=32768)
    started = client.state(system, 2)
    killed = client.session.invoke(started.job, "RequestStateChange", RequestedState=5)
    assert killed.return_value == 0  # a job's method is not the VM's
    assert host.faults.list()[0].seen == 1
    host.faults.add("RequestStateChange", code=32770, class_name="Msvm_ConcreteJob")
    again = client.state(system, 2)
    assert again.return_value == 32768  # the first fault's 2nd call
    host.update_settings(job_polls=0)
    hung = host.faults.hang("RequestStateChange")
    assert hung.kind == "hang"


def test_faults_set_from_one_process_are_met_in_another(tmp_path: Path) -> None:
    state = tmp_path / "hv.db"
    init_host(state, "ws2022")
    command = [str(Path(sys.executable).parent / "nova-hyperv"), "host", "fault", "add",
               str(state), "--method", "DefineSystem", "--code", "32769"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    with open_host(state).session() as session:  # as nova-compute would
        assert define_result(Client(session), "vm") == 32769


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "DefineSystem", "code": 0}, "code 0 cannot be a fault's error"),
    ({"method": "DefineSystem", "code": 4096}, "4096 means a job started"),
    ({"method": "DefineSystem", "code": 70000}, "codes are 1..65535"),
    ({"method": "Nope", "code": 32768}, "no class of this host .* has a method 'Nope'"),
    ({"method": "DefineSystem", "code": 32768, "class_name": "Msvm_Nope"},
     "class 'Msvm_Nope' does not exist"),
    ({"method": "DefineSystem", "code": 32768, "class_name": "Msvm_ComputerSystem"},
     "Msvm_ComputerSystem has no method 'DefineSystem'"),
    ({"method": "InitiateShutdown", "code": 32768, "as_job": True},
     "InitiateShutdown has no Job output"),
    ({"method": "DefineSystem", "code": 32768, "nth": 0}, "nth 0 must be 1 or more"),
    ({"method": "DefineSystem", "code": 32768, "times": -1}, "times -1 must be 0"),
])
def test_bad_faults_are_refused_naming_the_problem(host: Host, kwargs: dict[str, object],
                                                   message: str) -> None:
    method = kwargs.pop("method")
    with pytest.raises(ValueError, match=message):
        host.faults.add(method, **kwargs)  # type: ignore[arg-type]
    assert host.faults.list() == []


def test_remove_and_reset_clear_faults(host: Host) -> None:
    first = host.faults.add("DefineSystem", code=32768)
    host.faults.hang("DestroySystem")
    with pytest.raises(ValueError, match=r"no fault #9 on this host \(faults: #1, #2\)"):
        host.faults.remove(9)
    assert host.faults.remove(first.id).id == 1
    assert [f.method for f in host.faults.list()] == ["DestroySystem"]
    reset_host(host.path)
    assert host.faults.list() == []


# -- hanging a job ----------------------------------------------------------------------------


def test_a_hung_start_job_runs_until_killed(client: Client, host: Host) -> None:
    system = client.define("vm1")
    host.faults.hang("RequestStateChange")
    started = client.state(system, 2)
    assert started.return_value == 4096
    job = client.session.get(started.job)
    assert (job["JobState"], job["Cancellable"]) == (4, True)
    assert [client.session.get(started.job)["JobState"] for _ in range(5)] == [4] * 5
    assert client.enabled_state(system) == 10  # Starting, for as long as the job runs
    assert client.session.invoke(started.job, "RequestStateChange",
                                 RequestedState=5).return_value == 0
    assert client.session.get(started.job)["JobState"] == 9
    assert client.enabled_state(system) == OFF
    client.ok(client.state(system, 2))  # only that call hung


def test_a_hung_job_without_work_to_undo_can_still_be_killed(client: Client,
                                                             host: Host) -> None:
    system = client.define("vm1")
    host.faults.hang("DestroySystem")
    result = client.call("DestroySystem", AffectedSystem=system)
    assert client.session.get(result.job)["JobState"] == 4
    assert client.session.invoke(result.job, "RequestStateChange",
                                 RequestedState=5).return_value == 0
    assert client.session.get(result.job)["JobState"] == 9


# -- restarting the host ------------------------------------------------------------------------


def _vm(client: Client, name: str, shutdown: int, startup: int, state: int) -> str:
    system = client.define(name, AutomaticShutdownAction=shutdown,
                           AutomaticStartupAction=startup)
    for step in {RUNNING: [2], PAUSED: [2, 9], SAVED: [2, 6], OFF: []}[state]:
        client.ok(client.state(system, step))
    return system


def test_a_restart_follows_each_vms_automatic_actions(client: Client, host: Host) -> None:
    cases = {  # name: (shutdown action, startup action, state before, after going down, after)
        "off-none": (2, 2, RUNNING, OFF, OFF),
        "off-if-active": (2, 3, RUNNING, OFF, RUNNING),
        "save-none": (3, 2, RUNNING, SAVED, SAVED),
        "save-if-active": (3, 3, PAUSED, SAVED, RUNNING),
        "shutdown-always": (4, 4, RUNNING, OFF, RUNNING),
        "stopped-if-active": (3, 3, OFF, OFF, OFF),
        "stopped-always": (2, 4, OFF, OFF, RUNNING),
        "saved-if-active": (3, 3, SAVED, SAVED, SAVED),
    }
    systems = {name: _vm(client, name, down, up, before)
               for name, (down, up, before, _, _) in cases.items()}
    booted = host.session().query("SELECT * FROM Win32_OperatingSystem",
                                  "root/cimv2")[0]["LastBootUpTime"]
    time.sleep(0.01)
    outcomes = {o.name: o for o in host.restart()}
    names = {RUNNING: "Running", OFF: "Off", SAVED: "Saved", PAUSED: "Paused"}
    for name, (_, _, before, down, after) in cases.items():
        outcome = outcomes[name]
        assert (outcome.before, outcome.after_shutdown, outcome.after) == (
            names[before], names[down], names[after]), name
        assert client.enabled_state(systems[name]) == after
    system = client.session.query("SELECT * FROM Win32_OperatingSystem", "root/cimv2")[0]
    assert parse_datetime(system["LastBootUpTime"]) > parse_datetime(booted)
    assert parse_datetime(system["LastBootUpTime"]) > (
        _dt.datetime.now(_dt.UTC) - _dt.timedelta(seconds=30))
    running = sum(1 for case in cases.values() if case[4] == RUNNING)
    free_kb = system["FreePhysicalMemory"]
    assert free_kb == (PRESETS["ws2022"].memory_mb - running * 1024) * 1024


def test_a_restart_forgets_jobs_and_cancels_what_was_under_way(client: Client,
                                                               host: Host) -> None:
    system = client.define("vm1")
    done = client.ok(client.state(system, 2)).job
    host.update_settings(job_polls=-1)
    stopping = client.state(system, 3).job
    assert client.enabled_state(system) == 4  # Stopping
    host.update_settings(job_polls=0)
    host.restart()  # the stop never finished: the VM was running; it comes back
    assert client.enabled_state(system) == RUNNING
    for job in (done, stopping):
        with pytest.raises(CimError) as info:
            client.session.get(job)
        assert info.value.hresult == 0x80041002


def test_a_vm_that_cannot_start_after_a_restart_stays_down(tmp_path: Path) -> None:
    profile = PRESETS["ws2022"].replace(numa_nodes=(NumaNode(4096, 4),))
    host = init_host(tmp_path / "small.db", profile)
    with host.session() as session:
        client = Client(session)
        first = _vm(client, "first", 2, 4, OFF)  # always start
        second = _vm(client, "second", 3, 3, RUNNING)
        memory = client.devices(first, "Msvm_MemorySettingData")[0]
        memory["VirtualQuantity"] = 3584  # leaves 512 MB: not enough for second's 1024
        client.ok(client.call("ModifyResourceSettings", ResourceSettings=[memory]))
        client.ok(client.state(second, 9))  # paused, then saved by the restart
        outcomes = {o.name: o for o in host.restart()}
        assert outcomes["first"].after == "Running"  # sequence 0, creation order: first
        assert outcomes["second"].after == "Saved"
        assert "could not start: Not enough memory" in outcomes["second"].note
        assert client.enabled_state(second) == SAVED


def test_a_restart_boots_the_guests_again(short_dir: Path) -> None:
    host = init_host(short_dir / "hv.db", "ws2022")
    with host.session() as session:
        client = Client(session)
        system = client.define("guest", AutomaticShutdownAction=2, AutomaticStartupAction=4)
        port = client.devices(system, "Msvm_SerialPortSettingData")[0]
        port["Connection"] = [r"\\.\pipe\guest"]
        client.ok(client.call("ModifyResourceSettings", ResourceSettings=[port]))
        client.ok(client.state(system, 2))
        host.restart()
        sock = serial.connect(host, r"\\.\pipe\guest")
        data = b""
        while b"login: " not in data:
            data += sock.recv(4096)
        assert data.startswith(b"Hyper-V emulated guest, boot 2\r\n")
        sock.close()
        assert session.get(system)["OnTimeInMilliseconds"] < 5000

