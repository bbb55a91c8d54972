from imsportal.localcloud.models.faults import FaultConfig
from imsportal.localcloud.models.glance import Image, ImageMember
from imsportal.localcloud.models.identity import Domain, Project, RoleAssignment, Token, User

__all__ = [
    "Domain",
    "FaultConfig",
    "Image",
    "ImageMember",
    "Project",
    "RoleAssignment",
    "Token",
    "User",
]
