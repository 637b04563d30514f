"""The key manager service: the part of Barbican's v1 API that the driver and a user use.

Shielded VMs need their shielding data (PDK) from Barbican: the driver reads a container
of secrets "1", "2", ... with python-barbicanclient, as the user who asked for the server
(docs/driver.md, "Shielded VMs and vTPM"). This service holds secrets (opaque payloads,
kept base64 in the services' database of the state folder) and generic containers of
them, each owned by the project that stored it: version discovery with Barbican's
microversion range, secrets (store with a base64 or text payload, show, payload, list,
delete) and containers (create, show, list, delete). Barbican's error bodies ("title",
"description") are what barbicanclient reads.

Demo only: payloads are stored as given, not encrypted; there are no ACLs, orders or
consumers. A secret or container is readable by its project, by admins, and by every
project when it is `public` (the cloud's sample PDK, so the sample shielded image boots
for every project).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid
from typing import Any

import webob

from nova_hyperv.cloud.docstore import Doc, DocStore
from nova_hyperv.cloud.httpapi import (
    HttpError,
    JsonApp,
    Reply,
    bad_request,
    identity_of,
    json_body,
)
from nova_hyperv.cloud.tokens import Identity, TokenAuthority

SECRET, CONTAINER = "secret", "container"
#: Barbican's microversions (1.1: secret consumers), as its version document says.
MIN_VERSION, MAX_VERSION = "1.0", "1.1"
OCTET_STREAM = "application/octet-stream"
_CONTENT_TYPES = (OCTET_STREAM, "text/plain")


class KeyManagerService:
    def __init__(self, store: DocStore) -> None:
        self.store = store

    # -- secrets
    def store_secret(self, who: Identity, fields: dict[str, Any], public: bool = False
                     ) -> Doc:
        """A new secret from Barbican's POST /v1/secrets body."""
        content_type = fields.get("payload_content_type") or OCTET_STREAM
        if content_type not in _CONTENT_TYPES:
            raise bad_request(f"payload_content_type={content_type!r}: offered: "
                              f"{', '.join(_CONTENT_TYPES)}")
        payload = fields.get("payload")
        if not isinstance(payload, str) or not payload:
            raise bad_request("payload: a secret needs a non-empty payload (text, or "
                              "base64 with payload_content_encoding=base64)")
        encoding = fields.get("payload_content_encoding")
        if encoding == "base64":
            try:
                data = base64.b64decode(payload, validate=True)
            except binascii.Error as error:
                raise bad_request(f"payload: not base64 ({error})") from None
        elif encoding in (None, ""):
            data = payload.encode()
        else:
            raise bad_request(f"payload_content_encoding={encoding!r}: offered: base64 "
                              "(or none, for a text payload)")
        now = _now()
        return self.store.put(SECRET, {
            "id": str(uuid.uuid4()), "name": fields.get("name"),
            "secret_type": fields.get("secret_type") or "opaque",
            "content_type": content_type, "payload": base64.b64encode(data).decode(),
            "project_id": who.project_id, "creator_id": who.user_id, "public": public,
            "created": now, "updated": now})

    def secret(self, who: Identity, secret_id: str) -> Doc:
        return self._visible(SECRET, secret_id, who)

    def payload(self, who: Identity, secret_id: str) -> tuple[bytes, str]:
        secret = self.secret(who, secret_id)
        return base64.b64decode(secret["payload"]), secret["content_type"]

    def delete_secret(self, who: Identity, secret_id: str) -> None:
        self._owned(SECRET, secret_id, who)
        self.store.delete(SECRET, secret_id)

    # -- containers
    def create_container(self, who: Identity, fields: dict[str, Any],
                         public: bool = False) -> Doc:
        """A new generic container of the caller's secrets (refs or ids, by name)."""
        kind = fields.get("type") or "generic"
        if kind != "generic":
            raise bad_request(f"type={kind!r}: offered: generic")
        refs = fields.get("secret_refs") or []
        if not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs):
            raise bad_request("secret_refs: a list of {name, secret_ref} objects")
        members = []
        for ref in refs:
            secret_id = str(ref.get("secret_ref") or "").rstrip("/").rpartition("/")[2]
            self.secret(who, secret_id)  # 404 unless the caller may read it
            members.append({"name": ref.get("name"), "secret_id": secret_id})
        now = _now()
        return self.store.put(CONTAINER, {
            "id": str(uuid.uuid4()), "name": fields.get("name"), "type": kind,
            "secrets": members, "project_id": who.project_id, "creator_id": who.user_id,
            "public": public, "created": now, "updated": now})

    def container(self, who: Identity, container_id: str) -> Doc:
        return self._visible(CONTAINER, container_id, who)

    def delete_container(self, who: Identity, container_id: str) -> None:
        self._owned(CONTAINER, container_id, who)
        self.store.delete(CONTAINER, container_id)

    def listed(self, kind: str, who: Identity, name: str | None = None) -> list[Doc]:
        return self.store.all(kind, lambda d: self._may_read(d, who) and
                              name in (None, d["name"]))

    # -- who may
    @staticmethod
    def _may_read(doc: Doc, who: Identity) -> bool:
        return doc["public"] or who.is_admin or doc["project_id"] == who.project_id

    def _visible(self, kind: str, doc_id: str, who: Identity) -> Doc:
        doc = self.store.get(kind, doc_id)
        if doc is None or not self._may_read(doc, who):
            raise HttpError(404, f"{kind.capitalize()} not found: no {kind} {doc_id} "
                                 f"this project may read.")
        return doc

    def _owned(self, kind: str, doc_id: str, who: Identity) -> Doc:
        doc = self._visible(kind, doc_id, who)
        if doc["project_id"] != who.project_id and not who.is_admin:
            raise HttpError(403, f"project {who.project_id} may read {kind} {doc_id} but "
                                 f"not delete it: it belongs to project {doc['project_id']}")
        return doc


def barbican_error(status: int, message: str) -> Reply:
    """Barbican's error body: barbicanclient prints "title: description"."""
    from http import HTTPStatus

    return Reply(status=status, body={"code": status, "title": HTTPStatus(status).phrase,
                                      "description": message})


def build_app(service: KeyManagerService, authority: TokenAuthority) -> JsonApp:
    app = JsonApp("key-manager", authority, error_body=barbican_error)

    def version_doc(request: webob.Request) -> dict[str, Any]:
        return {"id": "v1", "status": "CURRENT", "min_version": MIN_VERSION,
                "max_version": MAX_VERSION,
                "links": [{"rel": "self", "href": f"{request.host_url}/v1/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.key-manager-v1+json"}]}

    def versions(request: webob.Request) -> Reply:
        return Reply(300, {"versions": {"values": [version_doc(request)]}})

    def v1(request: webob.Request) -> dict[str, Any]:
        return {"version": version_doc(request)}

    def secret_ref(request: webob.Request, secret_id: str) -> str:
        return f"{request.host_url}/v1/secrets/{secret_id}"

    def container_ref(request: webob.Request, container_id: str) -> str:
        return f"{request.host_url}/v1/containers/{container_id}"

    def secret_view(request: webob.Request, secret: Doc) -> dict[str, Any]:
        return {"secret_ref": secret_ref(request, secret["id"]), "name": secret["name"],
                "status": "ACTIVE", "secret_type": secret["secret_type"],
                "content_types": {"default": secret["content_type"]},
                "algorithm": None, "bit_length": None, "mode": None, "expiration": None,
                "creator_id": secret["creator_id"], "created": secret["created"],
                "updated": secret["updated"]}

    def container_view(request: webob.Request, container: Doc) -> dict[str, Any]:
        return {"container_ref": container_ref(request, container["id"]),
                "name": container["name"], "type": container["type"], "status": "ACTIVE",
                "secret_refs": [{"name": m["name"],
                                 "secret_ref": secret_ref(request, m["secret_id"])}
                                for m in container["secrets"]],
                "consumers": [], "creator_id": container["creator_id"],
                "created": container["created"], "updated": container["updated"]}

    def page(request: webob.Request, kind: str, views: list[dict[str, Any]]
             ) -> dict[str, Any]:
        try:
            offset = int(request.GET.get("offset", 0))
            limit = int(request.GET.get("limit", 10))
        except ValueError:
            raise bad_request("offset and limit are whole numbers") from None
        return {kind: views[offset:offset + limit], "total": len(views)}

    def store_secret(request: webob.Request) -> Reply:
        secret = service.store_secret(identity_of(request), json_body(request) or {})
        return Reply(201, {"secret_ref": secret_ref(request, secret["id"])})

    def list_secrets(request: webob.Request) -> dict[str, Any]:
        found = service.listed(SECRET, identity_of(request), request.GET.get("name"))
        return page(request, "secrets", [secret_view(request, s) for s in found])

    def show_secret(request: webob.Request, secret_id: str) -> dict[str, Any]:
        return secret_view(request, service.secret(identity_of(request), secret_id))

    def payload(request: webob.Request, secret_id: str) -> Reply:
        data, content_type = service.payload(identity_of(request), secret_id)
        return Reply(body=data, content_type=content_type)

    def delete_secret(request: webob.Request, secret_id: str) -> Reply:
        service.delete_secret(identity_of(request), secret_id)
        return Reply(204)

    def create_container(request: webob.Request) -> Reply:
        container = service.create_container(identity_of(request), json_body(request) or {})
        return Reply(201, {"container_ref": container_ref(request, container["id"])})

    def list_containers(request: webob.Request) -> dict[str, Any]:
        found = service.listed(CONTAINER, identity_of(request), request.GET.get("name"))
        return page(request, "containers", [container_view(request, c) for c in found])

    def show_container(request: webob.Request, container_id: str) -> dict[str, Any]:
        return container_view(request, service.container(identity_of(request),
                                                         container_id))

    def delete_container(request: webob.Request, container_id: str) -> Reply:
        service.delete_container(identity_of(request), container_id)
        return Reply(204)

    app.route("GET", "/", versions, public=True)
    app.route("GET", "/v1", v1, public=True)
    app.route("POST", "/v1/secrets", store_secret)
    app.route("GET", "/v1/secrets", list_secrets)
    app.route("GET", "/v1/secrets/{secret_id}", show_secret)
    app.route("GET", "/v1/secrets/{secret_id}/payload", payload)
    app.route("DELETE", "/v1/secrets/{secret_id}", delete_secret)
    app.route("POST", "/v1/containers", create_container)
    app.route("GET", "/v1/containers", list_containers)
    app.route("GET", "/v1/containers/{container_id}", show_container)
    app.route("DELETE", "/v1/containers/{container_id}", delete_container)
    return app


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
