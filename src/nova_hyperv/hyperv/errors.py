"""What the Hyper-V client raises (on top of the CimSession's own errors)."""

from __future__ import annotations

__all__ = [
    "HostConfigurationError",
    "HyperVError",
    "VmCreateFailed",
    "VmNotFound",
    "VmStateError",
]


class HyperVError(Exception):
    """Base of the Hyper-V client's errors."""


class VmNotFound(HyperVError):
    def __init__(self, name: str, uuid: str | None = None) -> None:
        which = f"{name!r}" + (f" (instance {uuid})" if uuid else "")
        super().__init__(f"no virtual machine {which} on this Hyper-V host")
        self.name = name
        self.uuid = uuid


class VmStateError(HyperVError):
    """The VM is not in a state that allows the operation (and did not reach one)."""


class VmCreateFailed(HyperVError):
    """Building a VM failed part-way; what was made has been removed."""

    def __init__(self, name: str, step: str, cause: BaseException,
                 cleanup_error: BaseException | None = None) -> None:
        text = f"creating virtual machine {name!r} failed while {step}: {cause}"
        if cleanup_error is not None:
            text += f" (and removing the partly built VM failed too: {cleanup_error})"
        super().__init__(text)
        self.name = name
        self.step = step
        self.cause = cause
        self.cleanup_error = cleanup_error


class HostConfigurationError(HyperVError):
    """The host lacks something the configuration names (a vSwitch, ...)."""
