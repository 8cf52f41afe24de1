"""`python -m aip_forms` is the `aip` command."""

from aip_forms.cli import main

main()
