"""The agent's image checks (`io.containers.autoupdate`), on an interval of their own.

Each check reads the host once (one observe), then asks the registry about each distinct
`registry` image once: a HEAD of the tag's manifest (https, or plain http where Podman's
registries.conf marks the registry insecure), with the credentials apply uses (the auth file
given to the agent, then the pods' imagePullSecrets), following the registry's token challenge as
Podman does. The decisions are reconcile/autoupdate.py's; applying an update is the agent's
(run/sync/agent.py), through the apply workflow.

The registry is asked from the agent's machine: over ssh:// that is not the Podman host, and the
agent's own registries.conf ($CONTAINERS_REGISTRIES_CONF, else /etc/containers/registries.conf)
says which registries are insecure.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from podspec.errors import PodspecError
from podspec.reconcile.autoupdate import MANIFEST_TYPES, ManifestRequest, challenge, insecure, manifest_request

if TYPE_CHECKING:
    from podspec.secrets import RegistryCredential


class RegistryCheckFailed(PodspecError):
    pass


@dataclass(frozen=True)
class RegistryClient:
    registries_conf: str = ""  # its text
    timeout: float = 15.0

    def digest(self, reference: str, credential: RegistryCredential | None) -> str:
        """The digest the registry serves for `reference`'s tag now (one manifest request, or
        two after an authentication challenge). RegistryCheckFailed with the cause otherwise; the
        password never appears in it."""
        where = manifest_request(reference)
        scheme = "http" if insecure(self.registries_conf, reference) else "https"
        status, headers = self._head(where.url(scheme), None)
        if status == 401:
            authorization = self._authorize(where, headers.get("www-authenticate", ""), credential)
            status, headers = self._head(where.url(scheme), authorization)
        if status == 401:
            raise RegistryCheckFailed(f"{where.registry} refused the credentials for {reference}" if credential else
                                      f"{where.registry} asks for credentials to read {reference}",
                                      "pass --authfile FILE to podspec sync, or name imagePullSecrets in the pod")
        if status == 404:
            raise RegistryCheckFailed(f"{where.registry} has no {where.repository}:{where.tag}",
                                      "check the image name and tag, or push the tag")
        if status >= 300:
            raise RegistryCheckFailed(f"{where.registry} answered {status} for {reference}", "check the registry")
        digest = headers.get("docker-content-digest", "")
        if not digest.startswith("sha256:"):
            raise RegistryCheckFailed(f"{where.registry} gave no digest for {reference}",
                                      "the registry must send Docker-Content-Digest (the distribution API)")
        return digest

    def _head(self, url: str, authorization: str | None) -> tuple[int, Mapping[str, str]]:
        """(status, headers with lower-case names)."""
        headers = {"Accept": ", ".join(MANIFEST_TYPES), "User-Agent": "podspec-sync"}
        if authorization:
            headers["Authorization"] = authorization
        request = urllib.request.Request(url, headers=headers, method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return answer.status, {k.lower(): v for k, v in answer.headers.items()}
        except urllib.error.HTTPError as exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RegistryCheckFailed(f"cannot reach the registry at {urllib.parse.urlsplit(url).netloc}: {reason}",
                                      "check the registry's address, that it runs, and the network") from None

    def _authorize(self, where: ManifestRequest, header: str, credential: RegistryCredential | None) -> str | None:
        scheme, params = challenge(header)
        basic = None
        if credential is not None:
            basic = "Basic " + base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()
        if scheme == "basic":
            return basic
        if scheme != "bearer" or "realm" not in params:
            return None
        query = {"scope": f"repository:{where.repository}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        request = urllib.request.Request(params["realm"] + "?" + urllib.parse.urlencode(query),
                                         headers={"Authorization": basic} if basic else {})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                data = json.loads(answer.read(1 << 20))
        except urllib.error.HTTPError as exc:
            raise RegistryCheckFailed(f"{where.registry}'s token service answered {exc.code}",
                                      "check the credentials (--authfile or imagePullSecrets)") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryCheckFailed(f"cannot get a token from {where.registry}: {getattr(exc, 'reason', exc)}",
                                      "check the registry and the network") from None
        token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
        return f"Bearer {token}" if token else None
