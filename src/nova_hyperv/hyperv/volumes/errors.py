"""What the volume code raises (on top of the CimSession's own errors)."""

from __future__ import annotations

from nova_hyperv.hyperv.errors import HyperVError

__all__ = ["HostDiskUnusable", "VolumeConfigError", "VolumeError", "VolumeExtendUnsupported",
           "VolumeNotFound"]


class VolumeError(HyperVError):
    """Base of the volume errors."""


class VolumeConfigError(VolumeError):
    """A connection info the driver cannot use (the key, the value, what is allowed)."""

    def __init__(self, volume_type: str, key: str, value: object, allowed: str,
                 reason: str) -> None:
        shown = "(not set)" if value is None else repr(value)
        super().__init__(f"{volume_type} volume connection info {key} = {shown}: {reason}; "
                         f"allowed: {allowed}")
        self.key = key
        self.value = value


class VolumeNotFound(VolumeError):
    """The host cannot see the volume (no disk for the LUN, no image on the share)."""


class HostDiskUnusable(VolumeError):
    """The volume's host disk exists but Hyper-V cannot pass it through as it is."""


class VolumeExtendUnsupported(VolumeError):
    """The volume cannot be extended while attached (SMB-backed volumes)."""
