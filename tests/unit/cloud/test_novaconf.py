"""nova.conf and api-paste.ini as rendered for a run of the cloud."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

from nova_hyperv.cloud import novaconf
from nova_hyperv.cloud.settings import SERVICES
from nova_hyperv.cloud.statedir import StateDir

PORTS = {name: 32000 + i for i, name in enumerate(SERVICES)}


def _render(tmp_path: Path) -> tuple[str, StateDir]:
    state = StateDir(tmp_path)
    return novaconf.render_nova_conf(state, PORTS, "the-token"), state


def test_nova_conf_points_nova_at_this_cloud(tmp_path: Path) -> None:
    text, state = _render(tmp_path)
    conf = configparser.ConfigParser(strict=False, interpolation=None)
    conf.read_string(text)
    assert conf["DEFAULT"]["compute_driver"] == "hyperv.HyperVDriver"
    assert conf["DEFAULT"]["transport_url"] == "fake:/"
    assert conf["DEFAULT"]["state_path"] == str(state.nova)
    assert conf["api_database"]["connection"] == f"sqlite:///{state.database('nova_api')}"
    assert conf["database"]["connection"] == f"sqlite:///{state.database('nova_cell1')}"
    assert conf["glance"]["endpoint_override"] == f"http://127.0.0.1:{PORTS['image']}"
    for group in ("neutron", "placement", "cinder", "keystone"):
        assert (conf[group]["auth_type"], conf[group]["token"]) == ("admin_token",
                                                                     "the-token")
    assert conf["cinder"]["endpoint_template"].endswith("/v3/%(project_id)s")
    assert conf["wsgi"]["api_paste_config"] == str(state.etc / "api-paste.ini")


def test_every_guide_feature_can_be_scheduled_and_run(tmp_path: Path) -> None:
    text, _ = _render(tmp_path)
    conf = configparser.ConfigParser(strict=False, interpolation=None)
    conf.read_string(text)
    filters = conf["filter_scheduler"]["enabled_filters"].split(",")
    assert {"NUMATopologyFilter", "PciPassthroughFilter", "ComputeFilter"} <= set(filters)
    assert conf["hyperv"]["enable_remotefx"] == "true"
    assert conf["image_cache"]["manager_interval"] == "-1"
    assert conf["quota"]["instances"] == "-1"


def test_multi_valued_options_are_repeated_keys(tmp_path: Path) -> None:
    text, _ = _render(tmp_path)
    def values(key: str) -> list[dict]:
        return [json.loads(line.split("=", 1)[1]) for line in text.splitlines()
                if line.startswith(f"{key} =")]

    assert values("alias") == list(novaconf.PCI_ALIASES)
    assert values("device_spec") == list(novaconf.PCI_DEVICE_SPECS)


def test_api_paste_puts_the_token_check_before_nova_context(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    text = novaconf.render_api_paste_ini(state)
    paste = configparser.ConfigParser(interpolation=None)
    paste.read_string(text)
    pipeline = paste["pipeline:openstack_compute_api_v21"]["pipeline"].split()
    assert pipeline.index("cloud_token") == pipeline.index("keystonecontext") - 1
    assert "authtoken" not in text.split("\n[", 1)[1]
    assert paste["filter:cloud_token"]["state_dir"] == str(state.root)
