"""The web portal (Flask); to come."""
