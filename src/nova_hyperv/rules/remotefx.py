"""RemoteFX vGPU: os:resolution, os:monitors and os:vram (MiB).

RemoteFX exists only on Windows / Hyper-V Server 2012 R2 and 2016: Microsoft removed it
from 2019 (10.0.17763) on, so there it is refused with a pointer to PCI passthrough
(Discrete Device Assignment), its replacement. Resolutions, monitor counts and VRAM
sizes follow what each host version offers.
"""

from __future__ import annotations

import re

from nova_hyperv.rules.disk_size import MIB
from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import RDS_VIRTUALIZATION, WS2016, WS2019, HostFacts
from nova_hyperv.rules.plan import RemoteFxPlan
from nova_hyperv.rules.request import Flavor, HyperVConfig
from nova_hyperv.rules.values import Spot, text, whole

__all__ = ["MAX_MONITORS", "REMOTEFX_TRAIT", "VRAM_MIB", "host_offers_remotefx", "remotefx"]

# Resolution -> most monitors, per host generation (Msvm_Synthetic3DDisplayController).
MAX_MONITORS = {
    "2012r2": {"1024x768": 4, "1280x1024": 4, "1600x1200": 3, "1920x1200": 2, "2560x1600": 1},
    "2016": {
        "1024x768": 8, "1280x1024": 8, "1600x1200": 4, "1920x1200": 4, "2560x1600": 2,
        "3840x2160": 1,
    },
}
VRAM_MIB = (64, 128, 256, 512, 1024)  # 2016 only; 2012 R2 has no VRAM setting
SOURCE = "flavor extra spec"
#: The placement trait of a compute node that can run RemoteFX flavors: nova's
#: scheduler has nothing else to tell such a host apart (no RemoteFX resource class or
#: standard trait), so a RemoteFX flavor asks for it with `trait:CUSTOM_HYPERV_REMOTEFX
#: = required` and lands where the driver will not refuse it.
REMOTEFX_TRAIT = "CUSTOM_HYPERV_REMOTEFX"


def _resolution(value: str) -> str:
    return re.sub(r"\s*[xX]\s*", "x", value.strip())


def host_offers_remotefx(host: HostFacts, config: HyperVConfig) -> bool:
    """Whether this host and configuration can run a RemoteFX flavor at all: what
    `remotefx` requires of them before it looks at the flavor's values."""
    return (not host.at_least(WS2019) and config.enable_remotefx
            and RDS_VIRTUALIZATION in host.server_features and bool(host.remotefx_gpus))


def remotefx(
    flavor: Flavor, generation: int, config: HyperVConfig, host: HostFacts
) -> RemoteFxPlan | None:
    specs = flavor.extra_specs
    spot = Spot(SOURCE, "os:resolution", "remotefx-resolution-invalid", "")
    requested = text(specs, spot)
    if requested is None:
        return None

    def refuse(code: str, allowed: str, reason: str) -> RuleViolation:
        return RuleViolation(code, "os:resolution", requested, allowed, reason, source=SOURCE)

    if host.at_least(WS2019):
        raise refuse(
            "remotefx-unsupported-by-host",
            "no RemoteFX on Windows / Hyper-V Server 2019 or newer; use PCI passthrough "
            "(DDA, flavor extra spec pci_passthrough:alias) to give the VM a GPU",
            f"Microsoft removed RemoteFX vGPU from Windows Server 2019 (10.0.17763) on; "
            f"this host is {host.version_text}",
        )
    if not config.enable_remotefx:
        raise refuse(
            "remotefx-disabled", "RemoteFX flavors only where [hyperv] enable_remotefx = true",
            "the operator has not enabled RemoteFX on this compute node",
        )
    if RDS_VIRTUALIZATION not in host.server_features:
        raise refuse(
            "remotefx-requires-rds-virtualization",
            "RemoteFX flavors only on hosts with the RDS-Virtualization feature",
            "the host lacks the Remote Desktop Virtualization Host (RDS-Virtualization) "
            "feature RemoteFX needs",
        )
    if not host.remotefx_gpus:
        raise refuse(
            "remotefx-requires-gpu", "RemoteFX flavors only on hosts with a RemoteFX GPU",
            "the host has no GPU enabled for RemoteFX",
        )
    is_2016 = host.at_least(WS2016)
    if generation == 2 and not is_2016:
        raise refuse(
            "remotefx-gen2-requires-host-10",
            "RemoteFX on generation 1 VMs on this host, or on both generations on 2016",
            f"RemoteFX supports generation 2 VMs from Windows Server 2016 on; this host is "
            f"{host.version_text}",
        )
    table = MAX_MONITORS["2016" if is_2016 else "2012r2"]
    resolution = _resolution(requested)
    if resolution not in table:
        raise refuse(
            "remotefx-resolution-invalid", ", ".join(table),
            "is not a RemoteFX resolution this host offers",
        )
    most = table[resolution]
    monitors = whole(
        specs,
        Spot(SOURCE, "os:monitors", "remotefx-monitors-invalid", f"1 to {most} at {resolution}"),
        minimum=1, maximum=most,
    )
    vram_spot = Spot(SOURCE, "os:vram", "remotefx-vram-invalid",
                     ", ".join(str(v) for v in VRAM_MIB) + " (MiB)")
    vram_mib = whole(specs, vram_spot)
    vram_bytes = None
    # 2012 R2 has no VRAM setting: there the value is ignored, since one flavor may
    # serve hosts of both versions.
    if vram_mib is not None and is_2016:
        if vram_mib not in VRAM_MIB:
            raise vram_spot.fail(specs.get("os:vram"), "is not a VRAM size RemoteFX offers")
        vram_bytes = vram_mib * MIB
    return RemoteFxPlan(
        monitors=1 if monitors is None else monitors, resolution=resolution,
        vram_bytes=vram_bytes,
    )
