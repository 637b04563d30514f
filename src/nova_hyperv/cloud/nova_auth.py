"""The token check in front of nova's API and placement. DEMO ONLY.

nova 34 dropped noauth2 and trusts whatever identity headers reach its
`keystonecontext` filter (normally put there by keystonemiddleware after asking
Keystone). This filter takes keystonemiddleware's place for the local cloud: it checks
the X-Auth-Token against the cloud's token authority, removes any identity header the
client sent, and sets the ones a validated Keystone token would (user, project, roles,
service catalog). It binds no port itself; the cloud serves only 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from nova_hyperv.cloud import catalog
from nova_hyperv.cloud.statedir import StateDir, accounts
from nova_hyperv.cloud.tokens import AuthError, Identity, TokenAuthority

WsgiApp = Callable[..., Iterable[bytes]]

# Headers keystonemiddleware sets (and strips from what clients send).
_IDENTITY_HEADERS = (
    "X_IDENTITY_STATUS", "X_DOMAIN_ID", "X_DOMAIN_NAME", "X_PROJECT_ID", "X_PROJECT_NAME",
    "X_PROJECT_DOMAIN_ID", "X_PROJECT_DOMAIN_NAME", "X_USER_ID", "X_USER_NAME",
    "X_USER_DOMAIN_ID", "X_USER_DOMAIN_NAME", "X_ROLES", "X_SERVICE_CATALOG", "X_TENANT_ID",
    "X_TENANT_NAME", "X_TENANT", "X_USER", "X_ROLE", "X_SYSTEM_SCOPE", "X_IS_ADMIN_PROJECT",
    "X_SERVICE_ROLES", "X_SERVICE_IDENTITY_STATUS",
)


class TokenCheck:
    """WSGI middleware: 401 without a valid token; keystone headers with one."""

    def __init__(self, app: WsgiApp, authority: TokenAuthority,
                 ports: Mapping[str, int] | None = None, *, public_paths: tuple[str, ...] = (),
                 placement_style: bool = False) -> None:
        self.app = app
        self.authority = authority
        self.ports = ports
        self.public_paths = public_paths
        self.placement_style = placement_style

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        for name in _IDENTITY_HEADERS:
            environ.pop(f"HTTP_{name}", None)
        if environ.get("PATH_INFO", "/") in self.public_paths:
            return self.app(environ, start_response)
        try:
            identity = self.authority.validate(environ.get("HTTP_X_AUTH_TOKEN", ""))
        except AuthError as error:
            body = json.dumps({"error": {"code": 401, "title": "Unauthorized",
                                         "message": f"Authentication required ({error})."}
                               }).encode()
            start_response("401 Unauthorized", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                ("WWW-Authenticate", 'Keystone uri="see the cloud\'s printed OS_AUTH_URL"')])
            return [body]
        self._set_headers(environ, identity)
        return self.app(environ, start_response)

    def _set_headers(self, environ: dict[str, Any], identity: Identity) -> None:
        environ.update({
            "HTTP_X_IDENTITY_STATUS": "Confirmed",
            "HTTP_X_USER_ID": identity.user_id, "HTTP_X_USER_NAME": identity.user_name,
            "HTTP_X_USER_DOMAIN_ID": "default", "HTTP_X_USER_DOMAIN_NAME": "Default",
            "HTTP_X_PROJECT_ID": identity.project_id,
            "HTTP_X_PROJECT_NAME": identity.project_name,
            "HTTP_X_PROJECT_DOMAIN_ID": "default", "HTTP_X_PROJECT_DOMAIN_NAME": "Default",
            "HTTP_X_ROLES": ",".join(identity.roles),
            "HTTP_X_IS_ADMIN_PROJECT": "True" if identity.is_admin else "False",
        })
        if self.ports is not None:
            environ["HTTP_X_SERVICE_CATALOG"] = json.dumps(
                _v2_catalog(catalog.build_catalog(self.ports, identity.project_id)))
        if self.placement_style:
            # placement's own NoAuth filter (which this wraps) reads user:project from
            # the token and the roles from X-Roles.
            environ["HTTP_X_AUTH_TOKEN"] = f"{identity.user_id}:{identity.project_id}"


def _v2_catalog(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The X-Service-Catalog header carries the v2 shape (what nova's context expects).
    return [{"type": e["type"], "name": e["name"], "endpoints": [
        {"region": ep["region"], "publicURL": ep["url"], "internalURL": ep["url"],
         "adminURL": ep["url"]} for ep in e["endpoints"] if ep["interface"] == "public"]}
        for e in entries]


def paste_filter_factory(global_conf: dict[str, Any], **local_conf: str
                         ) -> Callable[[WsgiApp], WsgiApp]:
    """`[filter:cloud_token]` of the cloud's api-paste.ini: state_dir and ports_file name
    where the secret, the accounts and the services' ports are."""
    state = StateDir(local_conf["state_dir"])
    manifest = json.loads(state.manifest.read_text())
    authority = TokenAuthority(manifest["secret"], accounts(manifest).values())
    ports = json.loads(Path(local_conf["ports_file"]).read_text())

    def make(app: WsgiApp) -> WsgiApp:
        return TokenCheck(app, authority, ports)

    return make
