from imsportal.localcloud.models.faults import FaultConfig
from imsportal.localcloud.models.glance import Image, ImageMember
from imsportal.localcloud.models.identity import (
    AccessKey,
    Domain,
    Project,
    RoleAssignment,
    Token,
    User,
)
from imsportal.localcloud.models.ims import Bucket, Job, Server

__all__ = [
    "AccessKey",
    "Bucket",
    "Domain",
    "FaultConfig",
    "Image",
    "ImageMember",
    "Job",
    "Project",
    "RoleAssignment",
    "Server",
    "Token",
    "User",
]
