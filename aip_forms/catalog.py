"""New Mexico default catalogs: subgroups, grade levels, reporting periods, tiers, strategies.

These are defaults; `ProgramConfig` carries the catalogs actually used, so another state or
year can replace them from a configuration file.

Evidence levels are the project's defaults from the public literature on attendance
interventions; PED is expected to review them before use in guidance.
"""

from __future__ import annotations

from aip_forms.domain import (
    EvidenceLevel,
    GradeLevel,
    ReportingPeriod,
    Strategy,
    Subgroup,
    TierBand,
)

E = EvidenceLevel

SUBGROUPS: tuple[Subgroup, ...] = (
    Subgroup(code="all", label="All Students", category="all"),
    Subgroup(code="female", label="Female", category="sex"),
    Subgroup(code="male", label="Male", category="sex"),
    Subgroup(code="amind", label="American Indian or Alaska Native", category="race_ethnicity"),
    Subgroup(code="asian", label="Asian", category="race_ethnicity"),
    Subgroup(code="black", label="Black or African American", category="race_ethnicity"),
    Subgroup(code="hispanic", label="Hispanic or Latino", category="race_ethnicity"),
    Subgroup(code="pacisl", label="Native Hawaiian or Pacific Islander", category="race_ethnicity"),
    Subgroup(code="white", label="White", category="race_ethnicity"),
    Subgroup(code="multi", label="Two or More Races", category="race_ethnicity"),
    Subgroup(
        code="ecodis",
        label="Economically Disadvantaged",
        category="program",
        extract_column="econ_disadv",
    ),
    Subgroup(
        code="el", label="English Learners", category="program", extract_column="english_learner"
    ),
    Subgroup(
        code="swd",
        label="Students with Disabilities",
        category="program",
        extract_column="disability",
    ),
    Subgroup(code="homeless", label="Homeless", category="program", extract_column="homeless"),
    Subgroup(code="foster", label="Foster Care", category="program", extract_column="foster_care"),
    Subgroup(
        code="military", label="Military-connected", category="program", extract_column="military"
    ),
    Subgroup(code="migrant", label="Migrant", category="program", extract_column="migrant"),
)

# The student extract carries sex and race/ethnicity as coded columns; these map its codes.
SEX_CODES = {"F": "female", "M": "male"}
RACE_CODES = {
    "I": "amind",
    "A": "asian",
    "B": "black",
    "H": "hispanic",
    "P": "pacisl",
    "W": "white",
    "M": "multi",
}

GRADES: tuple[GradeLevel, ...] = (
    GradeLevel(code="PK", label="Pre-K", order=0),
    GradeLevel(code="K", label="Kindergarten", order=1),
    *(GradeLevel(code=str(g), label=f"Grade {g}", order=g + 1) for g in range(1, 13)),
)

PERIODS: tuple[ReportingPeriod, ...] = (
    ReportingPeriod(code="40", label="40-day", day=40),
    ReportingPeriod(code="80", label="80-day", day=80),
    ReportingPeriod(code="120", label="120-day", day=120),
    ReportingPeriod(code="EOY", label="End of year", day=None),
)
DISTRICT_PERIODS = ("40", "80", "120")
SCHOOL_PERIODS = ("80", "120", "EOY")

TIERS: tuple[TierBand, ...] = (
    TierBand(tier=1, name="Whole-School Prevention", lower=0, upper=5),
    TierBand(tier=2, name="Individualized Prevention", lower=5, upper=10),
    TierBand(tier=3, name="Early Intervention", lower=10, upper=20),
    TierBand(tier=4, name="Intensive Support", lower=20, upper=None),
)

STRATEGIES: tuple[Strategy, ...] = (
    # Tier 1: whole-school prevention (user guide 3.5 and 4.5 examples first)
    Strategy(
        tier=1,
        name="Engaging School Climate",
        evidence=E.PROMISING,
        description="Welcoming, safe school culture that makes students want to attend.",
    ),
    Strategy(
        tier=1,
        name="Parent Outreach Programs",
        evidence=E.PROMISING,
        description="Regular family communication about why attendance matters.",
    ),
    Strategy(
        tier=1,
        name="Attendance Nudge Letters to Families",
        evidence=E.STRONG,
        description="Mailed or texted messages showing a family their child's absences.",
    ),
    Strategy(
        tier=1,
        name="Positive Behavioral Interventions and Supports (PBIS)",
        evidence=E.MODERATE,
        description="School-wide behavior framework with attendance.",
    ),
    Strategy(
        tier=1,
        name="Attendance Recognition and Incentives",
        evidence=E.RATIONALE,
        description="Recognizing good and improved attendance for all students.",
    ),
    Strategy(
        tier=1,
        name="School-Based Health Services",
        evidence=E.PROMISING,
        description="Nurse, dental and vision care on campus so illness costs fewer days.",
    ),
    Strategy(
        tier=1,
        name="Attendance Team Data Reviews",
        evidence=E.RATIONALE,
        description="A team reviews attendance data every month to act early.",
    ),
    # Tier 2: individualized prevention
    Strategy(
        tier=2,
        name="Attendance Mentoring",
        evidence=E.PROMISING,
        description="An adult mentor meets weekly with a student at risk.",
    ),
    Strategy(
        tier=2,
        name="Check-In/Check-Out Systems",
        evidence=E.MODERATE,
        description="Daily check-in with a trusted adult and a point card.",
    ),
    Strategy(
        tier=2,
        name="Personalized Family Text Messaging",
        evidence=E.STRONG,
        description="Two-way messages to families about their own child's attendance.",
    ),
    Strategy(
        tier=2,
        name="Student Attendance Success Plan",
        evidence=E.RATIONALE,
        description="A short written plan agreed with the student and family.",
    ),
    Strategy(
        tier=2,
        name="Peer Mentoring",
        evidence=E.PROMISING,
        description="Older students paired with younger students at risk.",
    ),
    # Tier 3: early intervention
    Strategy(
        tier=3,
        name="Family Resource Referrals",
        evidence=E.PROMISING,
        description="Referral to food, housing, health and transport resources.",
    ),
    Strategy(
        tier=3,
        name="Academic Support Plans",
        evidence=E.RATIONALE,
        description="Tutoring and make-up plans so missed work does not push students out.",
    ),
    Strategy(
        tier=3,
        name="Home Visits",
        evidence=E.PROMISING,
        description="Staff visit the family to understand and remove barriers.",
    ),
    Strategy(
        tier=3,
        name="Check & Connect",
        evidence=E.STRONG,
        description="Structured monitoring and mentoring for disengaged students.",
    ),
    Strategy(
        tier=3,
        name="School Counseling and Social Work Services",
        evidence=E.PROMISING,
        description="Regular sessions with a counselor or social worker.",
    ),
    # Tier 4: intensive support
    Strategy(
        tier=4,
        name="Case Management",
        evidence=E.PROMISING,
        description="A case manager coordinates services for the student and family.",
    ),
    Strategy(
        tier=4,
        name="Community Agency Partnerships",
        evidence=E.PROMISING,
        description="Formal partnerships with health, housing and human-service agencies.",
    ),
    Strategy(
        tier=4,
        name="Wraparound Services",
        evidence=E.PROMISING,
        description="A family team plans services across agencies.",
    ),
    Strategy(
        tier=4,
        name="Interagency Attendance Team",
        evidence=E.RATIONALE,
        description="School, family and agency staff meet on each student.",
    ),
    Strategy(
        tier=4,
        name="Individual Re-entry Plan",
        evidence=E.RATIONALE,
        description="A plan to return after long absence, suspension or placement.",
    ),
)

OTHER_STRATEGY = "Other"
