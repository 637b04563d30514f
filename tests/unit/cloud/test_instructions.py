"""What the command prints: the client environment, a curl example, the first commands."""

from __future__ import annotations

import shlex
from pathlib import Path

from nova_hyperv.cloud import instructions
from nova_hyperv.cloud.settings import SERVICES
from nova_hyperv.cloud.statedir import accounts, new_manifest

PORTS = {name: 33000 + i for i, name in enumerate(SERVICES)}


def test_environment_is_what_openstackclient_reads() -> None:
    admin = accounts(new_manifest())["admin"]
    env = instructions.environment(PORTS, admin)
    assert env["OS_AUTH_URL"] == f"http://127.0.0.1:{PORTS['identity']}/v3"
    assert (env["OS_USERNAME"], env["OS_PASSWORD"], env["OS_PROJECT_NAME"]) == (
        "admin", admin.password, "admin")
    assert env["OS_COMPUTE_API_VERSION"] == "2.latest"
    exported = dict(shlex.split(line)[1].split("=", 1) for line in
                    instructions.env_file_text(PORTS, admin).splitlines())
    assert exported == env


def test_printed_text_has_exports_services_curl_and_commands() -> None:
    people = accounts(new_manifest())
    text = instructions.render(PORTS, people["admin"], people["demo"], Path("/s"),
                               ["hyperv-host-1: Windows"], 3.21)
    assert text.startswith("nova-hyperv cloud is up (3.2 s): nova with nova-hyperv's "
                           "hyperv.HyperVDriver on 1 emulated Hyper-V host(s):\n"
                           "  hyperv-host-1: Windows\n")
    assert f"export OS_PASSWORD={people['admin'].password}" in text
    assert f"compute     http://127.0.0.1:{PORTS['compute']}/v2.1" in text
    assert f"key-manager http://127.0.0.1:{PORTS['key-manager']}\n" in text
    assert "  . /s/etc/openrc-admin\n  openstack server create --image hyperv-gen2-secureboot " \
        "--flavor hv.secureboot --network private --wait sb1" in text
    assert "  nova-hyperv host show /s/hosts/<host>/hyperv-host.db" in text
    assert "nova-hyperv cloud tour --state-dir /s`" in text
    assert f"curl -si http://127.0.0.1:{PORTS['identity']}/v3/auth/tokens" in text
    assert people["demo"].password in text
    assert text.rstrip().endswith("to find everything again.")


def test_commands_name_the_virtualenv_bin_when_given(tmp_path: Path) -> None:
    people = accounts(new_manifest())
    (tmp_path / "openstack").touch()
    text = instructions.render(PORTS, people["admin"], people["demo"], Path("/s"), [], 1.0,
                               tmp_path)
    assert f"  {tmp_path}/openstack server create --image" in text
    assert "  nova-hyperv host show" in text  # not in that folder: the bare name
