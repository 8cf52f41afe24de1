"""The plan workbook format: what generation writes and what validation, documents and
services read back. One place for:

- `layout`: where every field, table row, header label and lookup list goes, derived from
  the form spec (`aip_forms.spec`);
- `prefill`: which issued value (`aip_forms.issued_data.PlanData`) goes in which locked cell,
  and the canonical form of a cell value, so that written, signed and read-back values
  compare equal;
- `metadata`: the very hidden metadata sheet (identity, every issued value, HMAC signature)
  and how it is read and verified.

Generation (`workbook_templates`), validation (`validators`), documents (`exports`) and the
services (`aip_forms.services`) import these modules; none of them defines the format.
"""
