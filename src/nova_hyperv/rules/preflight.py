"""The image preflight: a root disk whose layout cannot boot in the VM it is given.

The usage guide warns that a generation 2 image in a generation 1 VM (and the other way
round), or a Secure Boot VM on an image not prepared for it, "will spawn and will be in
the Running state, but will not be usable". With `[hyperv] image_preflight` (on by
default) the driver sniffs the image's partitions (vhdfile) and passes them in as an
`ImageLayout`; these rules refuse such a request before a VM exists, naming what the
disk holds. A layout that could not be read ("unknown") is never held against an image.
"""

from __future__ import annotations

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.generation import FROM_LAYOUT, FROM_PROPERTY
from nova_hyperv.rules.plan import SecureBootPlan
from nova_hyperv.rules.request import Image, ImageLayout

__all__ = ["RESCUE", "check_boot_layout"]

GENERATION_VALUES = {1: "hyperv-gen1", 2: "hyperv-gen2"}
RESCUE = "rescue"  # the source of a rescue's generation: the instance's VM


def _generation_refusal(code: str, generation: int, source: str, layout: ImageLayout,
                        image: Image, why: str) -> RuleViolation:
    other = GENERATION_VALUES[2 if generation == 1 else 1]
    value = image.properties.get("hw_machine_type") if source == FROM_PROPERTY else None
    # Short: what was found must fit in nova's 255-character fault.
    allowed = f"images for generation {generation}" if source == RESCUE else other
    # What was found first: nova keeps 255 characters of a fault.
    return RuleViolation(code, "hw_machine_type", value, allowed,
                         f"disk: {layout.describe()}. {why}: the VM would run but never boot",
                         source="image property")


def check_boot_layout(generation: int, source: str, image: Image,
                      secure_boot: SecureBootPlan) -> None:
    """Refuse a root image whose layout contradicts the generation or Secure Boot."""
    layout = image.layout
    if layout is None or not layout.known:
        return
    if generation == 2 and layout.scheme != "none" and not layout.uefi_boot:
        raise _generation_refusal(
            "image-not-uefi-bootable", 2, source, layout, image,
            "A generation 2 VM boots only an EFI loader on an EFI system partition")
    if generation == 1 and not layout.bios_boot and (
            layout.scheme == "gpt" or layout.uefi_boot):
        why = "A generation 1 VM boots only by BIOS"
        if source != FROM_LAYOUT and layout.uefi_boot:
            why = "A generation 2 image (set hw_machine_type=hyperv-gen2); generation 1 " \
                  "boots only by BIOS"
        raise _generation_refusal("image-not-bios-bootable", 1, source, layout, image, why)
    if secure_boot.enabled and not layout.uefi_boot:
        raise RuleViolation(
            "secure-boot-requires-efi-loader", "os_secure_boot",
            image.properties.get("os_secure_boot"),
            "disabled for this image",
            f"disk: {layout.describe()}. Secure Boot starts only a signed EFI boot loader: "
            "the VM would run but never boot", source="image property")
