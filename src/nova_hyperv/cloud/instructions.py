"""What `nova-hyperv cloud` prints once it is up: how to talk to it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from nova_hyperv.cloud.catalog import endpoint_url
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


def render(ports: Mapping[str, int], admin: Account, demo: Account, env_file: str,
           hosts: tuple[str, ...], driver: str, ready_seconds: float) -> str:
    env = environment(ports, admin)
    exports = "\n".join(f"export {key}={shlex.quote(value)}" for key, value in env.items())
    identity = endpoint_url("identity", ports["identity"], admin.project_id)
    compute = endpoint_url("compute", ports["compute"], admin.project_id)
    token_request = (
        '{"auth": {"identity": {"methods": ["password"], "password": {"user": '
        f'{{"name": "{admin.name}", "domain": {{"name": "Default"}}, "password": '
        f'"{admin.password}"}}}}}}, "scope": {{"project": {{"name": '
        f'"{admin.project_name}", "domain": {{"name": "Default"}}}}}}}}}}'
    )
    lines = [
        f"nova-hyperv cloud is up ({ready_seconds:.1f} s): {len(hosts)} compute host(s) "
        f"{', '.join(hosts)}, driver {driver}.",
        "",
        "Services (127.0.0.1 only; demo authentication, see docs/cloud.md):",
        *[f"  {name:<10} {endpoint_url(name, port, admin.project_id)}"
          for name, port in ports.items()],
        "",
        f"python-openstackclient, as admin (also in {env_file}; `demo` / "
        f"{demo.password} is a member of project demo):",
        "",
        exports,
        "",
        "Then, for example:",
        "  openstack flavor list",
        "  openstack image list",
        "  openstack server create --image hyperv-gen2-secureboot --flavor hv.secureboot "
        "--network private --wait sb1",
        "  openstack server list",
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


def env_file_text(ports: Mapping[str, int], account: Account) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n"
                   for key, value in environment(ports, account).items())
