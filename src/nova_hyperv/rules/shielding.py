"""Shielded VMs and vTPM: image properties, the PDK reference and FSK substitutions.

`os_shielded_vm=required` asks for a shielded VM (vTPM plus shielding);
`os_vtpm=required` for a vTPM that only encrypts. Both need Secure Boot, a Windows guest
and a guarded host, and both are provisioned from a shielding data file (PDK) held in
Barbican and a fabric data file (FSK) built from `fsk:<Name>` instance metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.host import WS2016, HostFacts
from nova_hyperv.rules.plan import SecureBootPlan, VtpmPlan
from nova_hyperv.rules.request import Image, Instance
from nova_hyperv.rules.secure_boot import os_type
from nova_hyperv.rules.values import Spot, text

__all__ = ["shielded_requested", "vtpm", "vtpm_property"]

VALUES = ("disabled", "required")
_FSK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
PDK_KEY = "img_pdk_reference"


def _requested(image: Image, key: str) -> bool:
    spot = Spot("image property", key, "vtpm-invalid", ", ".join(VALUES))
    value = text(image.properties, spot)
    if value is not None and value not in VALUES:
        raise spot.fail(value, "is not a vTPM setting")
    return value == "required"


def _fsk_substitutions(instance: Instance) -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for key, value in instance.metadata.items():
        if not isinstance(key, str) or not key.startswith("fsk:"):
            continue
        name = key[len("fsk:"):]
        spot = Spot("instance metadata", key, "fsk-invalid",
                    "fsk:<Name> with a name of letters, digits, _ . - and a text value")
        if not _FSK_NAME.match(name):
            raise spot.fail(value, "the substitution name is empty or has unusable characters")
        if not isinstance(value, str):
            raise spot.fail(value, "must be text")
        pairs[name] = value
    computer_name = pairs.get("ComputerName")
    if computer_name is None:
        pairs["ComputerName"] = instance.hostname
    elif computer_name != instance.hostname:
        raise RuleViolation(
            "fsk-computername-mismatch",
            "fsk:ComputerName",
            computer_name,
            f"the instance hostname, {instance.hostname!r} (or leave it unset)",
            "the shielded VM's computer name must be the instance's hostname",
            source="instance metadata",
        )
    return tuple((f"@@{name}@@", pairs[name]) for name in sorted(pairs))


def _pdk_reference(image: Image, metadata: Mapping[str, object]) -> str | None:
    # Instance metadata wins over the image, so one image serves many tenants' PDKs.
    for source, mapping in (("instance metadata", metadata), ("image property", image.properties)):
        value = text(mapping, Spot(source, PDK_KEY, "vtpm-requires-pdk-reference",
                                   "the id of the Barbican container holding the PDK"))
        if value is not None:
            return value
    return None


def vtpm(
    image: Image,
    instance: Instance,
    secure_boot: SecureBootPlan,
    host: HostFacts,
) -> VtpmPlan:
    shielded = _requested(image, "os_shielded_vm")
    encrypted = _requested(image, "os_vtpm")
    if not (shielded or encrypted):
        return VtpmPlan(enabled=False)
    key = "os_shielded_vm" if shielded else "os_vtpm"

    def refuse(code: str, allowed: str, reason: str) -> RuleViolation:
        return RuleViolation(code, key, "required", allowed, reason, source="image property")

    if not secure_boot.enabled:
        raise refuse(
            "vtpm-requires-secure-boot",
            "with Secure Boot on (os_secure_boot=required, or optional and the flavor's "
            "os:secure_boot=required)",
            "a vTPM protects the boot chain that Secure Boot verifies",
        )
    guest_os = os_type(image)
    if guest_os != "windows":
        raise refuse(
            "vtpm-requires-windows",
            "images with os_type=windows",
            f"Hyper-V offers a vTPM only to Windows guests (os_type is {guest_os!r})",
        )
    if not host.at_least(WS2016):
        raise refuse(
            "vtpm-requires-host-10",
            "Windows / Hyper-V Server 2016 (10.0) or newer hosts",
            f"shielded VMs and vTPMs arrived in 2016; this host is {host.version_text}",
        )
    if not host.guarded:
        raise refuse(
            "vtpm-requires-guarded-host",
            "guarded hosts only",
            "shielded VMs and vTPMs run only on a host attested by a Host Guardian Service",
        )
    pdk = _pdk_reference(image, instance.metadata)
    if pdk is None:
        raise RuleViolation(
            "vtpm-requires-pdk-reference",
            PDK_KEY,
            None,
            "the id of the Barbican container holding the PDK, as instance metadata or "
            "image property",
            "the VM is provisioned from a shielding data (PDK) file, which must be named",
            source="instance metadata",
        )
    return VtpmPlan(
        enabled=True,
        shielded=shielded,
        pdk_reference=pdk,
        fsk_substitutions=_fsk_substitutions(instance),
    )


def shielded_requested(image: Image) -> bool:
    """Whether the image asks for a shielded VM (whose consoles stay closed to the host)."""
    return _requested(image, "os_shielded_vm")


def vtpm_property(image: Image) -> str | None:
    """The image property that gives the VM a vTPM (`os_shielded_vm` or `os_vtpm` set
    to required), if one does: such a VM's TPM state stays with it on its host."""
    for key in ("os_shielded_vm", "os_vtpm"):
        if _requested(image, key):
            return key
    return None
