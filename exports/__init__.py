"""Plan documents: Word/PDF rendering and compiled packets (issue 5)."""
