"""os-win reads the emulated host: version, CPUs, memory, NUMA topology, features."""

from __future__ import annotations

from typing import Any

from os_win import constants


def test_version_and_generations(hostutils: Any) -> None:
    assert hostutils.get_windows_version() == "10.0.20348"
    assert hostutils.check_min_windows_version(10, 0, 17763)
    assert hostutils.get_supported_vm_types() == [constants.IMAGE_PROP_VM_GEN_1,
                                                  constants.IMAGE_PROP_VM_GEN_2]
    assert hostutils.check_server_feature(hostutils.FEATURE_RDS_VIRTUALIZATION) is False


def test_cpus_and_memory(hostutils: Any) -> None:
    cpus = hostutils.get_cpus_info()
    assert len(cpus) == 2  # one per socket (one NUMA node each in the preset)
    assert {c["NumberOfLogicalProcessors"] for c in cpus} == {16}
    assert {c["NumberOfCores"] for c in cpus} == {8}
    total_kb, free_kb = hostutils.get_memory_info()
    assert total_kb == free_kb == 2 * 65536 * 1024


def test_numa_topology(hostutils: Any) -> None:
    nodes = hostutils.get_numa_nodes()
    assert [n["id"] for n in nodes] == ["0", "1"]
    assert [n["memory"] for n in nodes] == [65536, 65536]
    assert [n["memory_usage"] for n in nodes] == [65536, 65536]
    assert nodes[0]["cpuset"] == {str(i) for i in range(16)}
    assert nodes[1]["cpuset"] == {str(i) for i in range(16, 32)}


def test_running_vms_take_host_memory(hostutils: Any, vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.update_vm("inst-1", 4096, None, 2, None, False, 1.0)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    total_kb, free_kb = hostutils.get_memory_info()
    assert total_kb - free_kb == 4096 * 1024
    assert sorted(n["memory_usage"] for n in hostutils.get_numa_nodes()) == [61440, 65536]
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_DISABLED)
    assert hostutils.get_memory_info()[1] == total_kb
