"""Reference data: file formats, loading, aggregation of the student extract, sample data."""
