"""``conn.ims``: the Huawei Cloud / Open Telekom Cloud IMS extension API (v2 images, v1 jobs),
with the Huawei SDK's method names."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from imsportal.cloudapi import exceptions as exc
from imsportal.cloudapi.http import HttpClient, query_value
from imsportal.cloudapi.resources import CloudImage, ImsJob

# IMS's own default page size for GET /v2/cloudimages.
DEFAULT_PAGE_SIZE = 500
_VERSION_SUFFIX = re.compile(r"/v[12](\.\d+)?(/[0-9a-fA-F]{32})?/?$")


class ImsProxy:
    """IMS image list/update/create and the asynchronous jobs they start."""

    def __init__(
        self,
        http: HttpClient,
        endpoint: Callable[[], str],
        project_id: Callable[[], str],
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._http = http
        self._endpoint = endpoint
        self._project_id = project_id
        self._sleep = sleep

    @property
    def root(self) -> str:
        """The unversioned IMS root (``/v2``, ``/v1`` or ``/v1/<project>`` stripped)."""
        return _VERSION_SUFFIX.sub("", self._endpoint().rstrip("/"))

    def cloudimages(self, **query: Any) -> Iterator[CloudImage]:
        """Yield IMS images lazily, paging by marker.

        IMS answers ``{"images": [...]}`` with no ``next`` link, so the next page starts
        after the last id and paging stops at a short or empty page.

        Args:
            **query: IMS filters (``__imagetype``, ``visibility``, ``owner``, ``name``,
                ``status``, ``member_status`` (needs ``visibility=shared``), ``tag``,
                ``__platform``, ``created_at="lt:2018-10-28T10:00:00Z"``, ...; nothing is
                dropped). Booleans go out as ``true``/``false``. ``limit`` caps the total
                yielded; ``page_size`` sets the page size (default: ``limit`` up to 500).

        Returns:
            Iterator[CloudImage]: a lazy generator.

        Raises:
            ApiError: on any failed page (IMS ``IMG.xxxx`` codes are in ``e.code``).

        # Reference: https://docs.otc.t-systems.com/image-management-service/api-ref/ims_apis/image/querying_images.html
        """
        limit = query.pop("limit", None)
        limit = None if limit is None else int(limit)
        page_size = int(query.pop("page_size", None) or min(limit or DEFAULT_PAGE_SIZE, 500))
        params = {k: query_value(v) for k, v in query.items() if v is not None}
        return self._paginate(params, limit, page_size)

    def _paginate(
        self, params: dict[str, Any], limit: int | None, page_size: int
    ) -> Iterator[CloudImage]:
        if limit is not None and limit <= 0:
            return
        yielded = 0
        marker = params.pop("marker", None)
        url = f"{self.root}/v2/cloudimages"
        while True:
            page_params = {**params, "limit": page_size}
            if marker:
                page_params["marker"] = marker
            items = self._http.request("GET", url, params=page_params).json().get("images", [])
            for item in items:
                yield CloudImage.from_api(item)
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            if len(items) < page_size:
                return
            last = items[-1].get("id")
            if not last or last == marker:  # a server ignoring the marker would loop forever
                return
            marker = last

    def get_cloudimage(self, cloudimage_id: str) -> CloudImage:
        """Fetch one IMS image (IMS has no GET by id: this lists with ``id=``).

        Args:
            cloudimage_id: the image id.

        Returns:
            CloudImage: the image.

        Raises:
            NotFoundError: the list came back empty.

        # Reference: https://docs.otc.t-systems.com/image-management-service/api-ref/ims_apis/image/querying_images.html
        """
        for image in self.cloudimages(id=cloudimage_id, limit=1):
            return image
        raise exc.NotFoundError(f"No image with id {cloudimage_id}", status_code=404)

    def update_cloudimage(self, cloudimage_id: str, **data: Any) -> CloudImage:
        """Modify an active private image (``PATCH /v2/cloudimages/{id}``).

        Two call styles: the Huawei SDK's single operation
        (``op="replace", path="/name", value="x"``), or attributes
        (``name="x", __description="y", max_ram=None``) that become one operation each
        (``replace``; ``None`` removes). An attribute the image does not have yet makes
        IMS answer ``IMG.0035`` to ``replace``; the same change is then re-sent as ``add``,
        as Terraform does.

        Args:
            cloudimage_id: the image id.
            **data: one operation, or attributes to set.

        Returns:
            CloudImage: the updated image.

        Raises:
            BadRequestError: an invalid attribute or value (``IMG.xxxx`` in ``e.code``).
            ForbiddenError, NotFoundError: not the owner, or not visible.

        # Reference: https://docs.otc.t-systems.com/image-management-service/api-ref/ims_apis/image/updating_image_information.html
        """
        if "op" in data and "path" in data:
            ops = [{k: data[k] for k in ("op", "path", "value") if k in data}]
        else:
            ops = [
                {"op": "remove", "path": f"/{k}"}
                if v is None
                else {"op": "replace", "path": f"/{k}", "value": v}
                for k, v in data.items()
            ]
        url = f"{self.root}/v2/cloudimages/{quote(cloudimage_id, safe='')}"
        try:
            resp = self._http.request("PATCH", url, json_body=ops)
        except exc.BadRequestError as e:
            if e.code != "IMG.0035" or not any(op["op"] == "replace" for op in ops):
                raise
            ops = [{**op, "op": "add"} if op["op"] == "replace" else op for op in ops]
            resp = self._http.request("PATCH", url, json_body=ops)
        return CloudImage.from_api(resp.json())

    def create_cloudimage(self, **data: Any) -> ImsJob:
        """Start creating a private image (``POST /v2/cloudimages/action``).

        The variant follows the fields: ``instance_id`` (from an ECS), ``data_images``
        (data-disk images from an ECS's disks), ``image_url`` (import from OBS,
        ``"bucket:object"``), ``volume_id`` (system image from a data disk). Every field
        is sent as given (the Huawei SDK silently drops several). Never retried
        automatically: a second POST would start a second job.

        Args:
            **data: the request body, e.g. ``name``, ``instance_id``, ``image_url``,
                ``min_disk``, ``os_version``, ``description``, ``tags``.

        Returns:
            ImsJob: with ``job_id`` set; poll it with ``get_job``.

        Raises:
            BadRequestError: invalid fields (``IMG.xxxx`` in ``e.code``).

        # Reference: https://docs.otc.t-systems.com/image-management-service/api-ref/ims_apis/image/creating_an_image.html
        """
        resp = self._http.request(
            "POST", f"{self.root}/v2/cloudimages/action", json_body=data, retry=False
        )
        return ImsJob.from_api(resp.json())

    def get_job(self, job_id: str) -> ImsJob:
        """Fetch an asynchronous job (``GET /v1/{project_id}/jobs/{job_id}``).

        The project is the one the token is scoped to (or the AK/SK project). Use
        ``job.is_done`` / ``job.is_success`` (case-insensitive) and ``job.image_id``
        (found where IMS puts it for the job type).

        Args:
            job_id: the id ``create_cloudimage`` returned.

        Returns:
            ImsJob: the job.

        Raises:
            NotFoundError: no such job.

        # Reference: https://docs.otc.t-systems.com/image-management-service/api-ref/ims_apis/image_jobs/querying_the_status_of_an_asynchronous_job.html
        """
        project_id = self._project_id()
        if not project_id:
            raise exc.ApiError("get_job needs a project id (from the token or the config)")
        url = f"{self.root}/v1/{quote(project_id, safe='')}/jobs/{quote(job_id, safe='')}"
        return ImsJob.from_api(self._http.request("GET", url).json())

    def wait_for_job(self, job_id: str, *, timeout: float = 600, interval: float = 10) -> ImsJob:
        """Poll a job until SUCCESS or FAIL (for scripts; Celery tasks poll by retrying).

        Args:
            job_id: the job id.
            timeout: seconds to wait in all.
            interval: seconds between polls.

        Returns:
            ImsJob: the finished job (check ``is_success``).

        Raises:
            WaitTimeoutError: not finished in time.

        # Reference: https://docs.otc.t-systems.com/image-management-service/api-ref/ims_apis/image_jobs/querying_the_status_of_an_asynchronous_job.html
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if job.is_done:
                return job
            if time.monotonic() + interval > deadline:
                raise exc.WaitTimeoutError(
                    f"Job {job_id} is still {job.status or 'unknown'} after {timeout:.0f}s"
                )
            self._sleep(interval)
