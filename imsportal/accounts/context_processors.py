from imsportal.accounts.roles import APPROVE, CHANGE


def roles(request):
    """Expose what the user may do, for showing or hiding controls (the views still check)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"can_change": user.has_perm(CHANGE), "can_approve": user.has_perm(APPROVE)}
