"""Bring the local cloud up, in order, and take it down again.

Order matters: every port is bound first (nova.conf names them), then our identity,
image, network and volume services answer; then nova's databases and placement; then
conductor, scheduler and the computes (each compute's host prepared just before it
starts); then the hosts are mapped to the cell and nova's API answers. A new cloud is
then given its sample images, flavors and network.

Callers must have run `nova.monkey_patch.patch()` in threading mode before importing
this module (the CLI does): nova's services here are threads, as in nova 34's
nova-compute, and that mode forbids eventlet.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

from nova_hyperv.cloud import (
    computes,
    databases,
    identity,
    images,
    instructions,
    keymanager,
    network,
    novaconf,
    samples,
    volumes,
)
from nova_hyperv.cloud.catalog import endpoint_url
from nova_hyperv.cloud.docstore import DocStore
from nova_hyperv.cloud.nova_auth import TokenCheck
from nova_hyperv.cloud.server import HttpService
from nova_hyperv.cloud.settings import SERVICES, CloudSettings
from nova_hyperv.cloud.statedir import StateDir, accounts
from nova_hyperv.cloud.tokens import TokenAuthority

LOG = logging.getLogger(__name__)

SEEDED_MARKER = "seeded"
SERVICE_TOKEN_LIFETIME = 10 * 365 * 24 * 3600


class _LateApp:
    """A port that listens before its app exists (nova's API needs nova.conf, which
    needs every port): 503 until the app is set."""

    def __init__(self) -> None:
        self.app: Callable[..., Iterable[bytes]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"),
                                                       ("Retry-After", "1")])
            return [b"starting\n"]
        return self.app(environ, start_response)


class Cloud:
    def __init__(self, settings: CloudSettings, say: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.state = StateDir(settings.state_dir)
        self.say = say
        self.ports: dict[str, int] = {}
        self._http: list[HttpService] = []
        self._nova_services: list[Any] = []
        self._store: DocStore | None = None
        self.computes: dict[str, Any] = {}
        self.ready_seconds = 0.0

    # -- bring-up
    def start(self) -> None:
        began = time.monotonic()
        state = self.state
        state.prepare()
        manifest = state.load_or_create_manifest()
        self.accounts = accounts(manifest)
        self.authority = TokenAuthority(manifest["secret"], self.accounts.values())
        self.service_token, _ = self.authority.issue(self.accounts["nova"],
                                                     SERVICE_TOKEN_LIFETIME)
        try:
            self._start_our_services()
            self._write_config()
            self._start_nova()
            LOG.info("nova is up %.1f s after the start", time.monotonic() - began)
            if not (state.root / SEEDED_MARKER).exists():
                self._seed()
                (state.root / SEEDED_MARKER).write_text("samples loaded\n")
                LOG.info("samples loaded %.1f s after the start", time.monotonic() - began)
        except BaseException:
            LOG.exception("the cloud could not start; stopping what did")
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - began

    def _start_our_services(self) -> None:
        state = self.state
        self._store = DocStore(state.database("services"))
        self.images = images.ImageService(self._store, state.images)
        self.network = network.NetworkService(self._store)
        self.volumes = volumes.VolumeService(self._store, state.volumes)
        self.keys = keymanager.KeyManagerService(self._store)
        self._late = {"compute": _LateApp(), "placement": _LateApp()}
        apps = {
            "identity": identity.build_app(self.authority, self.ports),
            "image": images.build_app(self.images, self.authority),
            "network": network.build_app(self.network, self.authority),
            "volume": volumes.build_app(self.volumes, self.authority),
            "key-manager": keymanager.build_app(self.keys, self.authority),
            **self._late,
        }
        requested = self.settings.requested_ports()
        for name in SERVICES:
            service = HttpService(name, apps[name], requested[name])
            service.start()
            self._http.append(service)
            self.ports[name] = service.port

    def _write_config(self) -> None:
        etc = self.state.etc
        (etc / "ports.json").write_text(json.dumps(self.ports))
        (etc / "nova.conf").write_text(novaconf.render_nova_conf(
            self.state, self.ports, self.service_token))
        (etc / "api-paste.ini").write_text(novaconf.render_api_paste_ini(self.state))
        for name in ("admin", "demo"):
            path = etc / f"openrc-{name}"
            path.write_text(instructions.env_file_text(self.ports, self.accounts[name]))
            path.chmod(0o600)

    def _start_nova(self) -> None:
        import nova.conf
        from nova import config, objects, service
        from nova import context as nova_context
        from nova.compute import rpcapi as compute_rpcapi
        from nova.conductor import rpcapi as conductor_rpcapi
        from nova.scheduler import rpcapi as scheduler_rpcapi
        from oslo_log import log as oslo_log
        from paste import deploy

        conf = nova.conf.CONF
        config.parse_args(["nova-hyperv-cloud", "--config-file",
                           str(self.state.etc / "nova.conf")])
        oslo_log.setup(conf, "nova")
        databases.install_writer_lock()
        objects.register_all()
        objects.Service.enable_min_version_cache()
        databases.prepare_nova_databases(self.state)
        self._late["placement"].app = TokenCheck(
            databases.placement_app(self.state), self.authority, placement_style=True,
            public_paths=("/", ""))

        for binary, topic in (("nova-conductor", conductor_rpcapi.RPC_TOPIC),
                              ("nova-scheduler", scheduler_rpcapi.RPC_TOPIC)):
            self._start_service(service.Service.create(binary=binary, topic=topic))

        from nova_hyperv import conf as hyperv_conf

        hyperv_conf.register_opts(conf)
        for index, host in enumerate(self.settings.host_names):
            options = computes.prepare_compute_host(self.settings, self.state, host)
            # The driver reads these when nova creates it (in Service.create), so each
            # compute keeps its own; they are cleared afterwards.
            for group, values in options.items():
                for key, value in values.items():
                    conf.set_override(key, value, group=None if group == "DEFAULT" else group)
            try:
                compute = service.Service.create(
                    host=host, binary="nova-compute", topic=compute_rpcapi.RPC_TOPIC,
                    topic_alt=compute_rpcapi.RPC_TOPIC_ALT)
            finally:
                for group, values in options.items():
                    for key in values:
                        conf.clear_override(key, group=None if group == "DEFAULT" else group)
            if index > 0:
                computes.give_own_node_identity(compute.manager.driver, self.state.host(host))
            self._start_service(compute)
            self.computes[host] = compute
        conf.clear_override("instances_path")
        computes.treat_computes_as_local(self.computes)
        databases.discover_hosts()

        ctxt = nova_context.get_admin_context()
        api_binary = "nova-osapi_compute"
        if objects.Service.get_by_host_and_binary(ctxt, conf.host, api_binary) is None:
            objects.Service(ctxt, host=conf.host, binary=api_binary, topic=None,
                            report_count=0).create()
        self._late["compute"].app = deploy.loadapp(
            f"config:{self.state.etc / 'api-paste.ini'}", name="osapi_compute")

    def _start_service(self, service: Any) -> None:
        service.start()
        self._nova_services.append(service)

    # -- first start
    def _seed(self) -> None:
        admin = self.accounts["admin"]
        token, who = self.authority.issue(admin)
        name = samples.DEFAULT_NETWORK
        if not self.network.store.all("network", lambda n: n["name"] == name):
            net = self.network.create_network(who, {"name": name, "shared": True})
            self.network.create_subnet(who, {"network_id": net["id"],
                                             "cidr": samples.DEFAULT_CIDR,
                                             "name": f"{name}-subnet"})
        pdk = self._sample_shielding_data(who)
        known = {i["name"] for i in self.images.store.all(images.KIND)}
        scratch = self.state.images / "samples.tmp"
        scratch.mkdir(exist_ok=True)
        for sample in samples.IMAGES:
            if sample.name in known:
                continue
            disk = scratch / f"{sample.name}.vhdx"
            sample.build(disk)
            self.images.import_file(admin.project_id, samples.image_fields(sample, pdk),
                                    disk)
            disk.unlink()
        scratch.rmdir()
        compute = endpoint_url("compute", self.ports["compute"], admin.project_id)
        headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute latest"}
        with requests.Session() as http:
            existing = {f["name"] for f in _ok(http.get(f"{compute}/flavors",
                                                        headers=headers)).json()["flavors"]}
            for flavor in samples.FLAVORS:
                if flavor.name in existing:
                    continue
                create, specs = samples.flavor_requests(flavor)
                made = _ok(http.post(f"{compute}/flavors", json=create, headers=headers))
                if specs["extra_specs"]:
                    flavor_id = made.json()["flavor"]["id"]
                    _ok(http.post(f"{compute}/flavors/{flavor_id}/os-extra_specs",
                                  json=specs, headers=headers))

    def _sample_shielding_data(self, who: Any) -> str:
        """The key manager container of the sample PDK (made once, readable by every
        project so the shielded sample image boots for all)."""
        found = self.keys.listed(keymanager.CONTAINER, who, samples.SAMPLE_PDK)
        if found:
            return str(found[0]["id"])
        secret = self.keys.store_secret(who, {
            "name": f"{samples.SAMPLE_PDK} part 1", "payload_content_encoding": "base64",
            "payload": base64.b64encode(samples.sample_pdk()).decode(),
            "payload_content_type": keymanager.OCTET_STREAM}, public=True)
        container = self.keys.create_container(who, {
            "name": samples.SAMPLE_PDK, "type": "generic",
            "secret_refs": [{"name": "1", "secret_ref": secret["id"]}]}, public=True)
        return str(container["id"])

    # -- what the command prints
    def host_lines(self) -> list[str]:
        """One line per host: its name and what its emulated Windows offers."""
        return [f"{host}: {computes.describe_host(self.state, host)}"
                for host in self.settings.host_names]

    def instructions(self) -> str:
        return instructions.render(
            self.ports, self.accounts["admin"], self.accounts["demo"], self.state.root,
            self.host_lines(), self.ready_seconds, Path(sys.executable).parent)

    # -- shutdown
    def stop(self) -> None:
        """Stop taking requests, let nova finish what it is doing, then stop the rest.

        nova's API goes first (no new work); then the computes, scheduler and conductor
        stop gracefully, finishing in-flight operations (which still need placement and
        the image, network and volume services); then those stop. Safe to call twice.
        """
        self._stop_serving({"compute"})
        for service in reversed(self._nova_services):
            began = time.monotonic()
            try:
                service.stop()
            except Exception:
                LOG.exception("stopping %s failed", service)
            LOG.info("stopped %s in %.1f s", service, time.monotonic() - began)
        self._nova_services.clear()
        self._stop_serving(set(SERVICES))
        if self._store is not None:
            self._store.close()
            self._store = None

    def _stop_serving(self, names: set[str]) -> None:
        # cheroot takes a fraction of a second per server to wind down: all at once.
        chosen = [http for http in self._http if http.name in names]
        stoppers = [threading.Thread(target=http.stop, name=f"stop-{http.name}")
                    for http in chosen]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self._http = [http for http in self._http if http not in chosen]
        if chosen:
            LOG.info("stopped serving %s", ", ".join(http.name for http in chosen))


def _ok(response: requests.Response) -> requests.Response:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.url} answered "
                           f"{response.status_code}: {response.text}")
    return response
