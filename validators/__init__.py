"""Intake, reading and validation of uploaded plan workbooks (issue 3)."""
