"""Documents: Print Plan (full or custom report, PDF or Word) and the background jobs
(district packet, statewide summary)."""
