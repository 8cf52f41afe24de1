"""My plans (coordinators): workbooks, uploads with cell-level reports, receipts, history."""
