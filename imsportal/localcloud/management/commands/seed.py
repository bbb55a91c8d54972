"""Create the demo domain, two projects with a user each, and a dozen demo images.

Idempotent: a second run finds everything in place and changes nothing.
"""

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from imsportal.localcloud.ims.disks import make_qcow2, make_raw, make_vhd, pattern
from imsportal.localcloud.models import (
    AccessKey,
    Bucket,
    Domain,
    Image,
    Project,
    RoleAssignment,
    Server,
    User,
)

DEMO_USERS = [
    # user, password, project
    ("owner", "owner-demo-password", "owner-project"),
    ("partner", "partner-demo-password", "partner-project"),
]
# AK/SK pairs for signed (SDK-HMAC-SHA256) requests, one per demo user.
DEMO_ACCESS_KEYS = {
    "owner": ("OWNERDEMOACCESSKEY01", "ownerDemoSecretKey0000000000000000000001"),
    "partner": ("PARTNERDEMOACCESSK01", "partnerDemoSecretKey00000000000000000001"),
}
# IMS sources: servers (project, name, status, os_type, platform, os_version, disk GB) and
# bucket objects (project, bucket, object, maker; None makes an empty object).
DEMO_SERVERS = [
    ("owner-project", "ecs-web-01", "ACTIVE", "Linux", "Ubuntu", "Ubuntu 22.04 server 64bit", 40),
    ("owner-project", "ecs-db-01", "SHUTOFF", "Linux", "Debian", "Debian GNU/Linux 12 64bit", 40),
    ("partner-project", "ecs-app-01", "SHUTOFF", "Linux", "CentOS", "CentOS 7.9 64bit", 40),
]
DEMO_OBJECTS = [
    ("owner-project", "owner-images", "cirros-mini.qcow2", make_qcow2),
    ("owner-project", "owner-images", "debian-mini.raw", make_raw),
    ("owner-project", "owner-images", "windows-mini.vhd", make_vhd),
    ("owner-project", "owner-images", "empty.qcow2", None),
    ("partner-project", "partner-images", "centos-mini.qcow2", make_qcow2),
]
DEMO_IMAGES = [
    ("cirros-0.6.2", "qcow2", "bare", {"os_distro": "cirros", "os_version": "0.6.2"}),
    ("ubuntu-24.04-server", "qcow2", "bare", {"os_distro": "ubuntu", "os_version": "24.04"}),
    ("ubuntu-22.04-server", "qcow2", "bare", {"os_distro": "ubuntu", "os_version": "22.04"}),
    ("debian-12-generic", "qcow2", "bare", {"os_distro": "debian", "os_version": "12"}),
    ("debian-13-generic", "raw", "bare", {"os_distro": "debian", "os_version": "13"}),
    ("fedora-41-cloud", "qcow2", "bare", {"os_distro": "fedora", "os_version": "41"}),
    ("rocky-9-generic", "qcow2", "bare", {"os_distro": "rocky", "os_version": "9"}),
    ("alpine-3.20-virt", "raw", "bare", {"os_distro": "alpine", "os_version": "3.20"}),
    ("windows-2022-eval", "vhd", "bare", {"os_distro": "windows", "os_type": "windows"}),
    ("opensuse-15.6", "qcow2", "bare", {"os_distro": "opensuse", "os_version": "15.6"}),
    ("freebsd-14.1", "raw", "bare", {"os_distro": "freebsd", "os_version": "14.1"}),
    ("rescue-iso", "iso", "bare", {"os_distro": "systemrescue"}),
]
DEMO_IMAGE_SIZE = 64 * 1024
SEED_NAMESPACE = uuid.UUID("6b0e5c8e-3f7c-4c41-9a57-5e2d3f8c2a10")


class Command(BaseCommand):
    help = "Seed the local cloud with demo projects, users and images (idempotent)."

    def handle(self, **options):
        settings.IMAGES_DIR.mkdir(parents=True, exist_ok=True)
        with transaction.atomic():
            domain, _ = Domain.objects.get_or_create(id="default", defaults={"name": "Default"})
            projects = {}
            for username, password, project_name in DEMO_USERS:
                project, _ = Project.objects.get_or_create(
                    name=project_name,
                    domain=domain,
                    defaults={"id": uuid.uuid5(SEED_NAMESPACE, project_name).hex},
                )
                projects[project_name] = project
                user = User.objects.filter(name=username, domain=domain).first()
                if user is None:
                    user = User(
                        id=uuid.uuid5(SEED_NAMESPACE, username).hex, name=username, domain=domain
                    )
                    user.set_password(password)
                    user.save()
                for role in ("member", "reader"):
                    RoleAssignment.objects.get_or_create(user=user, project=project, role=role)
                access, secret = DEMO_ACCESS_KEYS[username]
                AccessKey.objects.get_or_create(
                    access=access, defaults={"secret": secret, "user": user}
                )
            created = self._images(projects["owner-project"])
            self._ims_sources(projects)
        self.stdout.write(
            f"Local cloud seeded: {len(DEMO_USERS)} projects and users, {created} new demo images."
        )

    def _images(self, owner: Project) -> int:
        created = 0
        start = timezone.now() - timedelta(days=len(DEMO_IMAGES))
        for n, (name, disk_format, container_format, props) in enumerate(DEMO_IMAGES):
            image_id = str(uuid.uuid5(SEED_NAMESPACE, f"image:{name}"))
            if Image.objects.filter(id=image_id).exists():
                continue
            data = pattern(name, DEMO_IMAGE_SIZE)
            (settings.IMAGES_DIR / image_id).write_bytes(data)
            when = start + timedelta(days=n)
            Image.objects.create(
                id=image_id,
                name=name,
                status="active",
                visibility="private" if n % 3 else "shared",
                owner=owner.id,
                disk_format=disk_format,
                container_format=container_format,
                size=len(data),
                virtual_size=len(data),
                checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                os_hash_algo="sha512",
                os_hash_value=hashlib.sha512(data).hexdigest(),
                tags=["demo"],
                properties=props,
                created_at=when,
                updated_at=when,
            )
            created += 1
        return created

    def _ims_sources(self, projects: dict[str, Project]) -> None:
        """Servers with real system disks and buckets with small image files."""
        for project, name, status, os_type, platform, os_version, disk_gb in DEMO_SERVERS:
            server, _ = Server.objects.get_or_create(
                id=str(uuid.uuid5(SEED_NAMESPACE, f"server:{project}:{name}")),
                defaults={
                    "project": projects[project],
                    "name": name,
                    "status": status,
                    "os_type": os_type,
                    "platform": platform,
                    "os_version": os_version,
                    "disk_gb": disk_gb,
                    "created_at": timezone.now(),
                },
            )
            if not server.disk_path.exists():
                server.disk_path.parent.mkdir(parents=True, exist_ok=True)
                server.disk_path.write_bytes(make_raw(f"server:{server.id}"))
        for project, bucket_name, object_name, maker in DEMO_OBJECTS:
            bucket, _ = Bucket.objects.get_or_create(
                name=bucket_name, defaults={"project": projects[project]}
            )
            path = bucket.path / object_name
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(maker(f"{bucket_name}:{object_name}") if maker else b"")
