"""VM generation (hw_machine_type) and the root image's format."""

from __future__ import annotations

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2012R2, HostFacts
from nova_hyperv.rules.request import Image
from nova_hyperv.rules.values import Spot, text

__all__ = ["check_root_format", "root_format", "vm_generation"]

GENERATIONS = {"hyperv-gen1": 1, "hyperv-gen2": 2}
IMAGE_FORMATS = ("vhd", "vhdx", "iso")


def vm_generation(image: Image, host: HostFacts) -> int:
    spot = Spot(
        "image property", "hw_machine_type", "generation-invalid", "hyperv-gen1, hyperv-gen2"
    )
    value = text(image.properties, spot)
    if value is None:
        return 1
    if value not in GENERATIONS:
        raise spot.fail(value, "is not a Hyper-V VM generation")
    generation = GENERATIONS[value]
    if generation == 2 and not host.at_least(WS2012R2):
        raise spot.fail(
            value,
            f"generation 2 VMs need Windows / Hyper-V Server 2012 R2 (6.3) or newer; "
            f"this host is {host.version_text}",
            code="generation-unsupported-by-host",
        )
    return generation


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


def check_root_format(generation: int, fmt: str, image: Image) -> None:
    if generation == 2 and fmt == "vhd":
        known = image.file_format is not None
        reason = "a generation 2 VM boots only from a VHDX root disk; convert the image to VHDX"
        if not known:
            reason += " (or, if the file is VHDX registered as vhd, give its real format)"
        raise RuleViolation(
            "gen2-requires-vhdx",
            "file_format" if known else "disk_format",
            fmt,
            "vhdx (or iso)",
            reason,
            source="image",
        )
