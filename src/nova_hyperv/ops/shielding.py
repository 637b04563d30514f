"""Shielded VMs and vTPMs at spawn: the shielding data (PDK) from Barbican, then the host.

The PDK is named by `img_pdk_reference` (instance metadata, else image property): a
Barbican container whose secrets "1", "2", ... hold the file's bytes in order (a PDK may
be larger than one secret), read with the request's own credentials, as compute-hyperv
did. Castellan, nova's key manager library, reads single secrets only, so the container
is read with python-barbicanclient (what castellan itself uses) over a keystoneauth
session made from the request context (`context.get_auth_plugin()`), configured by the
same `[barbican]` options castellan registers (endpoint, endpoint type, region, TLS).

The VM is then protected and provisioned on the host (`hyperv.security`): the PDK and
the FSK (the `fsk:*` substitutions, `@@ComputerName@@` = the hostname) are written as
files in the instance's folder for the host to read, and removed right after.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

from barbicanclient import client as barbican_client
from barbicanclient import exceptions as barbican_exceptions
from castellan import options as castellan_options
from keystoneauth1 import session as ks_session
from nova import exception

from nova_hyperv import rules
from nova_hyperv.hyperv import Vm
from nova_hyperv.hyperv.security import ShieldingFailed
from nova_hyperv.ops.errors import nova_errors

__all__ = ["FSK_FILE", "PDK_FILE", "ShieldingDataStore", "shield"]

LOG = logging.getLogger(__name__)

PDK_FILE, FSK_FILE = "shielding.pdk", "specialization.fsk"
FIELD = "img_pdk_reference"


def register_barbican_opts(conf: Any) -> None:
    """castellan's `[barbican]` options (registered by castellan only when nova's key
    manager is Barbican); registering the same options again is harmless."""
    for group, opts in castellan_options.list_opts():
        if group == "barbican":
            conf.register_opts(opts, group="barbican")


def _secret_order(name: str) -> tuple[int, int | str]:
    return (0, int(name)) if name.isdigit() else (1, name)


class ShieldingDataStore:
    """Barbican, as the holder of tenants' shielding data files."""

    def __init__(self, conf: Any) -> None:
        register_barbican_opts(conf)
        self.conf = conf

    def _client(self, context: Any) -> Any:
        group = self.conf.barbican
        verify: bool | str = bool(group.verify_ssl)
        if verify and group.verify_ssl_path:
            verify = group.verify_ssl_path
        session = ks_session.Session(auth=context.get_auth_plugin(), verify=verify)
        return barbican_client.Client(
            session=session, endpoint=group.barbican_endpoint or None,
            version=group.barbican_api_version or "v1",
            interface=group.barbican_endpoint_type, region_name=group.barbican_region_name)

    def fetch_pdk(self, context: Any, reference: str) -> bytes:
        """The PDK's bytes: the container's secrets' payloads, by name (1, 2, ...)."""
        try:
            container = self._client(context).containers.get(reference)
            secrets = container.secrets
            if not secrets:
                raise _unusable(reference, "the container holds no secrets")
            data = b""
            for name in sorted(secrets, key=_secret_order):
                payload = secrets[name].payload
                if not payload:
                    raise _unusable(reference, f"its secret {name!r} has no payload")
                data += payload if isinstance(payload, bytes) else str(payload).encode()
            return data
        except exception.InvalidInput:
            raise
        except barbican_exceptions.HTTPClientError as exc:  # 4xx: the reference is wrong
            raise _unusable(reference, f"Barbican answered {exc.status_code} ({exc})") from exc
        except Exception as exc:
            # Barbican, the connection or the client failed (a 5xx, an odd answer): the
            # host's trouble, not the request's; nova reschedules it
            raise exception.NovaException(
                message=f"reading the shielding data {FIELD} = {reference!r} from Barbican "
                        f"failed: {exc}") from exc


def _unusable(reference: str, reason: str) -> exception.InvalidInput:
    # The reason first: nova keeps 255 characters of a fault.
    return exception.InvalidInput(
        reason=f"{FIELD} = {reference!r}: {reason}. Allowed: the id of a Barbican container "
               "of shielding data (PDK) the project may read")


def shield(client: Any, vm: Vm, plan: rules.VmPlan, pdk: bytes, directory: str,
           instance: Any) -> None:
    """Protect and provision the (off) VM from the PDK; the files go afterwards."""
    pdk_path = os.path.join(directory, PDK_FILE)
    fsk_path = os.path.join(directory, FSK_FILE)
    try:
        with open(pdk_path, "wb") as stream:
            stream.write(pdk)
        with nova_errors(instance):
            try:
                client.apply_vtpm(vm, pdk_path=pdk_path, fsk_path=fsk_path,
                                  shielded=plan.vtpm.shielded,
                                  substitutions=plan.vtpm.fsk_substitutions)
            except ShieldingFailed as exc:  # the request's data, as the host read it
                raise exception.InvalidInput(
                    reason=f"{FIELD} = {plan.vtpm.pdk_reference!r}: the host refused this "
                           f"shielding data with the instance's fsk:* metadata: {exc}") \
                    from exc
    finally:
        for path in (pdk_path, fsk_path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    LOG.info("instance %s: %s provisioned from shielding data %s", instance.uuid,
             "shielded VM" if plan.vtpm.shielded else "vTPM", plan.vtpm.pdk_reference)
