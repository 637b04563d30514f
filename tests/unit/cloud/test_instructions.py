"""What the command prints: the client environment, a curl example, the first commands."""

from __future__ import annotations

import shlex

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
    text = instructions.render(PORTS, people["admin"], people["demo"], "/s/etc/openrc-admin",
                               ("hyperv-host-1",), "hyperv.HyperVDriver", 3.21)
    assert text.startswith("nova-hyperv cloud is up (3.2 s)")
    assert f"export OS_PASSWORD={people['admin'].password}" in text
    assert f"compute    http://127.0.0.1:{PORTS['compute']}/v2.1" in text
    assert "--image hyperv-gen2-secureboot --flavor hv.secureboot --network private" in text
    assert f"curl -si http://127.0.0.1:{PORTS['identity']}/v3/auth/tokens" in text
    assert people["demo"].password in text
    assert text.rstrip().endswith("to find everything again.")
