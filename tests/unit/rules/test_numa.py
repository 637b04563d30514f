"""vNUMA: Nova's hw:numa_* syntax, symmetric topologies, host fit, dynamic memory off."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import HyperVConfig, NumaPlan, RuleViolation
from nova_hyperv.rules.numa import parse_cpu_spec
from nova_hyperv.rules.values import Spot

from .builders import make_host, plan

SPOT = Spot("flavor extra spec", "hw:numa_cpus.0", "numa-cpus-invalid", "cpus")


def test_no_numa_by_default() -> None:
    assert plan().numa is None


def test_nodes_split_vcpus_and_memory_evenly() -> None:
    vm = plan(vcpus=4, ram=8192, specs={"hw:numa_nodes": "2"})
    assert vm.numa == NumaPlan(nodes=2, cpus_per_node=2, memory_mb_per_node=4096)


def test_image_properties_work_like_extra_specs() -> None:
    vm = plan(vcpus=4, ram=8192, props={"hw_numa_nodes": 2})
    assert vm.numa == NumaPlan(nodes=2, cpus_per_node=2, memory_mb_per_node=4096)


def test_flavor_and_image_may_agree() -> None:
    vm = plan(vcpus=4, ram=8192, specs={"hw:numa_nodes": "2"}, props={"hw_numa_nodes": "2"})
    assert vm.numa is not None and vm.numa.nodes == 2


def test_explicit_symmetric_cells() -> None:
    vm = plan(vcpus=4, ram=4096, specs={
        "hw:numa_nodes": "2", "hw:numa_cpus.0": "0,2", "hw:numa_cpus.1": "1,3",
        "hw:numa_mem.0": "2048", "hw:numa_mem.1": "2048"})
    assert vm.numa == NumaPlan(nodes=2, cpus_per_node=2, memory_mb_per_node=2048)


def test_explicit_cells_in_the_image() -> None:
    vm = plan(vcpus=2, ram=2048, props={
        "hw_numa_nodes": "2", "hw_numa_cpus.0": "0", "hw_numa_cpus.1": "1",
        "hw_numa_mem.0": "1024", "hw_numa_mem.1": 1024})
    assert vm.numa == NumaPlan(nodes=2, cpus_per_node=1, memory_mb_per_node=1024)


def test_a_node_exactly_the_host_node_size_fits() -> None:
    host = make_host(numa=((4096, 16), (4096, 16)))
    assert plan(host, vcpus=2, ram=4096, specs={"hw:numa_nodes": "1"}).numa is not None


def test_uneven_cell_is_named() -> None:
    with pytest.raises(RuleViolation) as caught:
        plan(vcpus=4, ram=4096, specs={
            "hw:numa_nodes": "2", "hw:numa_cpus.0": "0-2", "hw:numa_cpus.1": "3",
            "hw:numa_mem.0": "2048", "hw:numa_mem.1": "2048"})
    assert (caught.value.code, caught.value.field) == ("numa-asymmetric", "hw:numa_cpus.1")
    assert "node 1 has 1 vCPUs and node 0 has 3" in caught.value.message


def test_vnuma_turns_dynamic_memory_off() -> None:
    config = HyperVConfig(dynamic_memory_ratio=2.0)
    assert plan(config=config).memory.dynamic
    assert not plan(config=config, specs={"hw:numa_nodes": "1"}).memory.dynamic


@pytest.mark.parametrize(
    ("spec", "cpus"),
    [
        ("0", {0}),
        ("0-3", {0, 1, 2, 3}),
        ("0-3,^2", {0, 1, 3}),
        ("0-5,^1-2", {0, 3, 4, 5}),
        (" 1 , 3 ", {1, 3}),
        ("0,,2", {0, 2}),
        ("^7,0", {0}),
    ],
)
def test_cpu_spec_syntax(spec: str, cpus: set[int]) -> None:
    assert parse_cpu_spec(spec, 8, SPOT) == cpus


@pytest.mark.parametrize("spec", ["", "^0", "3-1", "a", "0-", "8", "1.5", "0-99"])
def test_bad_cpu_specs(spec: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        parse_cpu_spec(spec, 8, SPOT)
    assert caught.value.code == "numa-cpus-invalid"


def test_cell_given_twice_under_two_spellings() -> None:
    with pytest.raises(RuleViolation) as caught:
        plan(specs={"hw:numa_nodes": "2", "hw:numa_cpus.1": "1", "hw:numa_cpus.01": "1"})
    assert caught.value.code == "numa-cell-invalid"
