"""``conn.image``'s member calls: share an image with other projects, and accept, reject
or reset a share. ``ImageProxy`` (image.py) inherits them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imsportal.cloudapi import exceptions as exc
from imsportal.cloudapi.http import HttpClient
from imsportal.cloudapi.resources import Member, id_of


class ImageMembers:
    """Glance v2 image members; needs ``_http`` and ``_url`` from ``ImageProxy``."""

    _http: HttpClient
    _url: Callable[..., str]

    def add_member(self, image: Any, **attrs: Any) -> Member:
        """Share an image with a project (the image must have visibility ``shared``).

        Args:
            image: an image id or an ``Image``.
            **attrs: ``member_id`` (or ``member``): the project id to share with.

        Returns:
            Member: the new member, status ``pending``.

        Raises:
            ValueError: no member id given.
            ForbiddenError: the image is not ``shared``, or the project is not its owner.
            ConflictError: the project is already a member.
            PayloadTooLargeError: over the member quota.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#create-image-member
        """
        member = attrs.get("member_id") or attrs.get("member")
        if not member:
            raise ValueError("add_member needs member_id (the project id to share with)")
        resp = self._http.request(
            "POST",
            self._url("images", id_of(image), "members"),
            json_body={"member": id_of(member)},
            retry=False,
        )
        return Member.from_api(resp.json())

    def remove_member(self, member: Any, image: Any, ignore_missing: bool = True) -> None:
        """Stop sharing an image with a project (owner only).

        Args:
            member: a member (project) id or a ``Member``.
            image: an image id or an ``Image``.
            ignore_missing: return quietly when the project is not a member.

        Returns:
            None

        Raises:
            NotFoundError: not a member and ``ignore_missing`` is false.
            ForbiddenError: the caller is not the image owner.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#delete-image-member
        """
        try:
            self._http.request(
                "DELETE", self._url("images", id_of(image), "members", id_of(member))
            )
        except exc.NotFoundError:
            if not ignore_missing:
                raise

    def find_member(
        self, name_or_id: str, image: Any, ignore_missing: bool = True
    ) -> Member | None:
        """Find one member of an image by project id (members have no names).

        Args:
            name_or_id: the member project id.
            image: an image id or an ``Image``.
            ignore_missing: return ``None`` instead of raising when not found.

        Returns:
            Member | None: the member, or ``None``.

        Raises:
            NotFoundError: not found and ``ignore_missing`` is false.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#show-image-member-details
        """
        try:
            return self.get_member(name_or_id, image)
        except exc.NotFoundError:
            if ignore_missing:
                return None
            raise

    def get_member(self, member: Any, image: Any) -> Member:
        """Fetch one member of an image (the owner sees all, a member only itself).

        Args:
            member: a member (project) id or a ``Member``.
            image: an image id or an ``Image``.

        Returns:
            Member: the member.

        Raises:
            NotFoundError: no such member, or not visible to the caller.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#show-image-member-details
        """
        resp = self._http.request(
            "GET", self._url("images", id_of(image), "members", id_of(member))
        )
        return Member.from_api(resp.json())

    def members(self, image: Any, *, status: str | None = None) -> list[Member]:
        """List an image's members (the owner sees all, a member only its own entry).

        Glance has no filter here; ``status`` is applied to the answer (openstacksdk
        silently ignores every filter on this call).

        Args:
            image: an image id or an ``Image``.
            status: keep only members with this status (``pending``, ``accepted``,
                ``rejected``).

        Returns:
            list[Member]: the members.

        Raises:
            ForbiddenError: the image is not ``shared``.
            NotFoundError: the image is not visible.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#list-image-members
        """
        body = self._http.request("GET", self._url("images", id_of(image), "members")).json()
        members = [Member.from_api(m) for m in body.get("members", [])]
        if status is not None:
            members = [m for m in members if m.status == status]
        return members

    def update_member(self, member: Any, image: Any, **attrs: Any) -> Member:
        """Accept, reject or reset a share; called with the *member* project's credentials.

        Args:
            member: the member (project) id, normally the caller's own, or a ``Member``.
            image: an image id or an ``Image``.
            **attrs: ``status`` (``accepted``, ``rejected``, ``pending``); on IMS also
                ``vault_id`` when accepting a full-ECS image.

        Returns:
            Member: the member with its new status.

        Raises:
            ValueError: no status given.
            ForbiddenError: the caller is the owner, not the member.
            NotFoundError: not a member, or not visible.
            BadRequestError: an invalid status.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#update-image-member
        """
        if not attrs.get("status"):
            raise ValueError("update_member needs status")
        body = {k: v for k, v in attrs.items() if k in ("status", "vault_id")}
        resp = self._http.request(
            "PUT", self._url("images", id_of(image), "members", id_of(member)), json_body=body
        )
        return Member.from_api(resp.json())
