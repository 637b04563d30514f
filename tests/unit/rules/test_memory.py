"""Memory and dynamic memory ([hyperv] dynamic_memory_ratio)."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import HyperVConfig, MemoryPlan, PciRequest

from .builders import make_host, plan


@pytest.mark.parametrize(
    ("ram", "ratio", "expected"),
    [
        (4096, 1.0, MemoryPlan(4096, False, 4096, 4096)),
        (4096, 0.5, MemoryPlan(4096, False, 4096, 4096)),
        (4096, 2.0, MemoryPlan(2048, True, 2048, 4096)),
        (4096, 3.0, MemoryPlan(1364, True, 1364, 4096)),  # 1365.33 -> 1365 -> even 1364
        (1000, 1.5, MemoryPlan(666, True, 666, 1000)),
        (2050, 2.0, MemoryPlan(1024, True, 1024, 2050)),  # 1025 -> 1024
        (64, 10.0, MemoryPlan(32, True, 32, 64)),  # never below Hyper-V's 32 MB
    ],
)
def test_dynamic_memory_ratio(ram: int, ratio: float, expected: MemoryPlan) -> None:
    assert plan(ram=ram, config=HyperVConfig(dynamic_memory_ratio=ratio)).memory == expected


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"specs": {"hw:numa_nodes": "1"}},
        {"specs": {"hw:cpu_features": "vmx"}},
        {"props": {"hw_cpu_features": "vmx"}},
        {"pci": (PciRequest("10de", "13f2"),)},
    ],
    ids=["vnuma", "nested-flavor", "nested-image", "pci"],
)
def test_features_that_exclude_dynamic_memory_turn_it_off(request_kwargs: dict) -> None:
    host = make_host(pci=(("10de", "13f2", True),))
    vm = plan(host, HyperVConfig(dynamic_memory_ratio=2.0), ram=4096, **request_kwargs)
    assert vm.memory == MemoryPlan(4096, False, 4096, 4096)


def test_config_values_may_be_text() -> None:
    config = HyperVConfig(dynamic_memory_ratio="2")  # type: ignore[arg-type]
    assert plan(config=config, ram=4096).memory.startup_mb == 2048
