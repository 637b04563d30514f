"""Starting VMs on NUMA nodes: the usage guide's vNUMA note, the placement policy,
NUMA spanning, and host memory as clients read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.emulator.hvclient import Client

from hyperv_emulator import init_host
from hyperv_emulator.inventory import describe
from hyperv_emulator.profiles import PRESETS, NumaNode
from hyperv_emulator.providers.hostmemory import (
    NoRoom,
    VirtualNode,
    place,
    split,
    virtual_nodes,
)

OFF = 3
GB = 1024


def numa_host(tmp_path: Path, *nodes: int, preset: str = "ws2022", lps: int = 8) -> Client:
    profile = PRESETS[preset].replace(numa_nodes=tuple(NumaNode(mb, lps) for mb in nodes))
    return Client(init_host(tmp_path / "numa.db", profile).session())


def set_spanning(client: Client, enabled: bool) -> None:
    settings_data = client.session.query(
        "SELECT * FROM Msvm_VirtualSystemManagementServiceSettingData")[0]
    settings_data["NumaSpanningEnabled"] = enabled
    result = client.ok(client.call("ModifyServiceSettings", SettingData=settings_data))
    assert client.session.get(result.job)["JobType"] == 4


def make_vm(client: Client, name: str, memory_mb: int, vcpus: int = 1, *,
            per_node_mb: int | None = None, per_node_cpus: int | None = None,
            dynamic: bool = False) -> str:
    """A VM as compute-hyperv shapes one: memory and vCPUs, with its vNUMA maxima."""
    system = client.define(name, VirtualNumaEnabled=not dynamic)
    memory = client.devices(system, "Msvm_MemorySettingData")[0]
    memory["VirtualQuantity"] = memory_mb
    memory["MaxMemoryBlocksPerNumaNode"] = per_node_mb or memory_mb
    if dynamic:
        memory["DynamicMemoryEnabled"] = True
        memory["Reservation"] = 512
        memory["Limit"] = memory_mb * 4
    processor = client.devices(system, "Msvm_ProcessorSettingData")[0]
    processor["VirtualQuantity"] = vcpus
    processor["MaxProcessorsPerNumaNode"] = per_node_cpus or vcpus
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[memory, processor]))
    return system


def free_per_node(client: Client) -> list[int]:
    nodes = client.session.query("SELECT * FROM Msvm_NumaNode")
    return [n["CurrentlyConsumableMemoryBlocks"] for n in
            sorted(nodes, key=lambda n: n["NodeID"])]


def layout(client: Client) -> dict[int, list[str]]:
    """Host node -> the running VMs on it, as `A(0)` for virtual node 0 of a vNUMA VM."""
    nodes: dict[int, list[str]] = {}
    for vm in describe(client.session)["vms"]:
        vnodes = vm["numa_placement"]
        for vnode in vnodes:
            label = vm["name"] + (f"({vnode['virtual_node']})" if len(vnodes) > 1 else "")
            for node in vnode["memory_mb"]:
                nodes.setdefault(node, []).append(label)
    return nodes


def test_usage_guide_vnuma_note_a_stopped_vnuma_instance_may_not_fit_again(
        tmp_path: Path) -> None:
    """The guide's vNUMA note, step by step: host A with NUMA nodes 0 and 1 of 16 GB and
    NUMA spanning disabled (the guide's NUMA setup); instance A 16 GB over 2 vNUMA nodes
    (8 GB each), B and C 6 GB, D and E 2 GB, one vNUMA node each."""
    client = numa_host(tmp_path, 16 * GB, 16 * GB)
    set_spanning(client, False)
    vms = {
        "A": make_vm(client, "A", 16 * GB, 4, per_node_mb=8 * GB, per_node_cpus=2),
        "B": make_vm(client, "B", 6 * GB, 2),
        "C": make_vm(client, "C", 6 * GB, 2),
        "D": make_vm(client, "D", 2 * GB),
        "E": make_vm(client, "E", 2 * GB),
    }
    for name in "ABCDE":
        client.ok(client.state(vms[name], 2))
    # "Topology-wise, they would fit as follows: node 0: A(0), B, D; node 1: A(1), C, E"
    assert layout(client) == {0: ["A(0)", "B", "D"], 1: ["A(1)", "C", "E"]}
    assert free_per_node(client) == [0, 0]
    # "All instances are stopped, then started in this order: B, D, E, C"
    for name in "ABCDE":
        client.ok(client.state(vms[name], 3))
    assert free_per_node(client) == [16 * GB, 16 * GB]
    for name in "BDEC":
        client.ok(client.state(vms[name], 2))
    # "node 0: B; node 1: D, E, C"
    assert layout(client) == {0: ["B"], 1: ["C", "D", "E"]}
    assert free_per_node(client) == [10 * GB, 6 * GB]
    # "Starting A will fail, as NUMA node 1 has 10 GB used and A needs 8 GB on that node"
    job = client.refused(client.state(vms["A"], 2), 32778)
    assert job["JobType"] == 12
    assert job["ErrorSummaryDescription"] == "'A' failed to start."
    text = job["ErrorDescription"]
    assert "NUMA spanning is disabled" in text and "virtual NUMA node 1 needs 8192 MB" in text
    assert ("(node 0: 10240 MB free, node 1: 6144 MB free; virtual NUMA node 0 would take "
            "8192 MB of node 0)") in text
    assert client.enabled_state(vms["A"]) == OFF
    assert free_per_node(client) == [10 * GB, 6 * GB]  # nothing of A stayed


def test_with_numa_spanning_the_same_instance_starts_across_nodes(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 16 * GB, 16 * GB)
    a = make_vm(client, "A", 16 * GB, 4, per_node_mb=8 * GB, per_node_cpus=2)
    for name in "BDEC":
        size = 6 * GB if name in "BC" else 2 * GB
        client.ok(client.state(make_vm(client, name, size), 2))
    client.ok(client.state(a, 2))  # spanning is on by default
    placement = next(v for v in describe(client.session)["vms"] if v["name"] == "A")[
        "numa_placement"]
    assert [v["memory_mb"] for v in placement] == [{0: 8 * GB}, {0: 2 * GB, 1: 6 * GB}]
    assert free_per_node(client) == [0, 0]
    summary = client.call("GetSummaryInformation", SettingData=[str(client.vssd(a).path)],
                          RequestedInformation=[123])["SummaryInformation"][0]
    assert summary["MemorySpansPhysicalNumaNodes"] is True
    assert client.session.get(a)["NumberOfNumaNodes"] == 2


def test_a_vm_fits_on_the_node_with_the_most_free_memory(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 8 * GB, 8 * GB, 8 * GB)
    first = make_vm(client, "first", 4 * GB)
    second = make_vm(client, "second", 2 * GB)
    third = make_vm(client, "third", 6 * GB)
    for system in (first, second, third):
        client.ok(client.state(system, 2))
    # ties go to the lowest node; then the emptiest node wins
    assert layout(client) == {0: ["first"], 1: ["second"], 2: ["third"]}
    assert free_per_node(client) == [4 * GB, 6 * GB, 2 * GB]


def test_running_vms_hold_host_memory_everywhere_a_client_reads_it(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 16 * GB, 16 * GB)
    big = make_vm(client, "big", 12 * GB, 6, per_node_mb=6 * GB, per_node_cpus=3)
    client.ok(client.state(big, 2))
    session = client.session
    nodes = sorted(session.query("SELECT * FROM Msvm_NumaNode"), key=lambda n: n["NodeID"])
    assert [n["CurrentlyConsumableMemoryBlocks"] for n in nodes] == [10 * GB, 10 * GB]
    assert [n["CurrentlyAssignedVirtualProcessors"] for n in nodes] == [3, 3]
    memory = sorted(session.query("SELECT * FROM Msvm_Memory WHERE Primordial = TRUE"),
                    key=lambda m: m["DeviceID"])
    assert [m["ConsumableBlocks"] for m in memory] == [10 * GB, 10 * GB]
    system = session.query("SELECT * FROM Win32_OperatingSystem", "root/cimv2")[0]
    assert system["FreePhysicalMemory"] == 20 * GB * 1024
    pool = session.query("SELECT * FROM Msvm_ResourcePool WHERE ResourceType = 4 AND "
                         "Primordial = TRUE")[0]
    assert pool["CurrentlyConsumedResource"] == 12 * GB
    client.ok(client.state(big, 3))
    assert free_per_node(client) == [16 * GB, 16 * GB]
    assert session.query("SELECT * FROM Win32_OperatingSystem", "root/cimv2")[0][
        "FreePhysicalMemory"] == 32 * GB * 1024


def test_paused_vms_keep_their_memory_and_saved_ones_release_it(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 8 * GB, 8 * GB)
    system = make_vm(client, "vm", 4 * GB)
    client.ok(client.state(system, 2))
    client.ok(client.state(system, 9))
    assert free_per_node(client) == [4 * GB, 8 * GB]
    client.ok(client.state(system, 6))
    assert free_per_node(client) == [8 * GB, 8 * GB]
    client.ok(client.state(system, 2))  # restored: placed again
    assert free_per_node(client) == [4 * GB, 8 * GB]


def test_dynamic_memory_vms_start_at_their_startup_memory(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 8 * GB, 8 * GB)
    system = make_vm(client, "dyn", 2 * GB, dynamic=True)  # maximum 8 GB
    client.ok(client.state(system, 2))
    assert free_per_node(client) == [6 * GB, 8 * GB]


def test_starting_beyond_host_memory_fails_even_with_spanning(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 4 * GB, 4 * GB)
    client.ok(client.state(make_vm(client, "one", 6 * GB, per_node_mb=8 * GB), 2))
    other = make_vm(client, "two", 4 * GB)
    job = client.refused(client.state(other, 2), 32778)
    assert "it needs 4096 MB and the host has 2048 MB free" in job["ErrorDescription"]
    assert client.enabled_state(other) == OFF


def test_numa_spanning_disabled_keeps_a_vm_within_one_node(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 4 * GB, 4 * GB)
    set_spanning(client, False)
    wide = make_vm(client, "wide", 6 * GB, per_node_mb=8 * GB)
    job = client.refused(client.state(wide, 2), 32778)
    assert "its memory needs 6144 MB on one host NUMA node" in job["ErrorDescription"]
    set_spanning(client, True)  # takes effect at the next start
    client.ok(client.state(wide, 2))
    assert free_per_node(client) == [0, 2 * GB]


def test_modify_service_settings_refuses_what_it_cannot_change(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 4 * GB)
    query = "SELECT * FROM Msvm_VirtualSystemManagementServiceSettingData"
    data = client.session.query(query)[0]
    data["MaximumMacAddress"] = "00155D38FFFG"
    client.refused(client.call("ModifyServiceSettings", SettingData=data), 32773)
    data = client.session.query(query)[0]
    data["InstanceID"] = "Microsoft:OTHER"
    job = client.refused(client.call("ModifyServiceSettings", SettingData=data), 32773)
    assert "is not this host's settings" in job["ErrorDescription"]
    data = client.session.query(query)[0]
    data["HbaLunTimeout"] = 99
    job = client.refused(client.call("ModifyServiceSettings", SettingData=data), 32773)
    assert "HbaLunTimeout cannot be changed" in job["ErrorDescription"]
    assert client.session.query(query)[0]["NumaSpanningEnabled"] is True


def test_a_2012r2_host_places_vms_too(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 4 * GB, 4 * GB, preset="ws2012r2")
    system = make_vm(client, "old", 2 * GB)
    client.ok(client.state(system, 2))
    assert free_per_node(client) == [2 * GB, 4 * GB]


# -- the policy on its own ---------------------------------------------------------------


def test_virtual_nodes_follow_the_per_node_maxima() -> None:
    assert virtual_nodes(16384, 4, vnuma=True, max_memory_per_node=8192,
                         max_processors_per_node=2) == [VirtualNode(8192, 2)] * 2
    # processors can ask for more nodes than memory does
    assert virtual_nodes(4096, 6, vnuma=True, max_memory_per_node=8192,
                         max_processors_per_node=2) == [
        VirtualNode(1366, 2), VirtualNode(1366, 2), VirtualNode(1364, 2)]
    assert virtual_nodes(16384, 4, vnuma=False, max_memory_per_node=8192,
                         max_processors_per_node=2) == [VirtualNode(16384, 4)]
    assert split(10, 3, 2) == [4, 4, 2] and split(7, 2) == [4, 3]


def test_place_prefers_nodes_the_vm_does_not_use_yet() -> None:
    placed = place([16384, 16384], [VirtualNode(4096, 1)] * 2, spanning=False)
    assert [p.memory for p in placed] == [{0: 4096}, {1: 4096}]
    with pytest.raises(NoRoom, match=r"needs 4096 MB on one host NUMA node \(node 0: 3072 MB"):
        place([3072, 3072], [VirtualNode(4096, 1)], spanning=False)


@settings(max_examples=150, deadline=None)
@given(free=st.lists(st.integers(0, 64).map(lambda n: n * 512), min_size=1, max_size=4),
       demand=st.lists(st.integers(1, 32).map(lambda n: n * 512), min_size=1, max_size=4),
       spanning=st.booleans())
def test_placement_never_takes_more_than_a_node_has(free: list[int], demand: list[int],
                                                    spanning: bool) -> None:
    vnodes = [VirtualNode(mb, 1) for mb in demand]
    try:
        placed = place(free, vnodes, spanning=spanning)
    except NoRoom:
        fits_somewhere = sum(demand) <= sum(free)
        assert not spanning or not fits_somewhere
        return
    taken = [0] * len(free)
    for vnode, placement in zip(vnodes, placed, strict=True):
        assert sum(placement.memory.values()) == vnode.memory_mb
        assert spanning or len(placement.memory) == 1
        assert placement.home in placement.memory
        for node, mb in placement.memory.items():
            taken[node] += mb
    assert all(t <= f for t, f in zip(taken, free, strict=True))


def test_resizing_a_running_vm_takes_or_gives_back_host_memory(tmp_path: Path) -> None:
    client = numa_host(tmp_path, 8 * GB, 8 * GB)
    system = make_vm(client, "grow", 4 * GB)
    client.ok(client.state(system, 2))
    memory = client.devices(system, "Msvm_MemorySettingData")[0]
    memory["VirtualQuantity"] = 10 * GB  # 4 GB more on its node, 2 GB from the other
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[memory]))
    assert free_per_node(client) == [0, 6 * GB]
    summary = client.call("GetSummaryInformation", SettingData=[str(client.vssd(system).path)],
                          RequestedInformation=[103])["SummaryInformation"][0]
    assert summary["MemoryUsage"] == 10 * GB
    memory["VirtualQuantity"] = 18 * GB
    job = client.refused(client.call("ModifyResourceSettings", ResourceSettings=[memory]), 32778)
    assert "it needs 8192 MB more and the host has 6144 MB free" in job["ErrorDescription"]
    memory["VirtualQuantity"] = 3 * GB
    client.ok(client.call("ModifyResourceSettings", ResourceSettings=[memory]))
    assert free_per_node(client) == [5 * GB, 8 * GB]
    client.ok(client.state(system, 3))
    assert free_per_node(client) == [8 * GB, 8 * GB]
