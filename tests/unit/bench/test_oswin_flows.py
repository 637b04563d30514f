"""os-win's flows run end to end on the emulated host, with stable, positive counts,
and make the VMs the operations describe (read back from the host itself)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.flows import OPERATION_KEYS, Scenario, run_scenario
from bench.oswin_flows import OsWinFlows

from hyperv_emulator.host import Host
from hyperv_emulator.inventory import describe

Fresh = Callable[[str], tuple[Host, Scenario]]
Open = Callable[[Host], OsWinFlows]


def _vms(host: Host) -> dict[str, dict[str, Any]]:
    with host.session() as session:
        return {vm["name"]: vm for vm in describe(session)["vms"]}


def test_every_operation_counts_the_same_on_two_fresh_hosts(fresh: Fresh,
                                                            open_oswin: Open) -> None:
    runs = []
    for name in ("first", "second"):
        host, scenario = fresh(name)
        runs.append(run_scenario(open_oswin(host), scenario))
    first, second = runs
    assert set(first.counts) == set(OPERATION_KEYS)
    assert all(trips is not None and trips.total > 0 for trips in first.counts.values())
    assert first.counts == second.counts
    assert first.label == "os-win 5.9.0" and first.notes


def test_after_the_scenario_the_basic_vm_runs_and_the_full_one_is_gone(
        fresh: Fresh, open_oswin: Open) -> None:
    host, scenario = fresh("run")
    run_scenario(open_oswin(host), scenario)
    vms = _vms(host)
    assert set(vms) == {scenario.basic.name}
    basic = vms[scenario.basic.name]
    assert (basic["generation"], basic["state"]) == (1, "Running")
    assert basic["notes"] == [scenario.basic.uuid]
    assert basic["firmware"]["boot_order"] == ["ide", "cd", "network", "floppy"]
    assert basic["nics"][0]["switch"] == "external"
    assert basic["serial_ports"][0]["pipe"] == scenario.basic.pipe("rw")
    ide = next(c for c in basic["storage"] if c["controller"] == "IDE 0")
    assert ide["drives"][0]["path"] == str(scenario.basic.root)


def test_spawn_full_makes_the_full_featured_vm(fresh: Fresh, open_oswin: Open) -> None:
    host, scenario = fresh("full")
    flows = open_oswin(host)
    full = scenario.full
    flows.spawn(full)
    vm = _vms(host)[full.name]
    assert vm["state"] == "Running" and vm["generation"] == 2
    assert vm["firmware"]["secure_boot"] is True
    assert vm["firmware"]["secure_boot_template"] == "MicrosoftUEFICertificateAuthority"
    assert len(vm["firmware"]["boot_order"]) == 6  # 3 disks, the volume, 2 NICs
    assert vm["numa"]["virtual_numa"] is True
    assert vm["memory"]["max_per_numa_node_mb"] == 2048
    assert vm["processors"] == {"count": 4, "max_per_numa_node": 2,
                                "nested_virtualization": True}
    drives = vm["storage"][0]["drives"]
    assert [d["path"] for d in drives[:3]] == [str(p) for p in full.local_disks]
    assert [d["iops_limit"] for d in drives[:3]] == [500, 500, 500]
    assert "Msvm_DiskDrive" in drives[3]["path"]
    assert [n["switch"] for n in vm["nics"]] == ["external", "external"]
    assert [p["pipe"] for p in vm["serial_ports"]] == [full.pipe("ro"), full.pipe("rw")]
    assert flows.get_info(full) == "running"
    assert flows.list_instances() == [full.name]


def test_hot_plug_operations_change_the_running_vm(fresh: Fresh, open_oswin: Open) -> None:
    host, scenario = fresh("hotplug")
    flows = open_oswin(host)
    full = scenario.full
    flows.spawn(full)
    flows.attach_volume(full, scenario.extra_volume)
    flows.attach_nic(full, scenario.extra_nic)
    vm = _vms(host)[full.name]
    assert len(vm["storage"][0]["drives"]) == 5
    assert [n["name"] for n in vm["nics"]][-1] == scenario.extra_nic.port_id
    flows.detach_volume(full, scenario.extra_volume)
    flows.detach_nic(full, scenario.extra_nic)
    flows.power_off(full)
    assert flows.get_info(full) == "shutdown"
    vm = _vms(host)[full.name]
    assert len(vm["storage"][0]["drives"]) == 4 and len(vm["nics"]) == 2
    flows.power_on(full)
    assert flows.sync_power_states([full]) == {full.name: "running"}
    flows.destroy(full)
    assert flows.list_instances() == []


def test_host_resources_read_through_oswin(fresh: Fresh, open_oswin: Open) -> None:
    host, _ = fresh("resources")
    flows = open_oswin(host)
    resources = flows.get_available_resource()
    assert resources["vcpus"] == 32 and resources["numa_cells"] == 2
    assert resources["memory_mb"] == 131072
    inventory = flows.update_provider_tree()
    assert inventory["VCPU"]["total"] == 32
