"""Flavor extra-spec validators for Hyper-V, for nova-api.

Since microversion 2.86 nova-api refuses unknown keys in the namespaces it knows (`os`,
`hw`, ...) and checks the values of the keys it knows. nova 34 dropped the Hyper-V keys
with its in-tree driver, so without these validators `os:resolution` or `hw:cpu_features`
would be refused on `openstack flavor set`. nova collects validators from every
distribution's `nova.api.extra_spec_validators` entry point into one registry keyed by
spec name, so these sit beside nova's own `os:` and `hw:` validators (entry point
`hyperv` in pyproject.toml); nova-hyperv must be installed where nova-api runs.

A refusal names the spec, the value and what is allowed, at `flavor set` time rather
than as a failed boot later. Host-dependent limits (RemoteFX only on 2012 R2 / 2016, fewer
monitors at high resolutions) are the driver's to check: the API does not know the host.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from nova import exception
from nova.api.validation.extra_specs import base

# RemoteFX display resolutions (3840x2160 needs Windows Server 2016).
REMOTEFX_RESOLUTIONS = ("1024x768", "1280x1024", "1600x1200", "1920x1200", "2560x1600",
                        "3840x2160")
REMOTEFX_MAX_MONITORS = 8
REMOTEFX_VRAM_MIB = (64, 128, 256, 512, 1024)

_CPU_FEATURE = re.compile(r"[a-z0-9][a-z0-9_.-]*", re.IGNORECASE)


def cpu_feature_names(value: str) -> list[str]:
    """The feature names of an `hw:cpu_features` value, lower-cased.

    Case-insensitive and tolerant of spaces around commas (`"VMX, sse4.2"`), unlike
    compute-hyperv, which missed `vmx` in `"sse, vmx"`. Raises ValueError naming the first
    entry that is not a feature name.
    """
    names = [item.strip().lower() for item in value.split(",")]
    for name in names:
        if not _CPU_FEATURE.fullmatch(name):
            shown = f"entry {name!r}" if name else "an empty entry"
            raise ValueError(f"{shown} is not a CPU feature name")
    return names


def _int_in(allowed: Callable[[int], bool], refusal: str) -> Callable[[str], object]:
    def check(value: str) -> None:
        try:
            number = int(value)
        except ValueError:
            raise ValueError("it is not a whole number") from None
        if not allowed(number):
            raise ValueError(refusal)

    return check


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], object]:
    def check(value: str) -> None:
        if value not in allowed:
            raise ValueError("it is not one of the allowed values (case matters)")

    return check


@dataclasses.dataclass
class HyperVExtraSpecValidator(base.ExtraSpecValidator):
    """nova's validator, with refusals that say what is wrong and what is allowed."""

    # Raises ValueError saying why a value is refused (required).
    check: Callable[[str], object] | None = None
    # What is allowed, in words, for the refusal message.
    allowed: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.check is None or not self.allowed:
            raise TypeError(f"validator {self.name}: check and allowed are required")

    def validate(self, name: str, value: str) -> None:
        try:
            self.check(value)
        except ValueError as exc:
            raise exception.ValidationError(
                f"Validation failed; extra spec {name}={value!r} is refused: {exc}. "
                f"Allowed: {self.allowed}."
            ) from None


_RESOLUTIONS = ", ".join(REMOTEFX_RESOLUTIONS)
_VRAM = ", ".join(str(v) for v in REMOTEFX_VRAM_MIB)

VALIDATORS = [
    HyperVExtraSpecValidator(
        name="os:resolution",
        description="Hyper-V RemoteFX: enable a RemoteFX 3D video adapter with this screen "
        "resolution (needs [hyperv] enable_remotefx on a Windows Server 2012 R2 or 2016 "
        "host).",
        value={"type": str, "description": "A RemoteFX resolution.",
               "enum": list(REMOTEFX_RESOLUTIONS)},
        check=_one_of(REMOTEFX_RESOLUTIONS),
        allowed=f"one of {_RESOLUTIONS} (3840x2160 on Windows Server 2016 only)",
    ),
    HyperVExtraSpecValidator(
        name="os:monitors",
        description="Hyper-V RemoteFX: number of monitors (with os:resolution; default 1).",
        value={"type": int, "description": "Number of monitors.", "min": 1,
               "max": REMOTEFX_MAX_MONITORS},
        check=_int_in(lambda n: 1 <= n <= REMOTEFX_MAX_MONITORS, "it is out of range"),
        allowed=f"a whole number from 1 to {REMOTEFX_MAX_MONITORS} (the host may allow "
        "fewer at high resolutions)",
    ),
    HyperVExtraSpecValidator(
        name="os:vram",
        description="Hyper-V RemoteFX: video memory in MiB (with os:resolution; Windows "
        "Server 2016).",
        value={"type": int, "description": f"Video memory in MiB: one of {_VRAM}."},
        check=_int_in(lambda n: n in REMOTEFX_VRAM_MIB, "it is not a RemoteFX video memory size"),
        allowed=f"one of {_VRAM} (MiB)",
    ),
    HyperVExtraSpecValidator(
        name="hw:cpu_features",
        description="Hyper-V: CPU features to expose to the guest; 'vmx' enables nested "
        "virtualization.",
        value={"type": str, "description": "Comma-separated CPU feature names, "
               "case-insensitive, spaces allowed."},
        check=cpu_feature_names,
        allowed="a comma-separated list of CPU feature names (letters, digits, '_', '.', "
        "'-'; case and spaces around commas do not matter), for example 'vmx' for nested "
        "virtualization",
    ),
]


def register() -> list[base.ExtraSpecValidator]:
    """The `nova.api.extra_spec_validators` entry point."""
    return VALIDATORS
