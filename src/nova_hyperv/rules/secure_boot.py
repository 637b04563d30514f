"""UEFI Secure Boot: image capability, flavor precedence, os_type and templates.

The usage guide decides (design brief section 4): the flavor's os:secure_boot wins over
the image's os_secure_boot; `optional` on the image only means "capable", so Secure
Boot is on for such an image only when the flavor says `required`; a flavor that
requires it on an image that is not capable is refused, because the guide says such an
instance would run but be unusable.
"""

from __future__ import annotations

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2016, HostFacts
from nova_hyperv.rules.plan import SECURE_BOOT_TEMPLATES, SecureBootPlan
from nova_hyperv.rules.request import Flavor, Image
from nova_hyperv.rules.values import Spot, text

__all__ = ["os_type", "secure_boot"]

IMAGE_VALUES = ("disabled", "optional", "required")
FLAVOR_VALUES = ("disabled", "required")
OS_TYPES = ("windows", "linux")
TEMPLATE_FOR_OS = {
    "windows": "MicrosoftWindows",
    "linux": "MicrosoftUEFICertificateAuthority",
}


def os_type(image: Image) -> str | None:
    """os_type, lower-cased as Nova does; any text (only some rules restrict it)."""
    value = text(image.properties, Spot("image property", "os_type", "secure-boot-requires-os-type",
                                        ", ".join(OS_TYPES)))
    return value.lower() if value else None


def _image_setting(image: Image) -> str:
    spot = Spot("image property", "os_secure_boot", "secure-boot-invalid",
                ", ".join(IMAGE_VALUES))
    value = text(image.properties, spot)
    if value is None:
        return "disabled"
    if value not in IMAGE_VALUES:
        raise spot.fail(value, "is not a Secure Boot setting")
    return value


def _flavor_setting(flavor: Flavor) -> str | None:
    spot = Spot("flavor extra spec", "os:secure_boot", "secure-boot-invalid",
                ", ".join(FLAVOR_VALUES))
    value = text(flavor.extra_specs, spot)
    if value is not None and value not in FLAVOR_VALUES:
        raise spot.fail(value, "is not a flavor Secure Boot setting (images may say optional, "
                        "flavors may not)")
    return value


def secure_boot(flavor: Flavor, image: Image, generation: int, host: HostFacts) -> SecureBootPlan:
    image_value = _image_setting(image)
    flavor_value = _flavor_setting(flavor)
    if flavor_value == "required":
        if image_value == "disabled":
            raise RuleViolation(
                "secure-boot-image-not-capable",
                "os:secure_boot",
                flavor_value,
                "required only for images with os_secure_boot optional or required",
                "the image is not prepared for Secure Boot (its os_secure_boot is "
                f"{image_value}), so the instance would run but not be usable",
                source="flavor extra spec",
            )
        enabled, field, source = True, "os:secure_boot", "flavor extra spec"
    elif flavor_value == "disabled":
        enabled = False
    else:
        enabled, field, source = image_value == "required", "os_secure_boot", "image property"
    if not enabled:
        return SecureBootPlan(enabled=False)

    if generation != 2:
        raise RuleViolation(
            "secure-boot-requires-gen2",
            field,
            "required",
            "Secure Boot only with hw_machine_type=hyperv-gen2",
            "Secure Boot needs UEFI, which only generation 2 VMs have",
            source=source,
        )
    guest = os_type(image)
    if guest not in OS_TYPES:
        raise RuleViolation(
            "secure-boot-requires-os-type",
            "os_type",
            guest,
            ", ".join(OS_TYPES),
            "Secure Boot needs to know the guest OS to pick its certificate template",
            source="image property",
        )
    if guest == "linux" and not host.at_least(WS2016):
        raise RuleViolation(
            "secure-boot-linux-requires-host-10",
            "os_type",
            guest,
            "windows on this host; linux on Windows / Hyper-V Server 2016 (10.0) or newer",
            f"Secure Boot for Linux guests needs a 2016 or newer host; this host is "
            f"{host.version_text} (set hypervisor_version_requires='>=10.0' on the image)",
            source="image property",
        )
    template = TEMPLATE_FOR_OS[guest]
    return SecureBootPlan(enabled=True, template=template,
                          template_id=SECURE_BOOT_TEMPLATES[template])
