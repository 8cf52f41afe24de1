"""Workbook generation: spec -> pre-filled, locked .xlsx plan workbooks."""
