"""Finding, listing, powering and removing VMs on the emulated host."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.hyperv.conftest import UUID, files_for, inventory, plan_for

from hyperv_emulator import Host
from nova_hyperv import cim
from nova_hyperv.hyperv import HyperVClient, RequestedState, Vm, VmNotFound, VmState

OTHER = "99999999-8888-7777-6666-555555555555"


def make(client: HyperVClient, tmp_path: Path, name: str = "instance-00000001",
         uuid: str = UUID) -> Vm:
    plan = plan_for(client, name=name, uuid=uuid)
    return client.create_vm(plan, files=files_for(plan, tmp_path), switch=None,
                            data_root=str(tmp_path))


def test_power_cycle(client: HyperVClient, host: Host, tmp_path: Path) -> None:
    vm = make(client, tmp_path)
    steps = [
        (RequestedState.START, VmState.RUNNING, "Running"),
        (RequestedState.PAUSE, VmState.PAUSED, "Paused"),
        (RequestedState.START, VmState.RUNNING, "Running"),
        (RequestedState.SAVE, VmState.SAVED, "Saved"),
        (RequestedState.START, VmState.RUNNING, "Running"),
        (RequestedState.TURN_OFF, VmState.OFF, "Off"),
    ]
    for requested, state, shown in steps:
        vm = client.set_state(client.find_vm(vm.name), requested)
        assert vm.state == state
        assert inventory(host)[0]["state"] == shown


def test_asking_for_the_current_state_is_a_success(client: HyperVClient,
                                                   tmp_path: Path) -> None:
    vm = make(client, tmp_path)
    assert client.set_state(vm, RequestedState.TURN_OFF).state == VmState.OFF
    vm = client.set_state(vm, RequestedState.START)
    # Hyper-V answers 32775 to "start" on a running VM; the client reads and accepts.
    stale = client.find_vm(vm.name)
    stale.state = VmState.OFF
    assert client.set_state(stale, RequestedState.START).state == VmState.RUNNING


def test_impossible_change_is_a_typed_error(client: HyperVClient, tmp_path: Path) -> None:
    from nova_hyperv.hyperv import VmStateError

    vm = make(client, tmp_path)
    with pytest.raises(VmStateError, match="off and cannot go to paused"):
        client.set_state(vm, RequestedState.PAUSE)


def test_soft_shutdown_and_reboots(client: HyperVClient, tmp_path: Path) -> None:
    vm = client.set_state(make(client, tmp_path), RequestedState.START)
    assert client.reboot(vm, soft=True, soft_timeout=5) == "soft"
    assert client.find_vm(vm.name).state == VmState.RUNNING
    assert client.reboot(vm, soft=False, soft_timeout=5) == "hard"
    assert client.soft_shutdown(client.find_vm(vm.name), timeout=5) is True
    assert client.find_vm(vm.name).state == VmState.OFF


def test_soft_shutdown_without_the_guest_service_gives_up_after_the_timeout(
        client: HyperVClient, host: Host, tmp_path: Path) -> None:
    vm = make(client, tmp_path)
    with host.session() as session:  # turn the guest's shutdown service off
        [setting] = session.query("SELECT * FROM Msvm_ShutdownComponentSettingData WHERE "
                                  f"InstanceID LIKE 'Microsoft:{vm.guid}%'")
        setting["EnabledState"] = 3
        [service] = session.query("SELECT * FROM Msvm_VirtualSystemManagementService")
        assert session.invoke(service, "ModifyResourceSettings",
                              ResourceSettings=[setting]).return_value == 0
    vm = client.set_state(vm, RequestedState.START)
    assert client.soft_shutdown(vm, timeout=0.3, retry_interval=0.1) is False
    assert client.find_vm(vm.name).state == VmState.RUNNING
    assert client.reboot(vm, soft=True, soft_timeout=0.2) == "hard"


def test_snapshot_lists_every_vm_in_one_round_trip(client: HyperVClient,
                                                    tmp_path: Path) -> None:
    for index in range(5):
        make(client, tmp_path / str(index), name=f"instance-{index}",
             uuid=f"00000000-0000-0000-0000-00000000000{index}")
    client.service  # noqa: B018 - cached for the driver's life
    with cim.count_round_trips(client.session, "list") as stats:
        snapshot = client.snapshot()
    assert sorted(s.name for s in snapshot.summaries) == [f"instance-{i}" for i in range(5)]
    assert snapshot.by_uuid["00000000-0000-0000-0000-000000000003"].state == VmState.OFF
    if client.session.counters is not None:
        assert stats.as_dict()["total"] == 1


def test_the_cached_snapshot_follows_the_drivers_own_changes(client: HyperVClient,
                                                              tmp_path: Path) -> None:
    uuids = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(3)]
    vms = [make(client, tmp_path / str(i), name=f"instance-{i}", uuid=u)
           for i, u in enumerate(uuids)]
    client.snapshot()
    started = client.set_state(vms[1], RequestedState.START)
    client.remember(uuids[1], started)
    cached = client.cached_snapshot(max_age=60)
    assert cached is not None
    assert cached.by_uuid[uuids[1]].state == VmState.RUNNING
    assert [(s.name, s.state) for s in cached.summaries].count(
        ("instance-1", VmState.RUNNING)) == 1
    assert len(cached.summaries) == 3  # replaced, not added
    client.forget(uuids[0])
    assert sorted(s.name for s in client.cached_snapshot(max_age=60).summaries) == \
        ["instance-1", "instance-2"]
    assert uuids[0] not in cached.by_uuid


def test_find_by_name_and_note(client: HyperVClient, tmp_path: Path) -> None:
    mine = make(client, tmp_path / "a")
    make(client, tmp_path / "b", uuid=OTHER)  # Hyper-V allows two VMs of one name
    assert client.find_vm("instance-00000001", UUID).guid == mine.guid
    assert client.find_vm("instance-00000001", OTHER).guid != mine.guid
    with pytest.raises(VmNotFound):
        client.find_vm("instance-00000001", "12345678-1234-1234-1234-123456789012")
    with pytest.raises(VmNotFound):
        client.find_vm("it's not there")
    assert client.owns(mine, UUID) and not client.owns(mine, OTHER)


def test_destroy_turns_off_and_removes(client: HyperVClient, host: Host,
                                       tmp_path: Path) -> None:
    vm = client.set_state(make(client, tmp_path), RequestedState.START)
    client.destroy(client.find_vm(vm.name))
    assert inventory(host) == []
