from imsportal.localcloud.models.glance import Image
from imsportal.localcloud.models.identity import Domain, Project, RoleAssignment, Token, User

__all__ = ["Domain", "Image", "Project", "RoleAssignment", "Token", "User"]
