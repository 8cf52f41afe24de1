"""Use cases over plans and their submissions: plain functions taking their collaborators.

- `users`: add users and their roles.
- `submissions`: `submit` (validate, store, record as one unit), list, read.
- `review`: approve, return and comment; `workflow` holds the plan's state machine.
- `access`: who may read, submit or review which plan.
- `diff`: field-by-field differences between two versions of a plan.
- `revision`: a returned plan as a fresh workbook with the last answers and the comments.
- `integrity`: verify stored objects against the records, clear orphans.
- `audit`: the append-only log every state change writes to.
- `uow`: the unit of work over SQLAlchemy sessions; `repository`: the queries they share.

Collaborators: a unit-of-work factory (`uow.UowFactory`), an `ObjectStore`, a validator
(`submissions.Validator`) and a clock (`uow.Clock`). Expected failures are
`aip_forms.errors.AipError`s or, for `submit`, a `SubmitResult` that says what happened.
"""
