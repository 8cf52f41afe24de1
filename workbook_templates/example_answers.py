"""The answers of example plans: specific, varied, and different for every school.

In the spirit of the user guide's examples (§3.5, §4.5: "Host biweekly parent workshops",
"Counselor: Maria Garcia", "$500 for incentive prizes", "Launch by October 15"), every
catalog strategy has implementation plans of its own, and every school draws its own
strategies, plans, staff and root causes from the banks below with a generator seeded by
its code (the LEA's code for a district plan): the same school always gets the same plan,
two schools rarely the same one. Root causes quote the school's own rates. All of it is
synthetic, for demos and tests, like the data it is filled over.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from aip_forms.issued_data import PlanData


@dataclass(frozen=True)
class Implementation:
    action_steps: str
    role: str  # the responsible party's role; the person comes from the school's staff
    resources: str
    timeline: str


I = Implementation  # noqa: E741  (the banks below read better short)

# Two or three plans for every strategy of the New Mexico catalog (`aip_forms.catalog`).
STRATEGY_PLANS: dict[str, tuple[Implementation, ...]] = {
    "Engaging School Climate": (
        I(
            "Greet every student by name at the doors each morning; open advisory with a "
            "five-minute community circle",
            "Principal",
            "Advisory circle guide for 40 teachers",
            "Doors greeting from the first day; circles by September 8",
        ),
        I(
            "Start lunchtime clubs chosen by student vote (robotics, ballet folklórico, "
            "chess) so every student has a reason to come",
            "Activities Director",
            "$1,200 for club supplies; 6 staff sponsors",
            "Clubs running by October 1",
        ),
    ),
    "Parent Outreach Programs": (
        I(
            "Host biweekly parent workshops on why attendance matters, in English and "
            "Spanish, with dinner and childcare",
            "Family Liaison",
            "$500 for meals; interpreter 4 hours a month",
            "Launch by October 15",
        ),
        I(
            "Hold a back-to-school attendance night and a February family conference on "
            "each student's absences",
            "Counselor",
            "Attendance reports per family; translated invitations",
            "First night by August 28; conferences in February",
        ),
    ),
    "Attendance Nudge Letters to Families": (
        I(
            "Mail a one-page letter comparing each student's absences with the class "
            "average after the 20th and 60th days",
            "Attendance Clerk",
            "Postage for 600 letters; letter template in English and Spanish",
            "Letters out by September 20 and November 10",
        ),
        I(
            "Send a positive postcard home when a student with prior absences has a perfect week",
            "Attendance Clerk",
            "$300 for postcards and postage",
            "Weekly from October 1",
        ),
    ),
    "Positive Behavioral Interventions and Supports (PBIS)": (
        I(
            "Teach the three school-wide expectations in every class the first two weeks; "
            "reward on-time arrival with PBIS points",
            "PBIS Coach",
            "$800 for the PBIS store; point cards",
            "Expectations taught by August 30",
        ),
        I(
            "Review office referrals and absences together each month and reteach where "
            "they cluster",
            "PBIS Team Lead",
            "Monthly data pull from the student information system",
            "First review October 3, then monthly",
        ),
    ),
    "Attendance Recognition and Incentives": (
        I(
            "Recognize most-improved attendance each month at assemblies; classes with "
            "95% attendance earn an extra recess",
            "Assistant Principal",
            "$500 for incentive prizes",
            "First assembly September 29",
        ),
        I(
            "Enter students with a perfect month into a drawing for bicycles donated by a "
            "local business",
            "Activities Director",
            "4 donated bicycles; sign-up sheets",
            "Drawings at the end of each quarter",
        ),
    ),
    "School-Based Health Services": (
        I(
            "Offer flu shots and asthma checks at school; the nurse calls home after a "
            "second illness absence in a month",
            "School Nurse",
            "Vaccine clinic from the county health office",
            "Clinic by October 20",
        ),
        I(
            "Screen vision and dental health in the fall and book follow-up visits with the "
            "mobile clinic",
            "School Nurse",
            "Mobile dental van 2 days a semester",
            "Screenings done by November 1",
        ),
    ),
    "Attendance Team Data Reviews": (
        I(
            "Meet every other Tuesday to review the students who crossed 5% and 10% "
            "absence and assign each one to a staff member",
            "Attendance Team Lead",
            "Absence report from the student information system",
            "From September 9, every other Tuesday",
        ),
        I(
            "Post a grade-by-grade attendance chart in the staff room and review it at "
            "each monthly staff meeting",
            "Data Coordinator",
            "Chart template; 15 minutes of each staff meeting",
            "Monthly from September",
        ),
    ),
    "Attendance Mentoring": (
        I(
            "Pair at-risk students with peer mentors who meet them weekly",
            "Mentor Coordinator",
            "Training materials for mentors",
            "Match mentors by Week 3",
        ),
        I(
            "Match each student at 5-10% absence with a staff mentor for a weekly "
            "ten-minute check on attendance and grades",
            "Assistant Principal",
            "20 volunteer staff mentors; mentor log",
            "Matches made by September 19",
        ),
    ),
    "Check-In/Check-Out Systems": (
        I(
            "Start and end each day with a check-in card reviewed by a trusted adult; "
            "families sign the card weekly",
            "Counselor",
            "Daily check-in cards; 30 minutes of staff time a day",
            "Running by September 15",
        ),
        I(
            "Give students on check-in/check-out a points goal; meeting it four days a "
            "week earns a lunch with a chosen adult",
            "Behavior Interventionist",
            "Point sheets; $150 for lunch rewards",
            "From October 1, reviewed every 3 weeks",
        ),
    ),
    "Personalized Family Text Messaging": (
        I(
            "Text families the same morning a student is absent and weekly with the "
            "student's attendance total, in the family's language",
            "Attendance Clerk",
            "Text-messaging service ($900 a year)",
            "Texts from September 2",
        ),
        I(
            "Send a monthly text with one tip and the student's days missed so far",
            "Family Liaison",
            "Message templates in English, Spanish and Navajo",
            "First message October 1",
        ),
    ),
    "Student Attendance Success Plan": (
        I(
            "Write a one-page success plan with the student and a parent: the goal, the "
            "obstacle, and who helps",
            "Counselor",
            "Success plan template",
            "Plans signed within 2 weeks of crossing 5%",
        ),
        I(
            "Review each success plan at 3 weeks and adjust the supports",
            "Assistant Principal",
            "Review checklist",
            "Reviews every 3 weeks",
        ),
    ),
    "Peer Mentoring": (
        I(
            "Train juniors and seniors as peer mentors for 9th graders who missed days in "
            "the first month",
            "Counselor",
            "Mentor training (2 afternoons); $400 for snacks",
            "Mentors trained by September 26",
        ),
        I(
            "Run a lunch-bunch peer group twice a week for students returning from long absences",
            "Social Worker",
            "Lunch room reserved; group guide",
            "Groups from October 6",
        ),
    ),
    "Family Resource Referrals": (
        I(
            "Refer families to food, housing and utility help through the family resource "
            "center and follow up within a week",
            "Family Liaison",
            "Resource directory; referral log",
            "Referrals from September; follow-up weekly",
        ),
        I(
            "Keep a closet of clothing, alarm clocks and school supplies for families who "
            "need them",
            "Social Worker",
            "$1,000 for supplies; donations",
            "Closet open by September 30",
        ),
    ),
    "Academic Support Plans": (
        I(
            "Give students at 10-20% absence a catch-up plan with tutoring twice a week so "
            "missed work does not keep them away",
            "Instructional Coach",
            "After-school tutors, 2 days a week",
            "Plans within 10 days of referral",
        ),
        I(
            "Offer Saturday make-up sessions for missed labs and tests",
            "Assistant Principal",
            "2 teachers on Saturdays ($2,400)",
            "Monthly from October 18",
        ),
    ),
    "Home Visits": (
        I(
            "Schedule home visits for students missing more than 15% of days",
            "Social Worker",
            "Transportation for home visits",
            "Complete visits by November 30",
        ),
        I(
            "Visit every family of a student absent 5 days in a row, with a staff member "
            "the family knows",
            "Attendance Officer",
            "District car 1 day a week; visit log",
            "Within 5 school days of the fifth absence",
        ),
    ),
    "Check & Connect": (
        I(
            "Assign a Check & Connect monitor to each student at 10-20% absence for the "
            "whole year, checking attendance daily",
            "Check & Connect Monitor",
            "Monitor training; caseload of 25",
            "Caseloads set by September 30",
        ),
        I(
            "Meet the monitor's students weekly and call home after any absence",
            "Check & Connect Monitor",
            "Phone time daily; weekly meeting room",
            "Weekly from October",
        ),
    ),
    "School Counseling and Social Work Services": (
        I(
            "Run 6-week counseling groups on anxiety and school avoidance for students "
            "who miss days",
            "Counselor",
            "Group curriculum; room 2 periods a week",
            "First groups by October 13",
        ),
        I(
            "See every student referred for absence within 3 days for an individual "
            "needs assessment",
            "Social Worker",
            "Assessment form; referral log",
            "From the first referral",
        ),
    ),
    "Case Management": (
        I(
            "Open a case for every student at 20% absence or more, with one case manager "
            "meeting the family every two weeks",
            "Social Worker",
            "Caseload of 15; case notes in the student information system",
            "Cases opened within 5 days",
        ),
        I(
            "Hold a family team meeting with the student, family, counselor and nurse to "
            "agree on a written plan",
            "Counselor",
            "Meeting room; interpreter on call",
            "Within 2 weeks of crossing 20%",
        ),
    ),
    "Community Agency Partnerships": (
        I(
            "Coordinate with local clinics for health barriers and refer students with "
            "chronic illness",
            "School Nurse",
            "Referral agreement with the county clinic",
            "Agreement signed by September 1",
        ),
        I(
            "Sign a referral agreement with the behavioral health provider for students "
            "whose absences follow a crisis",
            "Social Worker",
            "Memorandum of understanding with the provider",
            "Signed by October 1",
        ),
    ),
    "Wraparound Services": (
        I(
            "Build a wraparound team (family, school, behavioral health, juvenile "
            "probation where involved) that meets every two weeks",
            "Social Worker",
            "Wraparound facilitator 0.5 FTE",
            "Teams formed within 3 weeks of referral",
        ),
        I(
            "Fund transportation, clothing and child care that stand between a student and school",
            "Principal",
            "$3,000 flexible fund",
            "From September",
        ),
    ),
    "Interagency Attendance Team": (
        I(
            "Meet monthly with the county health office, children's services and the "
            "tribal education department to plan for students missing 20% or more",
            "Attendance Team Lead",
            "Data-sharing agreement",
            "First meeting September 24",
        ),
        I(
            "Invite families to the team's meeting with an advocate of their choosing",
            "Family Liaison",
            "Family advocate list",
            "From the October meeting",
        ),
    ),
    "Individual Re-entry Plan": (
        I(
            "Meet each student returning from a long absence, suspension or placement the "
            "day they return, with a written re-entry plan",
            "Assistant Principal",
            "Re-entry plan template; schedule review",
            "Same day as the return",
        ),
        I(
            "Give returning students a reduced schedule for two weeks and a credit recovery plan",
            "Counselor",
            "Credit recovery licenses (10)",
            "Within 3 days of the return",
        ),
    ),
}

# Local strategies ("Other"), by tier, with their own plans.
OTHER_PLANS: dict[int, tuple[tuple[str, Implementation], ...]] = {
    1: (
        ("Monthly attendance reward assemblies",
         I("Celebrate the grade with the best month at an assembly and post the results in "
           "the hallway", "Student Council Sponsor", "$200 a month for prizes",
           "First assembly September 29")),
        ("Walking school bus on the two closest routes",
         I("Recruit parent volunteers to walk students to school along two routes each "
           "morning", "Family Liaison", "Safety vests; 8 volunteers", "Routes by "
           "September 15")),
    ),
    2: (
        ("Attendance buddies for students new to the school",
         I("Pair each newly enrolled student with a classmate buddy for the first month",
           "Counselor", "Buddy guide; welcome packet", "Within 2 days of enrolling")),
        ("Morning wake-up calls for students with repeated tardies",
         I("Call students who were late three times in two weeks at 7:00 a.m. for "
           "two weeks", "Attendance Clerk", "Phone time 30 minutes a day",
           "From September 22")),
    ),
    3: (
        ("Morning wake-up calls for students with repeated absences",
         I("Call each student at 10-20% absence before school for a month and note "
           "what keeps them home", "Social Worker", "Phone list; 45 minutes a day",
           "From October 1")),
        ("Attendance contracts signed with families",
         I("Agree a written attendance contract with the student and family, with a "
           "weekly check and a reward", "Assistant Principal", "Contract template",
           "Within a week of crossing 10%")),
    ),
    4: (
        ("Transportation vouchers for families without a car",
         I("Give gas cards or bus passes to families for whom distance is the reason "
           "for absence", "Family Liaison", "$2,000 in gas cards and bus passes",
           "From September 15")),
        ("Attendance court diversion conferences",
         I("Hold a conference with the family and the district attendance officer "
           "before any referral to the courts", "Attendance Officer",
           "Conference room; interpreter", "Within 10 days of crossing 20%")),
    ),
}  # fmt: skip

STAFF = (
    "Maria Garcia", "Lee Chen", "Rosa Martinez", "Daniel Begay", "Angela Romero",
    "Thomas Yazzie", "Priya Natarajan", "Carlos Baca", "Jennifer Sandoval", "Marcus Lovato",
    "Elena Chavez", "Samuel Tsosie", "Grace Montoya", "Victor Archuleta", "Hannah Lucero",
    "Joseph Nez", "Lucia Herrera", "Michael Trujillo",
)  # fmt: skip
TEAM_ROLES = ("Counselor", "Social Worker", "School Nurse", "Family Liaison",
              "Assistant Principal", "Attendance Clerk")  # fmt: skip

RESEARCH = (
    "National research (Attendance Works) links chronic absence in the early grades to "
    "lower reading proficiency by third grade, and in high school to dropping out.",
    "Statewide studies of attendance data show chronically absent students are far less likely to "
    "reach proficiency in math, whatever their income.",
    "Research on attendance nudges finds that telling families how many days their child "
    "missed lowers absences by about a tenth.",
)
LOCAL = (
    "Locally, absences rise in January and February with flu and road conditions.",
    "Our attendance team found that most days missed are full-day absences on Mondays and Fridays.",
    "Student surveys name feeling behind in class as the top reason for missing school.",
    "About a third of chronically absent students live more than ten miles from school.",
)
SUPPORTIVE = (
    "a full-time counselor and a school nurse on campus",
    "strong parent-engagement programs and a family resource center",
    "a partnership with the county health office for vaccine and dental clinics",
    "bilingual staff who call families in Spanish and Navajo",
    "an attendance team that meets every other week",
    "after-school tutoring funded through the community schools grant",
    "a local business that donates attendance incentives",
)
BARRIERS = (
    "language barriers for families new to the district",
    "housing instability for some families, including doubled-up households",
    "chronic illness, asthma above all, among younger students",
    "students caring for younger siblings on days without child care",
    "anxiety and school avoidance since the return to in-person classes",
    "long drives on unpaved roads that close after snow or rain",
)
REFLECTIONS = (
    "Check-in/check-out reached most Tier 2 students and their absences fell; home visits "
    "started late and will begin earlier next period.",
    "Family text messages went out every week; mornings after a text show fewer absences. "
    "The mentoring match took longer than planned.",
    "Tier 3 referrals doubled after the data reviews; the social worker's caseload is full, "
    "so two staff mentors now help.",
)


@dataclass(frozen=True)
class TierPick:
    strategy: str  # a catalog name, or OTHER
    other: str | None  # the local strategy's name when `strategy` is Other
    plan: Implementation
    person: str


def entity_random(data: PlanData) -> random.Random:
    """The generator of one plan's answers, seeded by its school's (or LEA's) code."""
    return random.Random(f"aip-example:{data.kind}:{data.entity_code}")


def staff(rng: random.Random) -> list[str]:
    """The plan's staff: Maria Garcia (the user guide's counselor) first, then others."""
    return ["Maria Garcia", *rng.sample(STAFF[1:], 7)]


def root_causes(data: PlanData, rng: random.Random) -> dict[str, str]:
    """Research (quoting the entity's own all-students rates), supports and barriers."""
    overall = next((r for r in data.subgroups if r.code == "all" and not r.suppressed), None)
    # rates are oldest first, one per history year; the newest ones line up with the years
    years = data.history_years[-len(overall.rates) :] if overall and overall.rates else ()
    known = [(y, r) for y, r in zip(years, overall.rates if overall else (), strict=False) if r]
    if len(known) >= 2:
        (first_year, first), (last_year, last) = known[0], known[-1]
        trend = "up" if last > first + 0.5 else "down" if last < first - 0.5 else "about flat"
        ours = (
            f"Our chronic absence rate was {last:.1f}% in FY{last_year}, {trend} from "
            f"{first:.1f}% in FY{first_year}."
        )
    else:
        ours = "Our own rates are too few to show a trend; we follow the district's."
    supports = rng.sample(SUPPORTIVE, 3)
    barriers = rng.sample(BARRIERS, 2)
    return {
        "research": f"{rng.choice(RESEARCH)} {ours} {rng.choice(LOCAL)}",
        "supportive_factors": f"{supports[0][0].upper()}{supports[0][1:]}; {supports[1]}; "
        f"and {supports[2]}.",
        # Rural routes are the most common barrier in the state's plans; every example
        # names it, with the school's own others.
        "barriers": f"Transportation gaps on rural bus routes, {barriers[0]}, and {barriers[1]}.",
        "reflection": rng.choice(REFLECTIONS),
    }


def tier_picks(
    tier: int, catalog: list[str], count: int, rng: random.Random, people: list[str]
) -> list[TierPick]:
    """`count` catalog strategies of the tier (in the school's own order), then one local
    one; each with a plan of its own and a person for its role."""
    chosen = rng.sample(catalog, min(count, len(catalog)))
    picks = []
    for name in chosen:
        plans = STRATEGY_PLANS.get(name) or (
            I(f"Put {name} in place for the tier's students", "Attendance Team Lead",
              "Staff time", "By October 15"),
        )  # fmt: skip
        picks.append(TierPick(name, None, rng.choice(plans), rng.choice(people)))
    local, plan = rng.choice(OTHER_PLANS.get(tier, OTHER_PLANS[1]))
    picks.append(TierPick("", local, plan, rng.choice(people)))
    return picks


# Measures of LAUSD's program objectives (`aip_forms.programs.lausd_spec`): (what will be
# measured, baseline, goal, actions), two drawn for each school.
MEASURES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "monitoring": (
        (
            "Attendance team reviews of targeted-grade attendance data",
            "Monthly",
            "Every two weeks",
            "The attendance team reviews the K and grade 9 lists with the "
            "counselor and names a contact for every student under 96%.",
        ),
        (
            "Targeted-grade students under 96% with a contact within 10 days",
            "45%",
            "90%",
            "The counselor calls or visits each family within ten school days of the list.",
        ),
        (
            "Teachers who receive their class's attendance report",
            "30%",
            "100%",
            "The office sends each K and grade 9 teacher a report every second Friday.",
        ),
    ),
    "awareness": (
        (
            "Parents who can state the 96% attendance goal (survey)",
            "35%",
            "70%",
            "Goal flyers at enrollment, a back-to-school talk and a monthly parent newsletter.",
        ),
        (
            "Classrooms showing the Performance Meter goal",
            "10 of 40",
            "40 of 40",
            "Each targeted-grade classroom posts its monthly attendance chart.",
        ),
        (
            "Staff trained on attendance expectations",
            "12",
            "All staff",
            "A 30-minute session at the September and January staff meetings.",
        ),
    ),
    "prevention": (
        (
            "Students in an attendance incentive program",
            "40",
            "120",
            "Monthly recognition for classes at 96% or more, with a prize drawing.",
        ),
        (
            "Community partners supporting attendance",
            "1",
            "4",
            "The counselor meets the clinic, the library and two family-support agencies.",
        ),
        (
            "Parent workshops held on attendance and routines",
            "2",
            "6",
            "Evening workshops in English and Spanish, with child care.",
        ),
    ),
    "academics": (
        (
            "Targeted-grade students with a work habits mark of 3 or 4",
            "58%",
            "68%",
            "Teachers review work habits marks with the counselor after each reporting period.",
        ),
        (
            "Grade 9 students with no D or F grades",
            "52%",
            "62%",
            "Tutoring after school and a check-in with each student below a C.",
        ),
        (
            "Kindergarten students at benchmark in early reading",
            "48%",
            "60%",
            "Small-group reading for students who missed more than five days.",
        ),
    ),
}
