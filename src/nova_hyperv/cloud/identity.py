"""The identity service: the part of Keystone v3 that clients need to get a token.

python-openstackclient (keystoneauth) discovers /v3, asks for a token with a password
(or re-scopes a token) and then finds every other service in the catalog that comes with
the token. nova asks about projects (quota and flavor-access calls). That is all this
serves; accounts are the cloud's fixed ones (statedir.new_manifest).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

import webob

from nova_hyperv.cloud import catalog
from nova_hyperv.cloud.httpapi import (
    HttpError,
    JsonApp,
    Reply,
    bad_request,
    identity_of,
    json_body,
    not_found,
)
from nova_hyperv.cloud.tokens import AuthError, Identity, TokenAuthority

DOMAIN = {"id": "default", "name": "Default"}
VERSION = "v3.14"


def build_app(authority: TokenAuthority, ports: Mapping[str, int]) -> JsonApp:
    """`ports` is read on every request: it is complete once every service listens."""
    app = JsonApp("identity", authority)

    def version_doc(request: webob.Request) -> dict[str, Any]:
        return {
            "id": VERSION, "status": "stable", "updated": "2019-01-22T00:00:00Z",
            "links": [{"rel": "self", "href": f"{request.host_url}/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}],
        }

    def versions(request: webob.Request) -> Reply:
        return Reply(300, {"versions": {"values": [version_doc(request)]}})

    def v3(request: webob.Request) -> dict[str, Any]:
        return {"version": version_doc(request)}

    def token_body(identity: Identity, methods: list[str]) -> dict[str, Any]:
        return {"token": {
            "methods": methods,
            "user": {"id": identity.user_id, "name": identity.user_name, "domain": DOMAIN,
                     "password_expires_at": None},
            "project": {"id": identity.project_id, "name": identity.project_name,
                        "domain": DOMAIN},
            "roles": [{"id": role, "name": role} for role in identity.roles],
            "catalog": catalog.build_catalog(ports, identity.project_id),
            "expires_at": _iso(identity.expires_at),
            "issued_at": _iso(datetime.datetime.now(datetime.UTC).timestamp()),
            "audit_ids": [uuid.uuid4().hex[:22]],
            "is_domain": False,
        }}

    def issue(request: webob.Request) -> Reply:
        auth = json_body(request, "auth")
        methods = auth.get("identity", {}).get("methods") or []
        scope = auth.get("scope") or {}
        project = scope.get("project") or {}
        wanted = project.get("id") or project.get("name")
        try:
            if "password" in methods:
                user = auth["identity"].get("password", {}).get("user") or {}
                if not user.get("password") or not (user.get("id") or user.get("name")):
                    raise bad_request("password authentication needs user.name (or id) "
                                      "and user.password")
                account = authority.authenticate(
                    user.get("id") or user["name"], user["password"],
                    user_is_id="id" in user and "name" not in user, project=wanted)
            elif "token" in methods:
                held = authority.validate(auth["identity"].get("token", {}).get("id", ""))
                account = authority.rescope(held, wanted)
            else:
                raise bad_request(f"auth methods {methods}: this cloud accepts 'password' "
                                  "and 'token'")
        except AuthError as error:
            raise HttpError(401, str(error)) from None
        token, identity = authority.issue(account)
        return Reply(201, token_body(identity, methods), headers={"X-Subject-Token": token})

    def validate(request: webob.Request) -> Reply:
        identity_of(request)  # the caller's token is valid
        try:
            subject = authority.validate(request.headers.get("X-Subject-Token", ""))
        except AuthError as error:
            raise not_found("token", f"({error})") from None
        return Reply(200, token_body(subject, ["token"]),
                     headers={"X-Subject-Token": request.headers["X-Subject-Token"]})

    def project_doc(project_id: str, name: str) -> dict[str, Any]:
        return {"id": project_id, "name": name, "domain_id": DOMAIN["id"], "enabled": True,
                "description": "", "is_domain": False, "parent_id": DOMAIN["id"],
                "tags": [], "links": {"self": f"/v3/projects/{project_id}"}}

    def list_projects(request: webob.Request) -> dict[str, Any]:
        caller = identity_of(request)
        projects = [project_doc(pid, name) for pid, name in authority.projects().items()
                    if caller.is_admin or pid == caller.project_id]
        name = request.GET.get("name")
        if name:
            projects = [p for p in projects if p["name"] == name]
        return {"projects": projects, "links": {"self": "/v3/projects", "next": None,
                                                "previous": None}}

    def show_project(request: webob.Request, project_id: str) -> dict[str, Any]:
        caller = identity_of(request)
        for pid, name in authority.projects().items():
            if project_id in (pid, name) and (caller.is_admin or pid == caller.project_id):
                return {"project": project_doc(pid, name)}
        raise not_found("Project", project_id)

    app.route("GET", "/", versions, public=True)
    app.route("GET", "/v3", v3, public=True)
    app.route("POST", "/v3/auth/tokens", issue, public=True)
    app.route("GET", "/v3/auth/tokens", validate)
    app.route("GET", "/v3/projects", list_projects)
    app.route("GET", "/v3/projects/{project_id}", show_project)
    return app


def _iso(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
