"""The `[hyperv]` options of nova.conf.

nova 34 no longer registers a `[hyperv]` group, so nova-hyperv registers it, keeping the
names, types and defaults of nova's former in-tree options and of compute-hyperv's, so an
existing nova.conf keeps loading and meaning the same. Options of compute-hyperv's
failover-cluster driver are accepted and marked deprecated for removal: nova-hyperv has no
cluster driver, and oslo.config warns anyone who still sets them.

docs/configuration.md lists every option and whether the driver honours it yet;
etc/nova-hyperv.conf.sample is generated from `list_opts` (oslo-config-generator
--namespace nova_hyperv).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from oslo_config import cfg

CONF = cfg.CONF

GROUP = cfg.OptGroup(
    "hyperv",
    title="Hyper-V driver options",
    help="Options of nova-hyperv's compute driver (compute_driver = hyperv.HyperVDriver).",
)

_NO_CLUSTER = (
    "nova-hyperv has no failover-cluster driver; the option is accepted so that existing "
    "configuration files still load, and it is ignored."
)

EMULATED_SCHEME = "emulated"
WMI_SCHEME = "wmi"
# The emulated host's state file when host_uri is not set (outside Windows).
EMULATED_DEFAULT = f"{EMULATED_SCHEME}://$state_path/hyperv-host.db"
WMI_LOCAL = f"{WMI_SCHEME}://."



def default_host_uri(platform: str = sys.platform) -> str:
    """The real host on Windows, an emulated one everywhere else."""
    return WMI_LOCAL if platform == "win32" else EMULATED_DEFAULT


host_opts = [
    cfg.StrOpt(
        "host_uri",
        default=default_host_uri(),
        sample_default=EMULATED_DEFAULT,
        help=f"""
Which Hyper-V host this nova-compute manages.

* ``{WMI_LOCAL}``: the local Hyper-V host, over WMI
  (``root\\virtualization\\v2``). nova-compute runs on the host it
  manages, so only the local host is accepted.
* ``{EMULATED_SCHEME}:///absolute/path/to/state.db``: an emulated Hyper-V
  host whose state is kept in that file (created on first use). Meant for
  development, CI and trying nova-hyperv without Windows.

Default: ``{WMI_LOCAL}`` on Windows, ``{EMULATED_DEFAULT}`` elsewhere.
""",
    ),
    cfg.BoolOpt(
        "image_preflight",
        default=True,
        help="""
Check the image's partition layout against the VM generation first.

When enabled, spawn refuses, before any VM exists, a generation 2 VM on a
disk with only an MBR partition table, a generation 1 VM on a GPT disk
without a BIOS boot partition, and Secure Boot on a disk without an EFI
loader: VMs that would run but never boot. When ``hw_machine_type`` is
unset, the generation is chosen from the disk's layout.
""",
    ),
]

# Options of nova's former in-tree Hyper-V driver (same names, types, defaults, bounds).
driver_opts = [
    cfg.FloatOpt(
        "dynamic_memory_ratio",
        default=1.0,
        help="""
Dynamic memory: ratio of an instance's RAM to its startup RAM.

1.0 disables dynamic memory. A value above 1 enables it: the VM starts
with RAM / ratio and may grow to its full RAM (for example 2.0 with
4096 MB starts at 2048 MB).
""",
    ),
    cfg.BoolOpt(
        "enable_instance_metrics_collection",
        default=False,
        help="Enable Hyper-V resource metering of instances (CPU, memory, disks, ports), "
        "for consumers such as Ceilometer.",
    ),
    cfg.StrOpt(
        "instances_path_share",
        default="",
        help="""
Name of a Windows share that maps to ``instances_path``, used to copy
instance files to another host on cold migration and resize. Empty: the
administrative share of ``instances_path`` on the other host (for example
``\\\\host\\C$\\...``).
""",
    ),
    cfg.BoolOpt(
        "limit_cpu_features",
        default=False,
        help="Limit the processor features visible to new instances (Hyper-V's processor "
        "compatibility mode), so they can move between hosts with different CPUs.",
    ),
    cfg.IntOpt(
        "mounted_disk_query_retry_count",
        default=10,
        min=0,
        help="How many times to look again for the disk of an iSCSI or FC volume that was "
        "just connected before giving up.",
    ),
    cfg.IntOpt(
        "mounted_disk_query_retry_interval",
        default=5,
        min=0,
        help="Seconds between two looks for a just-connected volume's disk.",
    ),
    cfg.IntOpt(
        "power_state_check_timeframe",
        default=60,
        min=0,
        help="Seconds of power-state history the WMI event query covers when watching "
        "instances for state changes.",
    ),
    cfg.IntOpt(
        "power_state_event_polling_interval",
        default=2,
        min=0,
        help="Seconds between polls of the WMI power-state event listener; instances that "
        "reboot themselves are reported to Nova this fast.",
    ),
    cfg.StrOpt(
        "qemu_img_cmd",
        default="qemu-img.exe",
        help="The qemu-img program (name on PATH or full path), used to turn an ISO config "
        "drive into a VHD when config_drive_cdrom is False.",
    ),
    cfg.StrOpt(
        "vswitch_name",
        help="The external virtual switch that instance NICs connect to. Unset: the host's "
        "only external vSwitch.",
    ),
    cfg.IntOpt(
        "wait_soft_reboot_seconds",
        default=60,
        min=0,
        help="Seconds a guest has to shut down on a soft reboot before the VM is reset "
        "instead (hard reboot).",
    ),
    cfg.BoolOpt(
        "config_drive_cdrom",
        default=False,
        help="Attach the config drive as an ISO on a DVD drive instead of as a VHD disk "
        "(needs config_drive_format = iso9660).",
    ),
    cfg.BoolOpt(
        "config_drive_inject_password",
        default=False,
        help="Write the instance's admin password into the config drive.",
    ),
    cfg.IntOpt(
        "volume_attach_retry_count",
        default=10,
        min=0,
        help="How many more times to try attaching a volume after a failed attempt.",
    ),
    cfg.IntOpt(
        "volume_attach_retry_interval",
        default=5,
        min=0,
        help="Seconds between two volume attach attempts.",
    ),
    cfg.BoolOpt(
        "enable_remotefx",
        default=False,
        help="""
Allow RemoteFX flavors (``os:resolution``, ``os:monitors``, ``os:vram``).

The host needs a DirectX 11 capable GPU and the RDS-Virtualization
feature. RemoteFX exists on Windows Server 2012 R2 and 2016 only; later
hosts refuse it and point to PCI passthrough (DDA).
""",
    ),
    cfg.BoolOpt(
        "use_multipath_io",
        default=False,
        help="Use multipath (MPIO) for iSCSI and FC volumes; the Multipath IO feature must "
        "be installed and claim the devices.",
    ),
    cfg.ListOpt(
        "iscsi_initiator_list",
        default=[],
        help="iSCSI initiators to use for iSCSI sessions. Empty: the Microsoft iSCSI "
        "initiator service chooses.",
    ),
]

# Options of compute-hyperv (same names, types, defaults, bounds).
compute_hyperv_opts = [
    cfg.IntOpt(
        "evacuate_task_state_timeout",
        default=600,
        help="Seconds to wait for an instance's task to finish while the host is put into "
        "maintenance mode and its instances are moved away.",
    ),
    cfg.BoolOpt(
        "instance_automatic_shutdown",
        default=False,
        help="When the Hyper-V host shuts down, shut new instances down instead of saving "
        "their state (saving needs disk space as large as their RAM). Existing instances "
        "keep their setting.",
    ),
    cfg.BoolOpt(
        "force_destroy_instances",
        default=False,
        help="Destroy instances at once, without waiting for a snapshot of the instance "
        "in progress; the destroy may then fail on locked files and need a retry.",
    ),
    cfg.BoolOpt(
        "move_disks_on_cold_migration",
        default=True,
        help="On cold migration and resize, move the instance's files into the "
        "destination host's instances_path. Disable to keep them where they are (for "
        "example on shared storage).",
    ),
]



def _cluster_only(opt_class: type[cfg.Opt], name: str, help: str, **kwargs: object) -> cfg.Opt:
    return opt_class(name, help=help, deprecated_for_removal=True,
                     deprecated_reason=_NO_CLUSTER, **kwargs)


# compute-hyperv's failover-cluster driver's options: accepted, warned about, ignored.
cluster_opts = [
    _cluster_only(cfg.IntOpt, "cluster_event_check_interval", default=2,
                  help="Unused (already unused in compute-hyperv)."),
    _cluster_only(cfg.IntOpt, "instance_live_migration_timeout", default=300, min=0,
                  help="Seconds to wait for a clustered instance's live migration."),
    _cluster_only(cfg.IntOpt, "max_failover_count", default=1, min=1,
                  help="Failovers allowed per clustered VM within failover_period."),
    _cluster_only(cfg.IntOpt, "failover_period", default=6, min=1,
                  help="Hours in which max_failover_count failovers may happen."),
    _cluster_only(cfg.BoolOpt, "recreate_ports_on_failover", default=True,
                  help="Recreate the network ports of failed-over clustered instances."),
    _cluster_only(cfg.BoolOpt, "auto_failback", default=True,
                  help="Let clustered VMs fail back to their original host once it is "
                  "available."),
]

ALL_OPTS = [*host_opts, *driver_opts, *compute_hyperv_opts, *cluster_opts]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the `[hyperv]` group on `conf` (idempotent)."""
    conf.register_group(GROUP)
    conf.register_opts(ALL_OPTS, group=GROUP)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """The `oslo.config.opts` entry point: what oslo-config-generator documents."""
    return [(GROUP, ALL_OPTS)]


class InvalidHostUri(Exception):
    """`[hyperv] host_uri` is not one of the accepted forms.

    Deliberately not a ValueError: nova's load_compute_driver turns a ValueError from the
    driver's constructor into "driver is not of type ComputeDriver" and exits.
    """


@dataclass(frozen=True)
class HostUri:
    """A parsed `[hyperv] host_uri`: which host the driver talks to."""

    scheme: Literal["emulated", "wmi"]
    # The emulated host's state file (absolute); None for WMI.
    path: str | None = None


def parse_host_uri(value: str) -> HostUri:
    """Parse `host_uri`, refusing anything that is not one of the two accepted forms.

    Raises InvalidHostUri. Called when the driver starts, so a typo stops nova-compute
    with a message that says what is wrong instead of failing later at the first WMI call.
    """
    allowed = f"allowed: '{WMI_LOCAL}' or '{EMULATED_SCHEME}:///absolute/path/to/state.db'"
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise InvalidHostUri(
            f"[hyperv] host_uri = {value!r}: query strings and fragments are not "
            f"understood; {allowed}"
        )
    if parts.scheme == WMI_SCHEME:
        if parts.netloc != "." or parts.path not in ("", "/"):
            raise InvalidHostUri(
                f"[hyperv] host_uri = {value!r}: only the local host ('{WMI_LOCAL}') can "
                "be managed, because nova-compute runs on the Hyper-V host it manages"
            )
        return HostUri(scheme="wmi")
    if parts.scheme == EMULATED_SCHEME:
        if parts.netloc or not parts.path.startswith("/") or parts.path.endswith("/"):
            raise InvalidHostUri(
                f"[hyperv] host_uri = {value!r}: an emulated host needs the absolute path "
                f"of its state file after '{EMULATED_SCHEME}://' (three slashes on "
                f"Linux); {allowed}"
            )
        path = parts.path
        if re.match(r"/[A-Za-z]:/", path):  # emulated:///C:/dir/state.db on Windows
            path = path[1:]
        return HostUri(scheme="emulated", path=path)
    raise InvalidHostUri(
        f"[hyperv] host_uri = {value!r}: unknown scheme {parts.scheme!r}; {allowed}"
    )
