"""The image service: the part of Glance v2 that nova and python-openstackclient use.

Images are records in the doc store plus a data file under images/; uploads are hashed
(md5 `checksum` and sha512 `os_hash_value`, which glanceclient checks on download) and
land whole or not at all. Custom properties (hw_machine_type, os_secure_boot, ...) are
top-level string fields, as in Glance, so nova reads them as image metadata.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
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
    not_found,
)
from nova_hyperv.cloud.tokens import Identity, TokenAuthority

KIND = "image"
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "private", "shared", "community")
_READ_ONLY = frozenset({"id", "status", "size", "virtual_size", "checksum", "os_hash_algo",
                        "os_hash_value", "created_at", "updated_at", "file", "schema", "self",
                        "locations", "direct_url"})
_CHUNK = 1 << 20


def _base_schema() -> dict[str, Any]:
    """The image schema, with every base attribute listed (nova tells base attributes from
    custom properties by this list: one missing would be taken for a property)."""
    string = {"type": ["null", "string"]}
    return {
        "name": "image",
        "additionalProperties": {"type": "string"},
        "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                  {"rel": "describedby", "href": "{schema}"}],
        "properties": {
            "id": {"type": "string"}, "name": string,
            "status": {"type": "string", "enum": ["queued", "saving", "active", "killed",
                                                  "deleted", "uploading", "importing",
                                                  "pending_delete", "deactivated"]},
            "visibility": {"type": "string", "enum": list(VISIBILITIES)},
            "protected": {"type": "boolean"}, "os_hidden": {"type": "boolean"},
            "checksum": string, "os_hash_algo": string, "os_hash_value": string,
            "owner": string, "size": {"type": ["null", "integer"]},
            "virtual_size": {"type": ["null", "integer"]},
            "container_format": {"type": ["null", "string"],
                                 "enum": [None, *CONTAINER_FORMATS]},
            "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS]},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "direct_url": {"type": "string"}, "min_ram": {"type": "integer"},
            "min_disk": {"type": "integer"}, "self": {"type": "string"},
            "file": {"type": "string"}, "schema": {"type": "string"},
            "locations": {"type": "array"}, "stores": {"type": "string"},
        },
    }


_BASE_ATTRIBUTES = frozenset(_base_schema()["properties"])


class ImageService:
    def __init__(self, store: DocStore, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir
        self._uploading: set[str] = set()
        self._lock = threading.Lock()

    # What the app and the sample loader share.
    def create(self, owner: str, fields: dict[str, Any]) -> Doc:
        unknown_read_only = sorted(set(fields) & (_READ_ONLY - {"id"}))
        if unknown_read_only:
            raise HttpError(403, f"Attribute '{unknown_read_only[0]}' is read-only.")
        image_id = str(fields.get("id") or uuid.uuid4())
        if self.store.get(KIND, image_id):
            raise HttpError(409, f"Image with identifier {image_id} already exists!")
        now = _now()
        image: Doc = {
            "id": image_id, "name": None, "status": "queued", "visibility": "shared",
            "protected": False, "os_hidden": False, "checksum": None, "os_hash_algo": None,
            "os_hash_value": None, "owner": owner, "size": None, "virtual_size": None,
            "container_format": None, "disk_format": None, "created_at": now,
            "updated_at": now, "tags": [], "min_ram": 0, "min_disk": 0,
            "self": f"/v2/images/{image_id}", "file": f"/v2/images/{image_id}/file",
            "schema": "/v2/schemas/image",
        }
        for key, value in fields.items():
            if key != "id":
                image[key] = value
        _check(image)
        return self.store.put(KIND, image)

    def upload(self, image_id: str, chunks: Iterator[bytes]) -> Doc:
        with self._lock:
            image = self.store.get(KIND, image_id)
            if image is None:
                raise not_found("Image", image_id)
            if image["status"] != "queued" or image_id in self._uploading:
                raise HttpError(409, f"Image {image_id} is {image['status']}: data can be "
                                     "uploaded once, to a queued image")
            self._uploading.add(image_id)
        partial = self.data_dir / f"{image_id}.part"
        md5, sha512, size = hashlib.md5(usedforsecurity=False), hashlib.sha512(), 0
        try:
            self.store.update(KIND, image_id, lambda i: i.update(status="saving"))
            with open(partial, "wb") as stream:
                for chunk in chunks:
                    stream.write(chunk)
                    md5.update(chunk)
                    sha512.update(chunk)
                    size += len(chunk)
                stream.flush()
                os.fsync(stream.fileno())
            partial.replace(self.data_dir / image_id)
        except BaseException:
            partial.unlink(missing_ok=True)
            self.store.update(KIND, image_id, lambda i: i.update(status="queued"))
            raise
        finally:
            with self._lock:
                self._uploading.discard(image_id)

        def activate(image: Doc) -> None:
            image.update(status="active", size=size, virtual_size=None,
                         checksum=md5.hexdigest(), os_hash_algo="sha512",
                         os_hash_value=sha512.hexdigest(), updated_at=_now())

        return self.store.update(KIND, image_id, activate) or {}

    def import_file(self, owner: str, fields: dict[str, Any], path: Path) -> Doc:
        """Add an image from a local file (the preloaded samples)."""
        image = self.create(owner, fields)

        def read() -> Iterator[bytes]:
            with open(path, "rb") as stream:
                while chunk := stream.read(_CHUNK):
                    yield chunk

        return self.upload(image["id"], read())

    def data_path(self, image_id: str) -> Path:
        return self.data_dir / image_id

    def visible(self, image: Doc, who: Identity) -> bool:
        return (who.is_admin or image["owner"] == who.project_id
                or image["visibility"] in ("public", "community"))

    def get_visible(self, image_id: str, who: Identity) -> Doc:
        image = self.store.get(KIND, image_id)
        if image is None or not self.visible(image, who):
            raise not_found("Image", image_id)
        return image

    def writable(self, image_id: str, who: Identity) -> Doc:
        image = self.get_visible(image_id, who)
        if not (who.is_admin or image["owner"] == who.project_id):
            raise HttpError(403, f"You are not permitted to modify image {image_id}.")
        return image


def build_app(service: ImageService, authority: TokenAuthority) -> JsonApp:
    app = JsonApp("image", authority)

    def versions(request: webob.Request) -> Reply:
        values = [{"id": version, "status": "CURRENT" if version == "v2.16" else "SUPPORTED",
                   "links": [{"rel": "self", "href": f"{request.host_url}/v2/"}]}
                  for version in ("v2.16", "v2.0")]
        return Reply(300, {"versions": values})

    def schema(request: webob.Request) -> dict[str, Any]:
        return _base_schema()

    def schemas_images(request: webob.Request) -> dict[str, Any]:
        return {"name": "images", "properties": {"images": {"type": "array",
                                                            "items": _base_schema()}},
                "links": [{"rel": "first", "href": "{first}"},
                          {"rel": "next", "href": "{next}"},
                          {"rel": "describedby", "href": "{schema}"}]}

    def list_images(request: webob.Request) -> dict[str, Any]:
        who = identity_of(request)
        params = request.GET
        images = service.store.all(KIND, lambda i: service.visible(i, who))
        for key in ("name", "status", "visibility", "owner", "disk_format",
                    "container_format"):
            if key in params:
                images = [i for i in images if str(i.get(key)) == params[key]]
        if params.get("os_hidden", "false").lower() != "true":
            images = [i for i in images if not i.get("os_hidden")]
        for tag in params.getall("tag"):
            images = [i for i in images if tag in i["tags"]]
        images.sort(key=lambda i: (i["created_at"], i["id"]), reverse=True)
        if "marker" in params:
            ids = [i["id"] for i in images]
            if params["marker"] not in ids:
                raise bad_request(f"marker {params['marker']} is not an image of this list")
            images = images[ids.index(params["marker"]) + 1:]
        limit = _int_param(params, "limit", 25)
        page, more = images[:limit], len(images) > limit
        body: dict[str, Any] = {"images": page, "first": "/v2/images",
                                "schema": "/v2/schemas/images"}
        if more:
            body["next"] = f"/v2/images?marker={page[-1]['id']}&limit={limit}"
        return body

    def create(request: webob.Request) -> Reply:
        who = identity_of(request)
        fields = json_body(request)
        if not isinstance(fields, dict):
            raise bad_request("the request body must be a JSON object of image attributes")
        if fields.get("visibility") == "public" and not who.is_admin:
            raise HttpError(403, "Only administrators may create public images.")
        fields.setdefault("owner", who.project_id)
        if fields["owner"] != who.project_id and not who.is_admin:
            raise HttpError(403, "You are not permitted to create images owned by "
                                 f"'{fields['owner']}'.")
        owner = fields.pop("owner")
        return Reply(201, service.create(owner, fields))

    def show(request: webob.Request, image_id: str) -> Doc:
        return service.get_visible(image_id, identity_of(request))

    def patch(request: webob.Request, image_id: str) -> Doc:
        who = identity_of(request)
        service.writable(image_id, who)
        operations = json_body(request)
        if not isinstance(operations, list):
            raise bad_request("an image PATCH body is a list of JSON-patch operations")

        def apply(image: Doc) -> None:
            for operation in operations:
                _apply_patch(image, operation, who)
            image["updated_at"] = _now()
            _check(image)

        return service.store.update(KIND, image_id, apply) or {}

    def delete(request: webob.Request, image_id: str) -> Reply:
        image = service.writable(image_id, identity_of(request))
        if image.get("protected"):
            raise HttpError(403, f"Image {image_id} is protected and cannot be deleted.")
        service.store.delete(KIND, image_id)
        service.data_path(image_id).unlink(missing_ok=True)
        return Reply(204)

    def upload(request: webob.Request, image_id: str) -> Reply:
        service.writable(image_id, identity_of(request))
        service.upload(image_id, _body_chunks(request))
        return Reply(204)

    def download(request: webob.Request, image_id: str) -> Reply:
        image = service.get_visible(image_id, identity_of(request))
        if image["status"] != "active":
            return Reply(204)
        path = service.data_path(image_id)
        return Reply(200, _file_chunks(path), content_type="application/octet-stream",
                     content_length=path.stat().st_size,
                     headers={"Content-MD5": image["checksum"]})

    def add_tag(request: webob.Request, image_id: str, tag: str) -> Reply:
        service.writable(image_id, identity_of(request))
        service.store.update(KIND, image_id, lambda i: i["tags"].append(tag)
                             if tag not in i["tags"] else None)
        return Reply(204)

    def remove_tag(request: webob.Request, image_id: str, tag: str) -> Reply:
        service.writable(image_id, identity_of(request))
        service.store.update(KIND, image_id, lambda i: i["tags"].remove(tag)
                             if tag in i["tags"] else None)
        return Reply(204)

    app.route("GET", "/", versions, public=True)
    app.route("GET", "/versions", versions, public=True)
    app.route("GET", "/v2/schemas/image", schema)
    app.route("GET", "/v2/schemas/images", schemas_images)
    app.route("GET", "/v2/images", list_images)
    app.route("POST", "/v2/images", create)
    app.route("GET", "/v2/images/{image_id}", show)
    app.route("PATCH", "/v2/images/{image_id}", patch)
    app.route("DELETE", "/v2/images/{image_id}", delete)
    app.route("PUT", "/v2/images/{image_id}/file", upload)
    app.route("GET", "/v2/images/{image_id}/file", download)
    app.route("PUT", "/v2/images/{image_id}/tags/{tag}", add_tag)
    app.route("DELETE", "/v2/images/{image_id}/tags/{tag}", remove_tag)
    return app


def _apply_patch(image: Doc, operation: Any, who: Identity) -> None:
    if not isinstance(operation, dict) or operation.get("op") not in ("add", "replace",
                                                                       "remove"):
        raise bad_request(f"patch operation {operation!r}: 'op' must be add, replace or "
                          "remove")
    path = str(operation.get("path", ""))
    key = path.lstrip("/").replace("~1", "/").replace("~0", "~")
    if not key or "/" in path.lstrip("/"):
        raise bad_request(f"patch path {path!r}: only top-level attributes can be changed")
    if key in _READ_ONLY or (key == "owner" and not who.is_admin):
        raise HttpError(403, f"Attribute '{key}' is read-only.")
    if operation["op"] == "remove":
        if key not in image:
            raise HttpError(409, f"Property {key} does not exist.")
        del image[key]
    else:
        if "value" not in operation:
            raise bad_request(f"patch operation on {path}: 'value' is missing")
        if key == "visibility" and operation["value"] == "public" and not who.is_admin:
            raise HttpError(403, "Only administrators may make images public.")
        image[key] = operation["value"]


def _check(image: Doc) -> None:
    for key, allowed in (("disk_format", DISK_FORMATS),
                         ("container_format", CONTAINER_FORMATS),
                         ("visibility", VISIBILITIES)):
        value = image.get(key)
        if value is not None and value not in allowed:
            raise bad_request(f"{key}={value!r} is not allowed; allowed: "
                              f"{', '.join(allowed)}")
    for key, value in image.items():
        if key not in _BASE_ATTRIBUTES and not isinstance(value, str):
            raise bad_request(f"property {key}={value!r}: custom image properties are "
                              "strings")


def _body_chunks(request: webob.Request) -> Iterator[bytes]:
    stream = request.body_file_raw if request.is_body_readable else None
    if stream is None:
        return
    remaining = request.content_length
    while remaining is None or remaining > 0:
        chunk = stream.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
        if not chunk:
            break
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def _int_param(params: Any, name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"{name}={value!r} is not a whole number") from None
    if number < 1:
        raise bad_request(f"{name}={number}: must be 1 or more")
    return number


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

