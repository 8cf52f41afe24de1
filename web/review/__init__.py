"""Review: the queue of plans to review and a plan's page (data, comments, decision)."""
