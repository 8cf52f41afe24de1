"""Operations: `/healthz` (the process answers), `/readyz` (its dependencies answer),
`/metrics` (Prometheus), and the request hooks that time every request, give it a request
id and log it as one JSON line (`aip_forms.observability`)."""
