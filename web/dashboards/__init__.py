"""Monitoring dashboards (issue 12): statewide, district and school views."""
