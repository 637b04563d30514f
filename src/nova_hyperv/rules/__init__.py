"""The rules layer: an instance request + host facts + [hyperv] config -> VmPlan.

Pure: it imports nothing of ours and nothing of Nova's, touches no host and no file,
and either returns an immutable `VmPlan` or raises one `RuleViolation`.
"""

from nova_hyperv.rules.disk_size import DiskLayout, DiskMath, default_disk_math
from nova_hyperv.rules.errors import CODES, RuleViolation
from nova_hyperv.rules.host import AssignablePciDevice, HostFacts, HostNumaNode
from nova_hyperv.rules.nics import can_hot_plug_nic, plan_nic, require_nic_hot_plug
from nova_hyperv.rules.plan import (
    SECURE_BOOT_TEMPLATES,
    DiskPlan,
    MemoryPlan,
    NicPlan,
    NumaPlan,
    PciDevicePlan,
    ProcessorPlan,
    RemoteFxPlan,
    SecureBootPlan,
    SerialPortPlan,
    VmPlan,
    VtpmPlan,
)
from nova_hyperv.rules.planner import plan_instance, plan_resize
from nova_hyperv.rules.request import (
    BlockDevices,
    Ephemeral,
    Flavor,
    HyperVConfig,
    Image,
    Instance,
    InstanceRequest,
    PciRequest,
    Vif,
    Volume,
    config_from_mapping,
    flavor_from_mapping,
)

__all__ = [
    "CODES",
    "SECURE_BOOT_TEMPLATES",
    "AssignablePciDevice",
    "BlockDevices",
    "DiskLayout",
    "DiskMath",
    "DiskPlan",
    "Ephemeral",
    "Flavor",
    "HostFacts",
    "HostNumaNode",
    "HyperVConfig",
    "Image",
    "Instance",
    "InstanceRequest",
    "MemoryPlan",
    "NicPlan",
    "NumaPlan",
    "PciDevicePlan",
    "PciRequest",
    "ProcessorPlan",
    "RemoteFxPlan",
    "RuleViolation",
    "SecureBootPlan",
    "SerialPortPlan",
    "Vif",
    "VmPlan",
    "Volume",
    "VtpmPlan",
    "can_hot_plug_nic",
    "config_from_mapping",
    "default_disk_math",
    "flavor_from_mapping",
    "plan_instance",
    "plan_nic",
    "plan_resize",
    "require_nic_hot_plug",
]
