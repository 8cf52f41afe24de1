"""The deployment as its users meet it (`Site`): the portal's address and name, and what the
program's roles are called. The composition root builds one from AIP_BASE_URL and the
program profile (`App.site`); the account use cases word their mail and messages with it,
so nothing they send names a state.
"""

from __future__ import annotations

from dataclasses import dataclass

from aip_forms.config import ProgramConfig
from aip_forms.services.access import Role

# Roles keep their stable codes (`ped_coordinator`); their names are shown with the
# program's agency ("PED Absence Coordinator", "LAUSD Absence Coordinator").
ROLE_NAMES = {
    Role.PED_COORDINATOR: "{agency} Absence Coordinator",
    Role.PED_REVIEWER: "{agency} reviewer",
    Role.DISTRICT_COORDINATOR: "District Absence Coordinator",
    Role.SCHOOL_COORDINATOR: "School coordinator",
}


def role_name(role: Role, agency: str) -> str:
    """A role's displayed name, with `agency` the program's short name (`agency_short`)."""
    return ROLE_NAMES[role].format(agency=agency)


@dataclass(frozen=True)
class Site:
    base_url: str  # no trailing slash: links are f"{base_url}/account/reset"
    portal_name: str  # "New Mexico Attendance Improvement Plan portal"
    agency_short: str  # "PED"
    totp_issuer: str  # the label of an authenticator app's entry ("NM AIP")

    @classmethod
    def of(cls, base_url: str, config: ProgramConfig) -> Site:
        return cls(
            base_url.rstrip("/"), config.portal_name, config.agency_short, config.totp_issuer
        )

    def role_name(self, role: Role) -> str:
        return role_name(role, self.agency_short)

    @property
    def coordinator(self) -> str:
        """Who approves accounts and answers for them: "PED Absence Coordinator"."""
        return self.role_name(Role.PED_COORDINATOR)
