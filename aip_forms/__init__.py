"""aip-forms: New Mexico Attendance Improvement Plans as a workflow over Excel workbooks.

Pipeline, by module: spec -> generate (workbook_templates) -> coordinator fills ->
intake -> read -> validate (validators) -> store -> render (exports).
"""

__version__ = "0.1.0"
