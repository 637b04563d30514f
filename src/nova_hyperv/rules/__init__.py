"""The rules layer: an instance request + host facts + [hyperv] config -> VmPlan.

Pure: it imports nothing of ours and nothing of Nova's, touches no host and no file,
and either returns an immutable `VmPlan` or raises one `RuleViolation`.
"""

from nova_hyperv.rules.disk_size import DiskLayout, DiskMath, default_disk_math
from nova_hyperv.rules.disks import plan_volume_attach
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
from nova_hyperv.rules.planner import plan_instance
from nova_hyperv.rules.request import (
    BlockDevices,
    Ephemeral,
    Flavor,
    HyperVConfig,
    Image,
    ImageLayout,
    Instance,
    InstanceRequest,
    PciRequest,
    Vif,
    Volume,
    config_from_mapping,
    flavor_from_mapping,
)
from nova_hyperv.rules.rescue import check_rescue_image
from nova_hyperv.rules.resize import (
    LocalDisks,
    check_resize_disks,
    plan_resize,
    resized_ephemerals,
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
    "ImageLayout",
    "Instance",
    "InstanceRequest",
    "LocalDisks",
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
    "check_rescue_image",
    "check_resize_disks",
    "config_from_mapping",
    "default_disk_math",
    "flavor_from_mapping",
    "plan_instance",
    "plan_nic",
    "plan_resize",
    "plan_volume_attach",
    "require_nic_hot_plug",
    "resized_ephemerals",
]
