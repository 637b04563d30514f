"""The image service as glanceclient (nova) and openstacksdk (the client) use it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.unit.cloud.client import Call, make_call

from nova_hyperv.cloud import images
from nova_hyperv.cloud.docstore import DocStore
from nova_hyperv.cloud.tokens import TokenAuthority


@pytest.fixture
def service(store: DocStore, tmp_path: Path) -> images.ImageService:
    (tmp_path / "images").mkdir()
    return images.ImageService(store, tmp_path / "images")


@pytest.fixture
def call(service: images.ImageService, authority: TokenAuthority) -> Call:
    return make_call(images.build_app(service, authority))


def test_create_upload_download_with_the_hashes_clients_check(
        call: Call, admin_token: str, service: images.ImageService) -> None:
    made = call("POST", "/v2/images", admin_token, {
        "name": "win", "disk_format": "vhdx", "container_format": "bare",
        "hw_machine_type": "hyperv-gen2", "os_secure_boot": "required"})
    assert made.status == 201
    image = made.json
    assert (image["status"], image["visibility"], image["hw_machine_type"]) == (
        "queued", "shared", "hyperv-gen2")
    data = b"VHDX" * 100_000
    assert call("PUT", f"/v2/images/{image['id']}/file", admin_token, raw=data).status == 204
    shown = call("GET", f"/v2/images/{image['id']}", admin_token).json
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert (shown["os_hash_algo"], shown["os_hash_value"]) == (
        "sha512", hashlib.sha512(data).hexdigest())
    got = call("GET", f"/v2/images/{image['id']}/file", admin_token)
    assert got.body == data and got.headers["Content-MD5"] == shown["checksum"]
    assert service.data_path(image["id"]).read_bytes() == data
    again = call("PUT", f"/v2/images/{image['id']}/file", admin_token, raw=b"x")
    assert again.status == 409 and "uploaded once" in again.json["error"]["message"]


def test_a_failed_upload_leaves_no_file_and_the_image_queued(
        service: images.ImageService, authority: TokenAuthority) -> None:
    image = service.create("p", {"name": "broken"})

    def chunks():
        yield b"part"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        service.upload(image["id"], chunks())
    assert service.store.get(images.KIND, image["id"])["status"] == "queued"
    assert list(service.data_dir.iterdir()) == []


def test_schema_lists_every_base_attribute(call: Call, admin_token: str,
                                           service: images.ImageService) -> None:
    # nova takes any attribute missing from the schema for a custom property.
    schema = call("GET", "/v2/schemas/image", admin_token).json
    image = service.create("p", {})
    assert set(image) <= set(schema["properties"])
    with_property = service.create("p", {"os_type": "linux"})
    assert set(with_property) - set(schema["properties"]) == {"os_type"}


def test_visibility_and_ownership(call: Call, admin_token: str, demo_token: str) -> None:
    public = call("POST", "/v2/images", admin_token, {"name": "pub", "visibility": "public"})
    private = call("POST", "/v2/images", admin_token, {"name": "mine"})
    assert public.status == private.status == 201
    names = {i["name"] for i in call("GET", "/v2/images", demo_token).json["images"]}
    assert names == {"pub"}
    assert call("GET", f"/v2/images/{private.json['id']}", demo_token).status == 404
    assert call("DELETE", f"/v2/images/{public.json['id']}", demo_token).status == 403
    refused = call("POST", "/v2/images", demo_token, {"name": "x", "visibility": "public"})
    assert refused.status == 403 and "administrators" in refused.json["error"]["message"]
    assert call("GET", "/v2/images").status == 401


def test_patch_sets_and_removes_properties(call: Call, demo_token: str) -> None:
    image = call("POST", "/v2/images", demo_token, {"name": "i"}).json
    patched = call("PATCH", f"/v2/images/{image['id']}", demo_token, [
        {"op": "add", "path": "/os_type", "value": "windows"},
        {"op": "replace", "path": "/name", "value": "renamed"}])
    assert (patched.json["os_type"], patched.json["name"]) == ("windows", "renamed")
    removed = call("PATCH", f"/v2/images/{image['id']}", demo_token,
                   [{"op": "remove", "path": "/os_type"}]).json
    assert "os_type" not in removed
    read_only = call("PATCH", f"/v2/images/{image['id']}", demo_token,
                     [{"op": "replace", "path": "/size", "value": 1}])
    assert read_only.status == 403 and "'size' is read-only" in read_only.json["error"][
        "message"]
    bad = call("PATCH", f"/v2/images/{image['id']}", demo_token,
               [{"op": "add", "path": "/disk_format", "value": "qcow3"}])
    assert bad.status == 400 and "disk_format='qcow3'" in bad.json["error"]["message"]


def test_list_filters_and_pages(call: Call, admin_token: str) -> None:
    for n in range(5):
        call("POST", "/v2/images", admin_token, {"name": f"i{n}", "disk_format":
                                                 "vhd" if n % 2 else "vhdx"})
    first = call("GET", "/v2/images?limit=2", admin_token).json
    assert len(first["images"]) == 2 and "next" in first
    rest = call("GET", first["next"], admin_token).json
    seen = [i["name"] for i in first["images"] + rest["images"]]
    following = call("GET", rest["next"], admin_token).json if "next" in rest else {
        "images": []}
    seen += [i["name"] for i in following["images"]]
    assert sorted(seen) == [f"i{n}" for n in range(5)]
    vhd = call("GET", "/v2/images?disk_format=vhd", admin_token).json["images"]
    assert {i["name"] for i in vhd} == {"i1", "i3"}
    assert call("GET", "/v2/images?name=i4", admin_token).json["images"][0]["name"] == "i4"
    assert call("GET", "/v2/images?limit=zero", admin_token).status == 400


def test_tags_and_delete(call: Call, admin_token: str, service: images.ImageService) -> None:
    image = call("POST", "/v2/images", admin_token, {"name": "t"}).json
    call("PUT", f"/v2/images/{image['id']}/file", admin_token, raw=b"data")
    assert call("PUT", f"/v2/images/{image['id']}/tags/gold", admin_token).status == 204
    assert call("GET", "/v2/images?tag=gold", admin_token).json["images"][0]["id"] == \
        image["id"]
    call("DELETE", f"/v2/images/{image['id']}/tags/gold", admin_token)
    assert call("GET", "/v2/images?tag=gold", admin_token).json["images"] == []
    assert call("DELETE", f"/v2/images/{image['id']}", admin_token).status == 204
    assert not service.data_path(image["id"]).exists()
    assert call("GET", f"/v2/images/{image['id']}", admin_token).status == 404
