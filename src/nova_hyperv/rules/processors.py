"""Virtual processors and nested virtualization (`vmx` in the CPU features)."""

from __future__ import annotations

import re

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2016, HostFacts
from nova_hyperv.rules.plan import ProcessorPlan
from nova_hyperv.rules.request import Flavor, HyperVConfig, Image
from nova_hyperv.rules.values import Spot, text

__all__ = ["cpu_features", "processors"]

_SEPARATORS = re.compile(r"[\s,]+")


def cpu_features(flavor: Flavor, image: Image) -> dict[str, tuple[str, str]]:
    """{feature (lower case): (source, key)} from hw:cpu_features and hw_cpu_features.

    Case-insensitive and tolerant of spaces: "SSE4.2, VMX" names sse4.2 and vmx.
    """
    found: dict[str, tuple[str, str]] = {}
    for source, mapping, key in (
        ("image property", image.properties, "hw_cpu_features"),
        ("flavor extra spec", flavor.extra_specs, "hw:cpu_features"),
    ):
        spot = Spot(source, key, "cpu-features-invalid", "a comma separated list of CPU features")
        value = text(mapping, spot)
        for feature in _SEPARATORS.split(value.lower()) if value else ():
            if feature:
                found[feature] = (source, key)
    return found


def processors(
    flavor: Flavor, image: Image, config: HyperVConfig, host: HostFacts
) -> ProcessorPlan:
    if flavor.vcpus > host.logical_processors:
        raise RuleViolation(
            "vcpus-exceed-host", "vcpus", flavor.vcpus,
            f"at most {host.logical_processors} (the host's logical processors)",
            "Hyper-V cannot give a VM more virtual processors than the host has logical "
            "processors", source="flavor",
        )
    nested = "vmx" in (features := cpu_features(flavor, image))
    if nested:
        source, key = features["vmx"]
        given = (flavor.extra_specs if key == "hw:cpu_features" else image.properties)[key]
        if not host.at_least(WS2016):
            raise RuleViolation(
                "nested-virtualization-requires-host-10", key, given,
                "vmx only on Windows / Hyper-V Server 2016 (10.0) or newer hosts",
                f"nested virtualization arrived in 2016; this host is {host.version_text}",
                source=source,
            )
        if host.clustered:
            raise RuleViolation(
                "nested-virtualization-unsupported-on-cluster", key, given,
                "vmx only on hosts that are not clustered",
                "nested virtualization does not work on clustered compute nodes",
                source=source,
            )
    return ProcessorPlan(
        count=flavor.vcpus,
        limit_cpu_features=config.limit_cpu_features,
        nested_virtualization=nested,
    )
