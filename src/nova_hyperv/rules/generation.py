"""VM generation (hw_machine_type, else the image's layout) and the root image's format."""

from __future__ import annotations

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2012R2, HostFacts
from nova_hyperv.rules.request import Image, ImageLayout
from nova_hyperv.rules.values import Spot, text

__all__ = [
    "FROM_DEFAULT",
    "FROM_LAYOUT",
    "FROM_PROPERTY",
    "check_root_format",
    "layout_generation",
    "requested_generation",
    "root_format",
    "vm_generation",
]

GENERATIONS = {"hyperv-gen1": 1, "hyperv-gen2": 2}
IMAGE_FORMATS = ("vhd", "vhdx", "iso")
# Where the generation came from (VmPlan.generation_from).
FROM_PROPERTY, FROM_LAYOUT, FROM_DEFAULT = "hw_machine_type", "image layout", "default"


def requested_generation(image: Image) -> int | None:
    """The generation hw_machine_type asks for; None when it is unset."""
    spot = Spot(
        "image property", "hw_machine_type", "generation-invalid", "hyperv-gen1, hyperv-gen2"
    )
    value = text(image.properties, spot)
    if value is None:
        return None
    if value not in GENERATIONS:
        raise spot.fail(value, "is not a Hyper-V VM generation")
    return GENERATIONS[value]


def layout_generation(layout: ImageLayout | None) -> int | None:
    """The generation a disk's layout calls for: 2 when only UEFI can boot it (an EFI
    system partition with a loader, no BIOS boot), 1 when BIOS can (with or without
    UEFI: generation 1 is Hyper-V's default), None when neither can be told."""
    if layout is None or not layout.known:
        return None
    if layout.bios_boot:
        return 1
    return 2 if layout.uefi_boot else None


def vm_generation(image: Image, host: HostFacts, *, use_layout: bool = False) -> tuple[int, str]:
    """(generation, where it came from): hw_machine_type if set; else, with
    `use_layout` ([hyperv] image_preflight), what the image's layout calls for; else 1."""
    generation = requested_generation(image)
    source = FROM_PROPERTY
    if generation is None and use_layout:
        generation, source = layout_generation(image.layout), FROM_LAYOUT
    if generation is None:
        return 1, FROM_DEFAULT
    if generation == 2 and not host.at_least(WS2012R2):
        value = image.properties.get("hw_machine_type")
        reason = (f"generation 2 VMs need Windows / Hyper-V Server 2012 R2 (6.3) or newer; "
                  f"this host is {host.version_text}")
        if source == FROM_LAYOUT:
            assert image.layout is not None
            reason = (f"disk: {image.layout.describe()}; only UEFI boots it, in a generation 2 "
                      f"VM, and {reason}")
        raise RuleViolation("generation-unsupported-by-host", "hw_machine_type", value,
                            "hyperv-gen1, hyperv-gen2", reason, source="image property")
    return generation, source


def _format(value: object, field: str, source: str) -> str | None:
    if value is None:
        return None
    spot = Spot(source, field, "image-format-unsupported", ", ".join(IMAGE_FORMATS))
    if not isinstance(value, str):
        raise spot.fail(value, "must be text")
    name = value.strip().lower()
    if name not in IMAGE_FORMATS:
        raise spot.fail(value, "Hyper-V boots only from VHD, VHDX or ISO images")
    return name


def root_format(image: Image) -> str:
    """The format of the root image file: iso, or the file's real vhd/vhdx format.

    Glance's disk_format may say vhd for a VHDX file (the usage guide's own example
    does), so the file's real format wins once it is known.
    """
    declared = _format(image.disk_format, "disk_format", "image")
    actual = _format(image.file_format, "file_format", "image")
    if declared is None and actual is None:
        raise RuleViolation(
            "image-format-unsupported",
            "disk_format",
            None,
            ", ".join(IMAGE_FORMATS),
            "a root disk made from an image needs the image's format",
            source="image",
        )
    if declared == "iso" or actual is None:
        return declared or "vhd"
    return actual


def check_root_format(generation: int, fmt: str, image: Image, source: str = FROM_PROPERTY
                      ) -> None:
    if generation == 2 and fmt == "vhd":
        known = image.file_format is not None
        reason = "a generation 2 VM boots only from a VHDX root disk; convert the image to VHDX"
        if not known:
            reason += " (or, if the file is VHDX registered as vhd, give its real format)"
        if source == FROM_LAYOUT and image.layout is not None:
            reason = (f"disk: {image.layout.describe()}; only UEFI boots it, in a generation 2 "
                      f"VM, and {reason}")
        raise RuleViolation(
            "gen2-requires-vhdx",
            "file_format" if known else "disk_format",
            fmt,
            "vhdx (or iso)",
            reason,
            source="image",
        )
