"""``conn.compute``: the servers of the project (Nova's list), so that an IMS image can be
created from one (``conn.ims.create_cloudimage(instance_id=...)``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from imsportal.cloudapi.http import HttpClient, query_value
from imsportal.cloudapi.resources import Server


class ComputeProxy:
    """Read-only server calls, with openstacksdk's method names."""

    def __init__(self, http: HttpClient, endpoint: Callable[[], str]):
        self._http = http
        self._endpoint = endpoint

    def servers(self, details: bool = True, **query: Any) -> Iterator[Server]:
        """Yield the project's servers lazily, paging by marker.

        Args:
            details: ``GET /servers/detail`` (status, flavor, metadata...) when true,
                else ``GET /servers`` (id, name and links only).
            **query: Nova filters (``name``, ``status``...). ``limit`` caps the total
                yielded and is the page size.

        Returns:
            Iterator[Server]: a lazy generator.

        Raises:
            ApiError: on any failed page.

        # Reference: https://docs.openstack.org/api-ref/compute/#list-servers-detailed
        """
        limit = query.pop("limit", None)
        limit = None if limit is None else int(limit)
        params = {k: query_value(v) for k, v in query.items() if v is not None}
        url = f"{self._endpoint().rstrip('/')}/servers" + ("/detail" if details else "")
        yielded = 0
        marker = params.pop("marker", None)
        while limit is None or yielded < limit:
            page_params = dict(params)
            if limit is not None:
                page_params["limit"] = limit - yielded
            if marker:
                page_params["marker"] = marker
            body = self._http.request("GET", url, params=page_params).json()
            items = body.get("servers", [])
            for item in items:
                yield Server.from_api(item)
                yielded += 1
            # Nova links the next page only when the page was cut by a limit.
            if not items or not any(
                link.get("rel") == "next" for link in body.get("servers_links", [])
            ):
                return
            marker = items[-1].get("id")

    def get_server(self, server_id: str) -> Server:
        """Fetch one server.

        Args:
            server_id: the server's id.

        Returns:
            Server: the server.

        Raises:
            NotFoundError: no such server in the project.

        # Reference: https://docs.openstack.org/api-ref/compute/#show-server-details
        """
        url = f"{self._endpoint().rstrip('/')}/servers/{quote(server_id, safe='')}"
        return Server.from_api(self._http.request("GET", url).json()["server"])
