"""Host profiles: what a Hyper-V host *is* (version, CPUs, NUMA, devices, roles).

A profile is the single description of a host that both the emulated host (which
serves it as Msvm_* / Win32_* instances) and `nova-hyperv plan --host` (which turns it
into the rules layer's host facts) start from, so the two can never disagree about,
say, what a "ws2016" host offers. Presets carry the real Windows version numbers;
anything else (guarded hosts, clusters, DDA devices, odd NUMA shapes) is written in a
TOML host file, optionally on top of a preset.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PRESETS",
    "SERVER_FEATURE_IDS",
    "AssignableDevice",
    "HostDisk",
    "HostProfile",
    "NumaNode",
    "ProfileError",
    "RemoteFxGpu",
    "VSwitch",
    "load_profile",
    "profile_from_mapping",
    "profile_to_mapping",
]


class ProfileError(ValueError):
    """A host profile or host file is malformed; the message names the key."""


# Win32_ServerFeature.ID values for the roles the driver cares about, keyed by the
# short names Install-WindowsFeature uses (which is what operators know them by).
SERVER_FEATURE_IDS: Mapping[str, int] = {
    "Hyper-V": 20,
    "Multipath-IO": 57,
    "RDS-Virtualization": 322,
}
SERVER_FEATURE_NAMES: Mapping[int, str] = {
    20: "Hyper-V",
    57: "Multipath I/O",
    322: "Remote Desktop Virtualization Host",
}

_HEX4 = re.compile(r"^[0-9A-Fa-f]{4}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class NumaNode:
    memory_mb: int
    logical_processors: int


@dataclass(frozen=True)
class RemoteFxGpu:
    name: str
    video_memory_mb: int
    driver_version: str = "27.21.14.5671"
    directx_version: str = "11.0"


@dataclass(frozen=True)
class AssignableDevice:
    """A PCI Express device dismounted from the host and ready for DDA."""

    vendor_id: str
    product_id: str
    location_path: str
    numa_node: int = 0
    subsystem: str = "00000000"
    revision: str = "A1"

    @property
    def instance_path(self) -> str:
        # The PnP device instance path Hyper-V shows for a dismounted (PCIP) device;
        # os-win parses VEN_/DEV_ out of it, so keep that shape exact.
        return (
            f"PCIP\\VEN_{self.vendor_id.upper()}&DEV_{self.product_id.upper()}"
            f"&SUBSYS_{self.subsystem.upper()}&REV_{self.revision.upper()}\\"
            f"{zlib.crc32(self.location_path.encode()) & 0xFFFFFF:06X}"
        )


@dataclass(frozen=True)
class VSwitch:
    name: str
    switch_type: str = "external"  # external | internal | private


@dataclass(frozen=True)
class HostDisk:
    """A host disk that exists from the start (local disks, not volume LUNs)."""

    number: int
    size_bytes: int
    serial: str


@dataclass(frozen=True)
class HostProfile:
    preset: str | None
    hostname: str
    windows_version: str  # major.minor.build, as Win32_OperatingSystem.Version
    caption: str
    default_vm_version: str
    supported_vm_versions: tuple[str, ...]
    numa_nodes: tuple[NumaNode, ...]
    cores_per_node: int
    server_features: tuple[str, ...] = ("Hyper-V",)
    remotefx_gpus: tuple[RemoteFxGpu, ...] = ()
    assignable_devices: tuple[AssignableDevice, ...] = ()
    vswitches: tuple[VSwitch, ...] = (VSwitch("external"),)
    guarded: bool = False
    clustered: bool = False
    local_disk_gb: int = 2048
    disks: tuple[HostDisk, ...] = ()
    processor_name: str = "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"
    processor_clock_mhz: int = 2100
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        major, minor, build = (int(p) for p in self.windows_version.split("."))
        return major, minor, build

    @property
    def logical_processors(self) -> int:
        return sum(n.logical_processors for n in self.numa_nodes)

    @property
    def memory_mb(self) -> int:
        return sum(n.memory_mb for n in self.numa_nodes)

    @property
    def server_feature_ids(self) -> tuple[int, ...]:
        return tuple(SERVER_FEATURE_IDS[f] for f in self.server_features)

    def replace(self, **changes: Any) -> HostProfile:
        return dataclasses.replace(self, **changes)


def _two_nodes() -> tuple[NumaNode, ...]:
    return (NumaNode(65536, 16), NumaNode(65536, 16))


_REMOTEFX_GPU = RemoteFxGpu(name="NVIDIA GRID K2", video_memory_mb=4096)

PRESETS: Mapping[str, HostProfile] = {
    "ws2012r2": HostProfile(
        preset="ws2012r2",
        hostname="HV-WS2012R2",
        windows_version="6.3.9600",
        caption="Microsoft Windows Server 2012 R2 Datacenter",
        default_vm_version="5.0",
        supported_vm_versions=("5.0",),
        numa_nodes=_two_nodes(),
        cores_per_node=8,
        server_features=("Hyper-V", "RDS-Virtualization"),
        remotefx_gpus=(_REMOTEFX_GPU,),
    ),
    "ws2016": HostProfile(
        preset="ws2016",
        hostname="HV-WS2016",
        windows_version="10.0.14393",
        caption="Microsoft Windows Server 2016 Datacenter",
        default_vm_version="8.0",
        supported_vm_versions=("5.0", "6.2", "7.0", "7.1", "8.0"),
        numa_nodes=_two_nodes(),
        cores_per_node=8,
        server_features=("Hyper-V", "RDS-Virtualization"),
        remotefx_gpus=(_REMOTEFX_GPU,),
    ),
    "ws2019": HostProfile(
        preset="ws2019",
        hostname="HV-WS2019",
        windows_version="10.0.17763",
        caption="Microsoft Windows Server 2019 Datacenter",
        default_vm_version="9.0",
        supported_vm_versions=(
            "5.0", "6.2", "7.0", "7.1", "8.0", "8.1", "8.2", "8.3", "9.0",
        ),
        numa_nodes=_two_nodes(),
        cores_per_node=8,
    ),
    "ws2022": HostProfile(
        preset="ws2022",
        hostname="HV-WS2022",
        windows_version="10.0.20348",
        caption="Microsoft Windows Server 2022 Datacenter",
        default_vm_version="10.0",
        supported_vm_versions=("8.0", "8.1", "8.2", "8.3", "9.0", "9.1", "9.2", "9.3", "10.0"),
        numa_nodes=_two_nodes(),
        cores_per_node=8,
    ),
    "ws2025": HostProfile(
        preset="ws2025",
        hostname="HV-WS2025",
        windows_version="10.0.26100",
        caption="Microsoft Windows Server 2025 Datacenter",
        default_vm_version="12.0",
        supported_vm_versions=(
            "8.0", "8.1", "8.2", "8.3", "9.0", "9.1", "9.2", "9.3", "10.0", "11.0", "12.0",
        ),
        numa_nodes=_two_nodes(),
        cores_per_node=8,
    ),
}


def load_profile(spec: str | Path) -> HostProfile:
    """A preset name (`ws2022`) or the path of a TOML host file."""
    text = str(spec)
    if text in PRESETS:
        return PRESETS[text]
    path = Path(text)
    if not path.is_file():
        raise ProfileError(
            f"host {text!r} is neither a preset ({', '.join(PRESETS)}) nor a TOML file"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from exc
    return profile_from_mapping(data, source=str(path))


_SCALAR_KEYS = {
    "hostname": str,
    "windows_version": str,
    "caption": str,
    "default_vm_version": str,
    "guarded": bool,
    "clustered": bool,
    "cores_per_node": int,
    "local_disk_gb": int,
    "processor_name": str,
    "processor_clock_mhz": int,
}
_TABLE_KEYS = {
    "numa_nodes", "remotefx_gpus", "assignable_devices", "vswitches", "disks",
    "server_features", "supported_vm_versions",
}


def profile_from_mapping(data: Mapping[str, Any], source: str = "host file") -> HostProfile:
    """Build a profile from parsed TOML: `preset` picks the base, other keys override it.

    Every key is checked, so a typo (`gaurded = true`) is an error naming the key rather
    than a silently ordinary host.
    """
    data = dict(data)
    preset_name = data.pop("preset", "ws2022")
    if preset_name not in PRESETS:
        raise ProfileError(
            f"{source}: preset = {preset_name!r} is unknown; use one of {', '.join(PRESETS)}"
        )
    base = PRESETS[preset_name]
    changes: dict[str, Any] = {"preset": preset_name}
    for key, value in data.items():
        if key in _SCALAR_KEYS:
            want = _SCALAR_KEYS[key]
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise ProfileError(
                    f"{source}: {key} = {value!r} must be a {want.__name__}"
                )
            changes[key] = value
        elif key in _TABLE_KEYS:
            changes[key] = _parse_table(key, value, source)
        elif key == "extra":
            if not isinstance(value, dict):
                raise ProfileError(f"{source}: extra must be a table")
            changes[key] = dict(value)
        else:
            allowed = ", ".join(sorted([*_SCALAR_KEYS, *_TABLE_KEYS, "preset", "extra"]))
            raise ProfileError(f"{source}: unknown key {key!r}; allowed keys: {allowed}")
    profile = base.replace(**changes)
    _validate(profile, source)
    return profile


def profile_to_mapping(profile: HostProfile) -> dict[str, Any]:
    """The profile as plain data that `profile_from_mapping` reads back unchanged.

    This is how an emulated host's state file remembers the host it describes.
    """
    data = dataclasses.asdict(profile)
    if data["preset"] is None:
        data.pop("preset")
    if not data["extra"]:
        data.pop("extra")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def _parse_table(key: str, value: Any, source: str) -> tuple[Any, ...]:
    if key in ("server_features", "supported_vm_versions"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProfileError(f"{source}: {key} must be a list of strings")
        if key == "server_features":
            for feature in value:
                if feature not in SERVER_FEATURE_IDS:
                    raise ProfileError(
                        f"{source}: server feature {feature!r} is unknown; known: "
                        f"{', '.join(SERVER_FEATURE_IDS)}"
                    )
        return tuple(value)
    factory = {
        "numa_nodes": NumaNode,
        "remotefx_gpus": RemoteFxGpu,
        "assignable_devices": AssignableDevice,
        "vswitches": VSwitch,
        "disks": HostDisk,
    }[key]
    if not isinstance(value, list):
        raise ProfileError(f"{source}: {key} must be an array of tables ([[{key}]])")
    items = []
    names = {f.name for f in dataclasses.fields(factory)}
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise ProfileError(f"{source}: {key}[{index}] must be a table")
        unknown = set(entry) - names
        if unknown:
            raise ProfileError(
                f"{source}: {key}[{index}] has unknown key(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(names))}"
            )
        try:
            items.append(factory(**entry))
        except TypeError as exc:
            raise ProfileError(f"{source}: {key}[{index}]: {exc}") from exc
    return tuple(items)


def _validate(profile: HostProfile, source: str) -> None:
    if not _VERSION.match(profile.windows_version):
        raise ProfileError(
            f"{source}: windows_version = {profile.windows_version!r} must look like 10.0.20348"
        )
    if not profile.numa_nodes:
        raise ProfileError(f"{source}: numa_nodes must list at least one node")
    for index, node in enumerate(profile.numa_nodes):
        if node.memory_mb <= 0 or node.logical_processors <= 0:
            raise ProfileError(
                f"{source}: numa_nodes[{index}] needs positive memory_mb and logical_processors"
            )
    if not 1 <= len(profile.hostname) <= 15:
        raise ProfileError(f"{source}: hostname must be 1 to 15 characters (a NetBIOS name)")
    for index, dev in enumerate(profile.assignable_devices):
        if not (_HEX4.match(dev.vendor_id) and _HEX4.match(dev.product_id)):
            raise ProfileError(
                f"{source}: assignable_devices[{index}] vendor_id and product_id must be "
                "4 hex digits"
            )
        if not 0 <= dev.numa_node < len(profile.numa_nodes):
            raise ProfileError(
                f"{source}: assignable_devices[{index}].numa_node = {dev.numa_node} is not a "
                f"node of this host (0..{len(profile.numa_nodes) - 1})"
            )
    for index, switch in enumerate(profile.vswitches):
        if switch.switch_type not in ("external", "internal", "private"):
            raise ProfileError(
                f"{source}: vswitches[{index}].switch_type must be external, internal or private"
            )
    if profile.default_vm_version not in profile.supported_vm_versions:
        raise ProfileError(
            f"{source}: default_vm_version {profile.default_vm_version} is not among "
            "supported_vm_versions"
        )
