"""NICs, switch ports, VLANs and MAC spoofing on the emulated host, over both adapters."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.hyperv.conftest import files_for, inventory, open_client, plan_for

from hyperv_emulator import Host, init_host
from hyperv_emulator import wmi as facade
from hyperv_emulator.profiles import PRESETS, VSwitch
from nova_hyperv import cim, rules
from nova_hyperv.cim import CimJobFailed
from nova_hyperv.hyperv import HyperVClient, RequestedState, Vm

MAC_A, MAC_B = "fa:16:3e:00:00:0a", "fa:16:3e:00:00:0b"


def make(client: HyperVClient, tmp_path: Path, *vifs: rules.Vif,
         machine_type: str = "hyperv-gen2", counted: str = "create") -> Vm:
    plan = plan_for(client, vifs=vifs, properties={"hw_machine_type": machine_type})
    switch = client.switch(None) if plan.nics else None
    files = files_for(plan, tmp_path)
    client.service  # noqa: B018 - looked up once per client, before the count
    with cim.count_round_trips(client.session, counted):
        return client.create_vm(plan, files=files, switch=switch, data_root=str(tmp_path))


def nics(host: Host) -> dict[str, tuple[str | None, int | None, bool]]:
    return {n["name"]: (n["switch"], n["vlan"], n["mac_spoofing"])
            for n in inventory(host)[0]["nics"]}


def cost(client: HyperVClient, name: str) -> int:
    return int(client.session.counters.snapshot().get(name, {}).get("total", 0))


def test_spawn_sets_vlan_and_mac_spoofing_with_one_call_per_port_that_needs_them(
        client: HyperVClient, host: Host, tmp_path: Path) -> None:
    make(client, tmp_path / "a", rules.Vif("plain", MAC_A), counted="plain")
    client.destroy(client.find_vm("instance-00000001"))
    make(client, tmp_path / "b", rules.Vif("plain", MAC_A),
         rules.Vif("tagged", MAC_B, vlan=100, port_security=False), counted="tagged")
    assert nics(host) == {"plain": ("external", None, False),
                          "tagged": ("external", 100, True)}
    # One AddFeatureSettings; through PyMI its reference argument is fetched first.
    pymi = type(client.session).__name__ == "WmiSession"
    assert cost(client, "tagged") == cost(client, "plain") + (2 if pymi else 1)


def test_hot_add_and_remove_on_a_running_generation_2_vm(client: HyperVClient, host: Host,
                                                        tmp_path: Path) -> None:
    vm = client.set_state(make(client, tmp_path), RequestedState.START)
    assert client.generation(vm) == 2
    nic = rules.plan_nic(rules.Vif("hot", MAC_A, vlan="7", port_security=False))
    client.add_nic(vm, nic, client.switch(None))
    assert nics(host) == {"hot": ("external", 7, True)}
    assert client.find_nic(vm, "nope") is None
    found = client.find_nic(vm, "hot")
    assert found is not None and found.mac == "FA163E00000A"
    client.remove_nic(found)
    assert nics(host) == {}
    assert inventory(host)[0]["state"] == "Running"


def test_a_running_generation_1_vm_refuses_and_nothing_is_left(client: HyperVClient,
                                                               host: Host,
                                                               tmp_path: Path) -> None:
    vm = client.set_state(make(client, tmp_path, machine_type="hyperv-gen1"),
                          RequestedState.START)
    assert client.generation(vm) == 1
    with pytest.raises(CimJobFailed) as raised:
        client.add_nic(vm, rules.plan_nic(rules.Vif("hot", MAC_A)), client.switch(None))
    assert raised.value.error_code == 32775
    assert nics(host) == {}


def test_a_failed_connection_removes_the_nic_it_added(client: HyperVClient, host: Host,
                                                      tmp_path: Path) -> None:
    vm = make(client, tmp_path)
    host.faults.add("AddResourceSettings", nth=2, code=32768, as_job=True)
    with pytest.raises(CimJobFailed):
        client.add_nic(vm, rules.plan_nic(rules.Vif("p", MAC_A)), client.switch(None))
    assert nics(host) == {}


@pytest.mark.parametrize("adapter", ["emulated", "wmi"])
def test_connect_changes_only_what_differs(tmp_path: Path, adapter: str) -> None:
    profile = PRESETS["ws2022"].replace(vswitches=(VSwitch("external"), VSwitch("lab",
                                                                                 "private")))
    host = init_host(tmp_path / "host.db", profile)
    client = open_client(host, adapter)
    try:
        external, lab = client.switch("external"), client.switch("lab")
        vm = make(client, tmp_path, rules.Vif("p", MAC_A))

        def plug(switch: object = external, **port: object) -> bool:
            nic = rules.plan_nic(rules.Vif("p", MAC_A, **port))  # type: ignore[arg-type]
            return client.connect(vm, client.ports(vm)["p"], nic, switch)  # type: ignore[arg-type]

        counted = client.session.counters is not None
        with cim.count_round_trips(client.session, "as-is"):
            assert plug() is False
        if counted:  # reading the ports (2 queries) and nothing else
            assert cost(client, "as-is") == 2
        assert plug(vlan=10, port_security=False) is True
        assert nics(host) == {"p": ("external", 10, True)}
        assert plug(vlan=20, port_security=False) is True  # VLAN: removed and added
        assert nics(host) == {"p": ("external", 20, True)}
        assert plug() is True  # no VLAN, spoofing off (modified in place)
        assert nics(host) == {"p": ("external", None, False)}
        assert plug(lab, vlan=5) is True
        assert nics(host) == {"p": ("lab", 5, False)}
        assert client.disconnect(client.ports(vm)["p"]) is True
        assert nics(host) == {"p": (None, None, False)}
        assert client.disconnect(client.ports(vm)["p"]) is False
        assert plug(vlan=6) is True  # reconnected, with its VLAN
        assert nics(host) == {"p": ("external", 6, False)}
    finally:
        client.session.close()
        if adapter == "wmi":
            facade.unbind()
