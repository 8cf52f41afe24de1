"""The machine API (/api/v1): JSON over bearer personal access tokens, described by OpenAPI."""
