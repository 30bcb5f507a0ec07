"""Who may do what in an organisation: four roles and the table of actions each may take.

docs/accounts.md shows this table; a test keeps the two identical and tries every role against
every action. Least privilege (UU PDP Art. 35-39): only people who work with personal data see
it, and only owners manage who else may.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from jagadata.i18n import N_


class Role(StrEnum):
    OWNER = "owner"
    DPO = "dpo"
    STAFF = "staff"
    VIEWER = "viewer"


ROLE_LABELS: Final = {
    Role.OWNER: N_("Owner"),
    Role.DPO: N_("Data protection officer"),
    Role.STAFF: N_("Staff"),
    Role.VIEWER: N_("Viewer"),
}


class Action(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_PERSONAL_DATA = "view_personal_data"
    HANDLE_REQUESTS = "handle_requests"
    EDIT_MANIFEST = "edit_manifest"
    MANAGE_RETENTION = "manage_retention"
    MANAGE_BREACHES = "manage_breaches"
    VIEW_AUDIT_LOG = "view_audit_log"
    EXPORT_AUDIT_LOG = "export_audit_log"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_USERS = "manage_users"


ACTION_LABELS: Final = {
    Action.VIEW_DASHBOARD: N_("See the dashboard, findings and published policies"),
    Action.VIEW_PERSONAL_DATA: N_("See a person's data (requests, consent records)"),
    Action.HANDLE_REQUESTS: N_("Handle data subject requests"),
    Action.EDIT_MANIFEST: N_("Change the manifest and publish the policy"),
    Action.MANAGE_RETENTION: N_("Run retention sweeps"),
    Action.MANAGE_BREACHES: N_("Register breaches and send notices"),
    Action.VIEW_AUDIT_LOG: N_("Read the audit log"),
    Action.EXPORT_AUDIT_LOG: N_("Export the audit log"),
    Action.MANAGE_API_KEYS: N_("Create and revoke API keys"),
    Action.MANAGE_USERS: N_("Add, change and remove users"),
}

_ALL: Final = frozenset(Role)
PERMISSIONS: Final[dict[Action, frozenset[Role]]] = {
    Action.VIEW_DASHBOARD: _ALL,
    Action.VIEW_PERSONAL_DATA: frozenset({Role.OWNER, Role.DPO, Role.STAFF}),
    Action.HANDLE_REQUESTS: frozenset({Role.OWNER, Role.DPO, Role.STAFF}),
    Action.EDIT_MANIFEST: frozenset({Role.OWNER, Role.DPO}),
    Action.MANAGE_RETENTION: frozenset({Role.OWNER, Role.DPO}),
    Action.MANAGE_BREACHES: frozenset({Role.OWNER, Role.DPO}),
    Action.VIEW_AUDIT_LOG: frozenset({Role.OWNER, Role.DPO}),
    Action.EXPORT_AUDIT_LOG: frozenset({Role.OWNER, Role.DPO}),
    Action.MANAGE_API_KEYS: frozenset({Role.OWNER, Role.DPO}),
    Action.MANAGE_USERS: frozenset({Role.OWNER}),
}
"""Each action and the roles allowed to take it; nothing else is allowed."""


def allowed(role: Role | str, action: Action) -> bool:
    try:
        return Role(role) in PERMISSIONS[action]
    except ValueError:
        return False


def actions_of(role: Role | str) -> frozenset[Action]:
    return frozenset(action for action in Action if allowed(role, action))
