"""What `nova-hyperv cloud` prints once it is up: how to talk to it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from nova_hyperv.cloud.catalog import endpoint_url
from nova_hyperv.cloud.settings import COMPUTE_DRIVER
from nova_hyperv.cloud.statedir import Account


def environment(ports: Mapping[str, int], account: Account) -> dict[str, str]:
    """python-openstackclient's environment for `account` (password authentication)."""
    return {
        "OS_AUTH_TYPE": "password",
        "OS_AUTH_URL": endpoint_url("identity", ports["identity"], account.project_id),
        "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": account.name,
        "OS_PASSWORD": account.password,
        "OS_PROJECT_NAME": account.project_name,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "public",
        "OS_COMPUTE_API_VERSION": "2.latest",
    }


def render(ports: Mapping[str, int], admin: Account, demo: Account, state_root: Path,
           hosts: Sequence[str], ready_seconds: float, bin_dir: Path | None = None) -> str:
    """The text the command prints once up.

    `hosts` are one line per emulated host; `bin_dir` is where `openstack` and
    `nova-hyperv` are (the virtualenv's bin, which a new terminal may not have on PATH).
    """
    env = environment(ports, admin)
    exports = "\n".join(f"export {key}={shlex.quote(value)}" for key, value in env.items())
    identity = endpoint_url("identity", ports["identity"], admin.project_id)
    compute = endpoint_url("compute", ports["compute"], admin.project_id)
    openrc = shlex.quote(str(state_root / "etc" / "openrc-admin"))
    openstack = _command(bin_dir, "openstack")
    nova_hyperv = _command(bin_dir, "nova-hyperv")
    host_file = shlex.quote(str(state_root / "hosts")) + "/<host>/hyperv-host.db"
    token_request = (
        '{"auth": {"identity": {"methods": ["password"], "password": {"user": '
        f'{{"name": "{admin.name}", "domain": {{"name": "Default"}}, "password": '
        f'"{admin.password}"}}}}}}, "scope": {{"project": {{"name": '
        f'"{admin.project_name}", "domain": {{"name": "Default"}}}}}}}}}}'
    )
    lines = [
        f"nova-hyperv cloud is up ({ready_seconds:.1f} s): nova with nova-hyperv's "
        f"{COMPUTE_DRIVER} on {len(hosts)} emulated Hyper-V host(s):",
        *[f"  {line}" for line in hosts],
        "",
        "Services (127.0.0.1 only; demo authentication, see docs/cloud.md):",
        *[f"  {name:<11} {endpoint_url(name, port, admin.project_id)}"
          for name, port in ports.items()],
        "",
        f"python-openstackclient, as admin (`demo` / {demo.password} is a member of "
        "project demo):",
        "",
        exports,
        "",
        "Boot a Secure Boot generation 2 server: in another terminal, run",
        "",
        f"  . {openrc}",
        f"  {openstack} server create --image hyperv-gen2-secureboot --flavor hv.secureboot "
        "--network private --wait sb1",
        f"  {openstack} server show sb1 -c status -c OS-EXT-SRV-ATTR:host",
        "",
        "and see the VM its emulated host now holds (<host>: the server's "
        "OS-EXT-SRV-ATTR:host):",
        "",
        f"  {nova_hyperv} host show {host_file}",
        "",
        f"More: `{openstack} flavor list` and `{openstack} image list` (a flavor or image "
        "per feature of the usage guide),",
        f"`{nova_hyperv} cloud tour --state-dir {shlex.quote(str(state_root))}` (one server "
        "per feature, then what each host holds).",
        "",
        "curl: get a token, then call any service with it:",
        f"  TOKEN=$(curl -si {identity}/auth/tokens -H 'Content-Type: application/json' \\",
        f"      -d '{token_request}' \\",
        "      | awk 'tolower($1) == \"x-subject-token:\" {print $2}' | tr -d '\\r')",
        f"  curl -s {compute}/servers -H \"X-Auth-Token: $TOKEN\"",
        "",
        "Stop with Ctrl-C; start again with the same --state-dir to find everything again.",
    ]
    return "\n".join(lines)


def _command(bin_dir: Path | None, name: str) -> str:
    if bin_dir is not None and (bin_dir / name).exists():
        return shlex.quote(str(bin_dir / name))
    return name


def env_file_text(ports: Mapping[str, int], account: Account) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n"
                   for key, value in environment(ports, account).items())
