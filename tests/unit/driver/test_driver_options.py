"""The [hyperv] options: old names and defaults kept, no clash with nova, docs and sample true."""

from __future__ import annotations

import logging
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from oslo_config import cfg, generator

from nova_hyperv import conf as hyperv_conf

ROOT = Path(__file__).resolve().parents[3]

# What nova's former in-tree [hyperv] options and compute-hyperv's were: name -> (type,
# default, minimum). Written from their documentation (compute-hyperv-behaviour.md §3),
# not from our module, so a changed name, type, default or bound fails here.
OLD_OPTIONS = {
    # nova's in-tree driver
    "dynamic_memory_ratio": (cfg.FloatOpt, 1.0, None),
    "enable_instance_metrics_collection": (cfg.BoolOpt, False, None),
    "instances_path_share": (cfg.StrOpt, "", None),
    "limit_cpu_features": (cfg.BoolOpt, False, None),
    "mounted_disk_query_retry_count": (cfg.IntOpt, 10, 0),
    "mounted_disk_query_retry_interval": (cfg.IntOpt, 5, 0),
    "power_state_check_timeframe": (cfg.IntOpt, 60, 0),
    "power_state_event_polling_interval": (cfg.IntOpt, 2, 0),
    "qemu_img_cmd": (cfg.StrOpt, "qemu-img.exe", None),
    "vswitch_name": (cfg.StrOpt, None, None),
    "wait_soft_reboot_seconds": (cfg.IntOpt, 60, 0),
    "config_drive_cdrom": (cfg.BoolOpt, False, None),
    "config_drive_inject_password": (cfg.BoolOpt, False, None),
    "volume_attach_retry_count": (cfg.IntOpt, 10, 0),
    "volume_attach_retry_interval": (cfg.IntOpt, 5, 0),
    "enable_remotefx": (cfg.BoolOpt, False, None),
    "use_multipath_io": (cfg.BoolOpt, False, None),
    "iscsi_initiator_list": (cfg.ListOpt, [], None),
    # compute-hyperv
    "evacuate_task_state_timeout": (cfg.IntOpt, 600, None),
    "cluster_event_check_interval": (cfg.IntOpt, 2, None),
    "instance_automatic_shutdown": (cfg.BoolOpt, False, None),
    "instance_live_migration_timeout": (cfg.IntOpt, 300, 0),
    "max_failover_count": (cfg.IntOpt, 1, 1),
    "failover_period": (cfg.IntOpt, 6, 1),
    "recreate_ports_on_failover": (cfg.BoolOpt, True, None),
    "auto_failback": (cfg.BoolOpt, True, None),
    "force_destroy_instances": (cfg.BoolOpt, False, None),
    "move_disks_on_cold_migration": (cfg.BoolOpt, True, None),
}
CLUSTER_ONLY = {"cluster_event_check_interval", "instance_live_migration_timeout",
                "max_failover_count", "failover_period", "recreate_ports_on_failover",
                "auto_failback"}
NEW_OPTIONS = {"host_uri", "image_preflight"}


def _opts() -> dict[str, cfg.Opt]:
    [(group, opts)] = hyperv_conf.list_opts()
    assert group.name == "hyperv"
    return {opt.name: opt for opt in opts}


def _fresh_conf(config_text: str | None = None, tmp_path: Path | None = None) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt("state_path", default="/var/lib/nova"))
    hyperv_conf.register_opts(conf)
    args: list[str] = []
    if config_text is not None:
        assert tmp_path is not None
        path = tmp_path / "nova.conf"
        path.write_text(config_text)
        args = ["--config-file", str(path)]
    conf(args, project="nova", default_config_files=[], default_config_dirs=[])
    return conf


def test_exactly_the_old_options_and_the_new_ones_are_registered() -> None:
    assert set(_opts()) == set(OLD_OPTIONS) | NEW_OPTIONS


@pytest.mark.parametrize("name", sorted(OLD_OPTIONS))
def test_old_option_keeps_its_type_default_and_bound(name: str) -> None:
    opt_type, default, minimum = OLD_OPTIONS[name]
    opt = _opts()[name]
    assert type(opt) is opt_type
    assert opt.default == default
    assert getattr(opt.type, "min", None) == minimum


def test_only_the_cluster_driver_options_are_deprecated() -> None:
    deprecated = {name for name, opt in _opts().items() if opt.deprecated_for_removal}
    assert deprecated == CLUSTER_ONLY


def test_setting_a_cluster_option_warns_that_it_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conf = _fresh_conf("[hyperv]\nmax_failover_count = 3\n", tmp_path)
    with caplog.at_level(logging.WARNING, logger="oslo_config.cfg"):
        assert conf.hyperv.max_failover_count == 3
    assert "max_failover_count" in caplog.text
    assert "no failover-cluster driver" in caplog.text


def test_an_old_nova_conf_still_loads_with_the_same_meaning(tmp_path: Path) -> None:
    conf = _fresh_conf(
        "[hyperv]\n"
        "dynamic_memory_ratio = 1.5\n"
        "vswitch_name = external\n"
        "iscsi_initiator_list = iqn.a, iqn.b\n"
        "enable_remotefx = true\n"
        "move_disks_on_cold_migration = false\n",
        tmp_path,
    )
    assert conf.hyperv.dynamic_memory_ratio == 1.5
    assert conf.hyperv.vswitch_name == "external"
    assert conf.hyperv.iscsi_initiator_list == ["iqn.a", "iqn.b"]
    assert conf.hyperv.enable_remotefx is True
    assert conf.hyperv.move_disks_on_cold_migration is False


def test_a_value_below_an_old_bound_is_still_refused(tmp_path: Path) -> None:
    conf = _fresh_conf("[hyperv]\nwait_soft_reboot_seconds = -1\n", tmp_path)
    with pytest.raises(cfg.ConfigFileValueError):
        _ = conf.hyperv.wait_soft_reboot_seconds


def test_new_options_defaults() -> None:
    conf = _fresh_conf()
    assert conf.hyperv.image_preflight is True
    assert conf.hyperv.host_uri == "emulated:///var/lib/nova/hyperv-host.db"
    assert hyperv_conf.parse_host_uri(conf.hyperv.host_uri) == hyperv_conf.HostUri(
        scheme="emulated", path="/var/lib/nova/hyperv-host.db")


def test_host_uri_defaults_to_the_local_wmi_host_on_windows() -> None:
    assert hyperv_conf.default_host_uri("win32") == "wmi://."
    assert hyperv_conf.default_host_uri("linux") == "emulated://$state_path/hyperv-host.db"


def test_no_other_installed_project_registers_a_hyperv_group() -> None:
    """nova 34 (and every library in its venv) left [hyperv] to us: nothing to collide with.

    If a future nova, or compute-hyperv installed alongside, registered [hyperv] options
    of its own, oslo.config would raise DuplicateOptError for differing definitions.
    """
    owners = []
    for ep in entry_points(group="oslo.config.opts"):
        if ep.value == "nova_hyperv.conf:list_opts":
            continue
        for group, opts in ep.load()():
            name = getattr(group, "name", group)
            if name == "hyperv" and opts:
                owners.append((ep.name, [opt.name for opt in opts]))
    assert owners == []


def test_registers_on_nova_conf_beside_all_of_novas_options() -> None:
    import nova.conf

    hyperv_conf.register_opts(nova.conf.CONF)
    hyperv_conf.register_opts(nova.conf.CONF)  # idempotent, as module imports repeat it
    assert nova.conf.CONF.hyperv.qemu_img_cmd == "qemu-img.exe"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("wmi://.", hyperv_conf.HostUri(scheme="wmi")),
        ("WMI://./", hyperv_conf.HostUri(scheme="wmi")),
        ("emulated:///var/lib/nova/host.db",
         hyperv_conf.HostUri(scheme="emulated", path="/var/lib/nova/host.db")),
        ("emulated:///C:/OpenStack/host.db",
         hyperv_conf.HostUri(scheme="emulated", path="C:/OpenStack/host.db")),
    ],
)
def test_host_uri_accepted_forms(value: str, expected: hyperv_conf.HostUri) -> None:
    assert hyperv_conf.parse_host_uri(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("wmi://hv-02", "only the local host"),
        ("wmi://./root/virtualization/v2", "only the local host"),
        ("emulated://var/lib/host.db", "absolute path"),
        ("emulated:///var/lib/", "absolute path"),
        ("emulated:host.db", "absolute path"),
        ("emulated:///host.db?profile=ws2016", "query strings"),
        ("/var/lib/nova/host.db", "unknown scheme ''"),
        ("http://hv-01", "unknown scheme 'http'"),
    ],
)
def test_host_uri_refusals_name_the_value_and_what_is_allowed(value: str, reason: str) -> None:
    with pytest.raises(hyperv_conf.InvalidHostUri) as err:
        hyperv_conf.parse_host_uri(value)
    message = str(err.value)
    assert f"host_uri = {value!r}" in message
    assert reason in message
    assert "wmi://." in message


def _doc_rows() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = {}
    for match in re.finditer(r"^\| `(\w+)` \| (\w+) \| `([^`]*)` \|", text, re.MULTILINE):
        rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def _doc_default(opt: cfg.Opt) -> str:
    if opt.sample_default is not None:
        return str(opt.sample_default)
    if opt.default is None:
        return "<None>"
    if isinstance(opt.default, bool):
        return str(opt.default).lower()
    if isinstance(opt.default, list):
        return ",".join(opt.default)
    return str(opt.default)


def test_configuration_doc_lists_every_option_with_its_type_and_default() -> None:
    type_names = {cfg.StrOpt: "string", cfg.BoolOpt: "boolean", cfg.IntOpt: "integer",
                  cfg.FloatOpt: "float", cfg.ListOpt: "list"}
    expected = {name: (type_names[type(opt)], _doc_default(opt)) for name, opt in _opts().items()}
    assert _doc_rows() == expected


def test_sample_config_is_what_the_generator_writes(tmp_path: Path) -> None:
    out = tmp_path / "sample.conf"
    generator.main(["--config-file", str(ROOT / "etc" / "oslo-config-generator" /
                                         "nova-hyperv.conf"),
                    "--output-file", str(out)])
    committed = (ROOT / "etc" / "nova-hyperv.conf.sample").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, (
        "etc/nova-hyperv.conf.sample is stale; regenerate it with "
        "oslo-config-generator --config-file etc/oslo-config-generator/nova-hyperv.conf"
    )
