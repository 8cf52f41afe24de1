"""Plan documents: Word and PDF plans, charts, compiled packets and summaries (issue 5).

The pipeline's last step, render, in modules named for what they do:

- `layout`: section keys (the spec's, plus `review`; `targets` and `charts`), columns as
  printed, which sections print landscape;
- `make_templates`: builds `templates/{district,school}_plan.docx` from the spec;
- `context`: the view model a template shows (display text, suppression applied);
- `charts`: matplotlib charts as print-resolution PNGs;
- `render`: `render_docx(plan, data, config, sections=..., review=..., suppression=...)`,
  in a sandboxed Jinja environment;
- `pdf`: the `PdfConverter` interface and the batch `LibreOfficeConverter`;
  `office`: `UnoConverter`, a long-lived LibreOffice over UNO, and `converter_named`;
- `suppression`: small groups and complementary cells, per LEA;
- `packet`: `compile_packet`, the district packet PDF; `summary`: the statewide workbook;
- `review`: `ReviewInfo`, what the documents say about a plan's review;
- `sources` and `service`: where plans come from, and the use cases the CLI calls.

Modules are imported where needed: matplotlib and docxtpl are slow to import.
"""
