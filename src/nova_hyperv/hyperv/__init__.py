"""The Hyper-V client: Hyper-V's own model (VMs, devices, jobs, the host) over a
CimSession. It speaks only `nova_hyperv.cim` (never the emulator, never Nova) and takes
its orders as `nova_hyperv.rules.VmPlan`s.

Modules: `host` (what the host is, as the rules' HostFacts; vSwitches), `build` (a VM
from a plan, with rollback), `vms` (lookup, listing, snapshot), `power` (state changes,
guest shutdown, reboot, destroy), `client` (one host: caches and the above together).
"""

from __future__ import annotations

from nova_hyperv.hyperv.client import HyperVClient, Snapshot
from nova_hyperv.hyperv.errors import (
    HostConfigurationError,
    HyperVError,
    VmCreateFailed,
    VmNotFound,
    VmStateError,
)
from nova_hyperv.hyperv.host import HostInfo, HostNode, PciDevice, VSwitch
from nova_hyperv.hyperv.names import RequestedState, VmState
from nova_hyperv.hyperv.vms import Vm, VmSummary

__all__ = [
    "HostConfigurationError",
    "HostInfo",
    "HostNode",
    "HyperVClient",
    "HyperVError",
    "PciDevice",
    "RequestedState",
    "Snapshot",
    "VSwitch",
    "Vm",
    "VmCreateFailed",
    "VmNotFound",
    "VmState",
    "VmStateError",
    "VmSummary",
]
