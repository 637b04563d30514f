"""The one error the rules layer raises, and every code it may carry.

A refused request must tell the user which property or extra spec was wrong, what they
gave, what would have been accepted and why. The codes are stable strings so that
callers (the driver, scripts, tests, the docs) can match on them without parsing text;
they are all listed here so docs/usage.md can be checked against this table.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CODES", "RuleViolation"]

# code -> what it means (one line; docs/usage.md lists every code).
CODES: Mapping[str, str] = {
    # The request itself
    "flavor-invalid": "a flavor field (vcpus, memory, disk sizes) is not a usable number",
    "memory-invalid": "flavor memory is not a whole number of 2 MB units of at least 32 MB",
    "vcpus-exceed-host": "more vCPUs than the host has logical processors",
    "instance-invalid": "the instance uuid, name or hostname is missing or malformed",
    "config-invalid": "a [hyperv] option is unknown or has an unusable value",
    "image-invalid": "the image's file facts (format, virtual size, block size) are unusable",
    "image-format-unsupported": "the image is neither VHD, VHDX nor ISO",
    # Generation
    "generation-invalid": "hw_machine_type is not hyperv-gen1 or hyperv-gen2",
    "generation-unsupported-by-host": "generation 2 needs a Windows / Hyper-V Server 2012 R2+ host",
    "gen2-requires-vhdx": "a generation 2 VM's root disk must be VHDX, not VHD",
    # Image preflight (the image's partition layout)
    "image-not-uefi-bootable": "generation 2 on an image without an EFI loader on an ESP",
    "image-not-bios-bootable": "generation 1 on a GPT or UEFI-only image without BIOS boot",
    "secure-boot-requires-efi-loader": "Secure Boot on an image without an EFI boot loader",
    # Secure Boot
    "secure-boot-invalid": "os_secure_boot / os:secure_boot has an unknown value",
    "secure-boot-image-not-capable": "the flavor requires Secure Boot but the image is not capable",
    "secure-boot-requires-gen2": "Secure Boot needs a generation 2 VM",
    "secure-boot-requires-os-type": "Secure Boot needs os_type windows or linux",
    "secure-boot-linux-requires-host-10": "Secure Boot for Linux guests needs a 2016+ host",
    # Shielded VMs / vTPM
    "vtpm-invalid": "os_vtpm / os_shielded_vm is neither required nor disabled",
    "vtpm-requires-secure-boot": "a vTPM or shielded VM needs Secure Boot enabled",
    "vtpm-requires-windows": "a vTPM or shielded VM needs os_type windows",
    "vtpm-requires-host-10": "a vTPM or shielded VM needs a 2016+ host",
    "vtpm-requires-guarded-host": "a vTPM or shielded VM needs a guarded host",
    "vtpm-requires-pdk-reference": "a vTPM or shielded VM needs img_pdk_reference",
    "fsk-invalid": "an fsk:* instance metadata key or value is malformed",
    "fsk-computername-mismatch": "fsk:ComputerName differs from the instance hostname",
    # RemoteFX
    "remotefx-unsupported-by-host": "RemoteFX is gone from Windows Server 2019 on; use DDA",
    "remotefx-disabled": "RemoteFX is requested but [hyperv] enable_remotefx is off",
    "remotefx-requires-rds-virtualization": "the host lacks the RDS-Virtualization feature",
    "remotefx-requires-gpu": "the host has no RemoteFX-capable GPU",
    "remotefx-gen2-requires-host-10": "RemoteFX on generation 2 VMs needs a 2016 host",
    "remotefx-resolution-invalid": "os:resolution is not a resolution this host offers",
    "remotefx-monitors-invalid": "os:monitors is out of range for the resolution",
    "remotefx-vram-invalid": "os:vram is not 64, 128, 256, 512 or 1024 MiB",
    # vNUMA
    "numa-nodes-invalid": "hw:numa_nodes is not a whole number between 1 and the vCPU count",
    "numa-cell-invalid": "a hw:numa_cpus.N / hw:numa_mem.N names a node that does not exist",
    "numa-topology-incomplete": "explicit vNUMA cells do not cover every node",
    "numa-cpus-invalid": "hw:numa_cpus.N is malformed, overlaps or does not cover every vCPU",
    "numa-memory-invalid": "hw:numa_mem.N is malformed or does not add up to the flavor memory",
    "numa-image-conflicts-with-flavor": "image hw_numa_* contradicts the flavor's hw:numa_*",
    "numa-asymmetric": "vNUMA nodes differ in vCPUs or memory (Hyper-V is symmetric only)",
    "numa-node-exceeds-host": "a vNUMA node is larger than the host's largest NUMA node",
    # Processors
    "cpu-features-invalid": "hw:cpu_features / hw_cpu_features is not text",
    "nested-virtualization-requires-host-10": "nested virtualization needs a 2016+ host",
    "nested-virtualization-unsupported-on-cluster": "nested virtualization on a clustered host",
    # Disks
    "disk-qos-invalid": "quota:disk_total_iops_sec / _bytes_sec is not a usable number",
    "disk-qos-unsupported-by-host": "IOPS limits need a Windows / Hyper-V Server 2012 R2+ host",
    "disk-bus-invalid": "a disk bus is neither ide nor scsi",
    "disk-bus-unsupported-by-generation": "IDE is asked for on a generation 2 VM",
    "root-disk-bus-invalid": "a generation 1 VM's root disk must be on IDE",
    "disk-device-type-unsupported": "a block device is not of type disk",
    "disk-slots-exhausted": "no controller slot is left for a disk",
    "ephemeral-invalid": "an ephemeral disk's size is unusable or exceeds the flavor",
    "volume-invalid": "a volume's id is missing or repeated",
    "volume-connection-type-unsupported": "a volume's connection type is not iscsi, "
    "fibre_channel or smbfs",
    "volume-ide-hot-attach": "a volume is attached on IDE to a running VM",
    "boot-index-invalid": "a boot_index is not a whole number",
    "root-disk-too-small": "the flavor's root disk cannot hold the image",
    # PCI passthrough
    "pci-request-invalid": "a PCI request's vendor/product id or count is malformed",
    "pci-passthrough-requires-host-10": "PCI passthrough (DDA) needs a 2016+ host",
    "pci-devices-unavailable": "the host has too few free assignable devices of that kind",
    # Serial ports
    "serial-port-invalid": "interactive_serial_port / logging_serial_port is not 1 or 2",
    # NICs
    "nic-invalid": "a NIC's id or MAC address is malformed",
    "nic-hot-plug-requires-host-10": "NIC hot plug on a running VM needs a 2016+ host",
    "nic-hot-plug-requires-gen2": "NIC hot plug on a running VM needs a generation 2 VM",
    # Rescue
    "rescue-generation-mismatch": "the rescue image's generation differs from the instance's",
    "rescue-image-iso-unsupported": "a rescue image must be a VHD or VHDX disk, not an ISO",
    # Resize
    "resize-root-disk-smaller": "a resize would shrink the root disk",
    "resize-ephemeral-disk-smaller": "a resize would shrink the ephemeral disks",
}


def _shown(value: object) -> str:
    if value is None:
        return "(not set)"
    return repr(value)


class RuleViolation(ValueError):
    """The request cannot become a VM on this host; nothing was touched.

    `code` is one of CODES; `field` is the property, extra spec, option or request
    field at fault (as the user writes it); `value` is what was given (None when the
    problem is that it is missing); `allowed` says what would be accepted.
    """

    def __init__(
        self,
        code: str,
        field: str,
        value: object,
        allowed: str,
        reason: str,
        *,
        source: str = "",
    ) -> None:
        if code not in CODES:
            raise AssertionError(f"unregistered rule violation code {code!r}")
        self.code = code
        self.field = field
        self.value = value
        self.allowed = allowed
        self.reason = reason
        self.source = source
        where = f"{source} {field}" if source else field
        self.message = f"{where} = {_shown(value)}: {reason}. Allowed: {allowed}."
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"RuleViolation(code={self.code!r}, field={self.field!r}, value={self.value!r})"
