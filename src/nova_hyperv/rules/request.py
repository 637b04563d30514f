"""The instance request: what Nova (or the CLI) asks for, as plain frozen data.

Mappings (extra specs, image properties, instance metadata, volume QoS specs) are kept
as read-only copies, and their values may be of any type: the rules read them through
`values`, which turns anything unusable into a RuleViolation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from nova_hyperv.rules.values import Spot, number, to_bool, to_int

__all__ = [
    "BlockDevices",
    "Ephemeral",
    "Flavor",
    "HyperVConfig",
    "Image",
    "ImageLayout",
    "Instance",
    "InstanceRequest",
    "PciRequest",
    "Vif",
    "Volume",
    "config_from_mapping",
    "flavor_from_mapping",
]


def _frozen_mapping(obj: object, name: str) -> None:
    value = getattr(obj, name)
    object.__setattr__(obj, name, MappingProxyType(dict(value or {})))


@dataclass(frozen=True)
class Flavor:
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int = 0
    swap_mb: int = 0
    extra_specs: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _frozen_mapping(self, "extra_specs")


PARTITION_SCHEMES = ("mbr", "gpt", "none", "unknown")


@dataclass(frozen=True)
class ImageLayout:
    """How the image's disk is laid out for booting, as the driver sniffed it (vhdfile).

    The rules read no files: the driver passes what it found. `scheme` is the partition
    table ("mbr", "gpt"), "none" when the disk has none (a blank disk) and "unknown"
    when it could not be read (a damaged table): nothing is concluded from "unknown".
    """

    scheme: str
    bios_boot: bool = False  # BIOS can boot it: boot code + active / BIOS boot partition
    esp: bool = False  # it has an EFI system partition
    efi_loader: str | None = None  # the EFI boot loader found on it, as a path

    def __post_init__(self) -> None:
        if self.scheme not in PARTITION_SCHEMES:
            raise ValueError(f"ImageLayout.scheme {self.scheme!r}: allowed "
                             f"{', '.join(PARTITION_SCHEMES)}")

    @property
    def known(self) -> bool:
        return self.scheme != "unknown"

    @property
    def uefi_boot(self) -> bool:
        return self.efi_loader is not None

    def describe(self) -> str:
        """What was found, shortly (it goes into a fault message nova cuts at 255
        characters): the partitions, the EFI system partition, BIOS boot."""
        if self.scheme == "unknown":
            return "an unreadable partition table"
        if self.scheme == "none":
            return "no partition table"
        if self.efi_loader:
            esp = f"an EFI system partition holding {self.efi_loader}"
        elif self.esp:
            esp = "an EFI system partition without a loader"
        else:
            esp = "no EFI system partition"
        if self.scheme == "mbr":
            bios = "BIOS boot code" if self.bios_boot else "no BIOS boot code"
        else:
            bios = "a BIOS boot partition" if self.bios_boot else "no BIOS boot partition"
        return f"{self.scheme.upper()}, {esp}, {bios}"


@dataclass(frozen=True)
class Image:
    """The Glance image; the file facts are filled in once the file is known."""

    id: str | None = None
    disk_format: str | None = None  # Glance disk_format: vhd, vhdx, iso (None: no image)
    properties: Mapping[str, object] = field(default_factory=dict)
    file_format: str | None = None  # the file's real format: vhd, vhdx or iso
    virtual_size: int | None = None  # bytes
    block_size: int | None = None  # bytes, for VHD / VHDX files
    file_fixed: bool = False  # a fixed (fully allocated) VHD rather than a dynamic one
    layout: ImageLayout | None = None  # the disk's partitions; None: not looked at

    def __post_init__(self) -> None:
        _frozen_mapping(self, "properties")


@dataclass(frozen=True)
class Instance:
    uuid: str
    name: str
    hostname: str
    metadata: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _frozen_mapping(self, "metadata")


@dataclass(frozen=True)
class Volume:
    """A Cinder volume attached at spawn (or the root volume when booting from one)."""

    volume_id: str
    connection_type: str = "iscsi"  # iscsi | fibre_channel | smbfs
    bus: str | None = None
    boot_index: object = None  # an int; None or negative: not a boot device
    tag: str | None = None
    device_type: str | None = None  # None or "disk"
    qos_specs: Mapping[str, object] = field(default_factory=dict)  # Cinder front-end QoS

    def __post_init__(self) -> None:
        _frozen_mapping(self, "qos_specs")


@dataclass(frozen=True)
class Ephemeral:
    size_gb: object
    bus: str | None = None
    boot_index: object = None
    tag: str | None = None
    device_type: str | None = None


@dataclass(frozen=True)
class BlockDevices:
    """Nova's block device info. No ephemerals given: the flavor's ephemeral_gb is one."""

    root_volume: Volume | None = None
    ephemerals: tuple[Ephemeral, ...] = ()
    volumes: tuple[Volume, ...] = ()


@dataclass(frozen=True)
class Vif:
    """A Neutron port: its id, MAC, device tag, access VLAN (None: untagged) and whether
    Neutron's port security is on (off: the guest may send other MACs)."""

    id: str
    mac: str
    tag: str | None = None
    vlan: object = None
    port_security: object = True


@dataclass(frozen=True)
class PciRequest:
    vendor_id: str
    product_id: str
    count: object = 1


@dataclass(frozen=True)
class HyperVConfig:
    """The `[hyperv]` options that shape a VM (nova.conf)."""

    dynamic_memory_ratio: float = 1.0
    enable_remotefx: bool = False
    limit_cpu_features: bool = False
    instance_automatic_shutdown: bool = False
    config_drive_cdrom: bool = False
    image_preflight: bool = True


@dataclass(frozen=True)
class InstanceRequest:
    flavor: Flavor
    image: Image
    instance: Instance
    block_devices: BlockDevices = field(default_factory=BlockDevices)
    vifs: tuple[Vif, ...] = ()
    pci_requests: tuple[PciRequest, ...] = ()
    config_drive: bool = False


_CONFIG_OPTIONS = {f.name: f for f in fields(HyperVConfig)}


def config_from_mapping(options: Mapping[str, object]) -> HyperVConfig:
    """`[hyperv]` options from KEY=VALUE text (or typed values); unknown keys refused."""
    allowed_keys = ", ".join(sorted(_CONFIG_OPTIONS))
    values: dict[str, Any] = {}
    for key, raw in options.items():
        name = str(key).strip()
        if name not in _CONFIG_OPTIONS:
            raise Spot(
                "[hyperv] option", name, "config-invalid", allowed_keys
            ).fail(raw, "is not an option the Hyper-V driver reads")
        if name == "dynamic_memory_ratio":
            spot = Spot("[hyperv] option", name, "config-invalid", "a number greater than 0")
            ratio = number(raw, spot)
            if ratio <= 0:
                raise spot.fail(raw, "must be greater than 0")
            values[name] = ratio
        else:
            values[name] = to_bool(
                raw, Spot("[hyperv] option", name, "config-invalid", "true or false")
            )
    return HyperVConfig(**values)


# `nova flavor-create` names -> Flavor fields.
_FLAVOR_KEYS = {
    "vcpus": "vcpus",
    "ram": "memory_mb",
    "disk": "root_gb",
    "ephemeral": "ephemeral_gb",
    "swap": "swap_mb",
}


def flavor_from_mapping(
    sizes: Mapping[str, object], extra_specs: Mapping[str, object] | None = None
) -> Flavor:
    """A flavor from vcpus / ram (MB) / disk (GB) / ephemeral (GB) / swap (MB) values."""
    allowed = "vcpus, ram, disk, ephemeral, swap"
    values: dict[str, int] = {}
    for key, raw in sizes.items():
        name = str(key).strip()
        if name not in _FLAVOR_KEYS:
            raise Spot("flavor", name, "flavor-invalid", allowed).fail(
                raw, "is not a flavor size"
            )
        minimum = 1 if name in ("vcpus", "ram") else 0
        values[_FLAVOR_KEYS[name]] = to_int(
            raw,
            Spot("flavor", name, "flavor-invalid", f"a whole number >= {minimum}"),
            minimum=minimum,
        )
    for required in ("vcpus", "ram", "disk"):
        if _FLAVOR_KEYS[required] not in values:
            raise Spot("flavor", required, "flavor-invalid", "a whole number").fail(
                None, "is required"
            )
    return Flavor(extra_specs=dict(extra_specs or {}), **values)
