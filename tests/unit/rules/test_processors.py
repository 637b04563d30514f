"""vCPUs and nested virtualization (vmx in hw:cpu_features / hw_cpu_features)."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import HyperVConfig

from .builders import WS2016, WS2022, plan


@pytest.mark.parametrize("features", ["vmx", "VMX", "sse4.2,vmx", "avx, vmx ", " Vmx", "avx vmx"])
@pytest.mark.parametrize("where", ["flavor", "image"])
def test_vmx_anywhere_in_the_features_enables_nested_virtualization(
    features: str, where: str
) -> None:
    kwargs = ({"specs": {"hw:cpu_features": features}} if where == "flavor"
              else {"props": {"hw_cpu_features": features}})
    assert plan(WS2016, **kwargs).processors.nested_virtualization


@pytest.mark.parametrize("features", ["", "vmxx", "svm", "avx,sse"])
def test_other_features_do_not(features: str) -> None:
    assert not plan(specs={"hw:cpu_features": features}).processors.nested_virtualization


def test_count_and_limit_cpu_features() -> None:
    cpus = plan(WS2022, HyperVConfig(limit_cpu_features=True), vcpus=32).processors
    assert (cpus.count, cpus.limit_cpu_features, cpus.nested_virtualization) == (32, True, False)


def test_flavor_numbers_may_be_text() -> None:
    vm = plan(vcpus="4", ram="4096", disk="40")
    assert (vm.processors.count, vm.memory.startup_mb) == (4, 4096)
