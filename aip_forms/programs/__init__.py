"""Program profiles (issue 14): the rules that differ between programs that run the same
cycle (pick schools, set targets, plan supports, monitor).

A profile is a `ProgramConfig` (aip_forms.config) with these parts, each data that the code
reads instead of naming a state:

- `metric` (`rules.Metric`): what a student counts toward and whether a lower or a higher
  share is better: New Mexico counts students absent 10% or more of their days (chronic
  absence, lower is better); Los Angeles Unified counts students attending 96% or more
  (proficient or advanced attendance, higher is better);
- `targeted_grades`: the grades a plan targets (None: every grade);
- `target_rule` (`rules.TargetRule`): which targets are allowed against the previous year;
- `selection` (`rules.SelectionRule`): which schools must file a plan, with the reason;
- `staffing` (`rules.StaffingRule`, optional): support time per school from enrollment;
- reporting periods, catalogs and form specs, as before.

`profiles.PROFILES` names the built-in profiles (`nm`, `lausd`); `AIP_PROGRAM` picks one and
`AIP_PROGRAM_CONFIG` (a JSON file) overrides any of its values.
"""
