"""Workbook generation: spec -> pre-filled, locked .xlsx plan workbooks.

- `layout`: where things go (table rows, labels with history years, lookup lists, prompts);
- `prefill`: which PlanData value goes in which locked cell, in canonical form;
- `metadata`: the very hidden metadata sheet: identity, issued values, HMAC; read and verify;
- `instructions`, `styles`: the Instructions sheet and the cell styles;
- `build`: the reference builder (openpyxl, cell by cell);
- `compiled`, `zipparts`: the fast path (a template per kind, values spliced into its XML);
- `generate`: one workbook, or the statewide set in parallel;
- `example`: a completely and validly filled example; `synthetic`: made-up PlanData.
"""
