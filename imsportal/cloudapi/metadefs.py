"""``conn.image``'s metadata-definition reads (Glance ``/v2/metadefs``): the property keys a
resource type may carry, with their types and allowed values. ``ImageProxy`` inherits them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imsportal.cloudapi.http import HttpClient


class ImageMetadefs:
    """Glance v2 metadata definitions; needs ``_http`` and ``_url`` from ``ImageProxy``."""

    _http: HttpClient
    _url: Callable[..., str]

    def metadef_properties(
        self, resource_type: str = "OS::Glance::Image", max_namespaces: int = 50
    ) -> dict[str, dict[str, Any]]:
        """The properties the cloud defines for ``resource_type``, by key (prefix applied).

        One call lists the namespaces associated with the resource type, then one per
        namespace reads its properties (Glance has no single call for all of them).

        Args:
            resource_type: the resource type, e.g. ``OS::Glance::Image``.
            max_namespaces: read at most this many namespaces.

        Returns:
            dict: key -> the property's definition (``type``, ``enum``, ``title``,
            ``description``, ...) plus ``namespace``.

        Raises:
            NotFoundError: the cloud serves no metadata definitions.
            ApiError: any other failed call.

        # Reference: https://docs.openstack.org/api-ref/image/v2/metadefs-index.html
        """
        body = self._http.request(
            "GET",
            self._url("metadefs", "namespaces"),
            params={"resource_types": resource_type, "limit": max_namespaces},
        ).json()
        found: dict[str, dict[str, Any]] = {}
        for ns in body.get("namespaces", [])[:max_namespaces]:
            name = ns.get("namespace")
            if not name:
                continue
            detail = self._http.request(
                "GET",
                self._url("metadefs", "namespaces", name),
                params={"resource_type": resource_type},
            ).json()
            for key, definition in (detail.get("properties") or {}).items():
                if isinstance(definition, dict):
                    found.setdefault(key, {**definition, "namespace": name})
        return found
