"""The review and diff use cases bound to New Mexico's program config (the default), so
that tests call them as a deployment's composition root would."""

from __future__ import annotations

from functools import partial

from aip_forms.config import ProgramConfig
from aip_forms.services import diff, review

NM = ProgramConfig()
approve = partial(review.approve, config=NM)
return_plan = partial(review.return_plan, config=NM)
add_comment = partial(review.add_comment, config=NM)
diff_submissions = partial(diff.diff_submissions, config=NM)
