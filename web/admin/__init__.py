"""PED administration: registrations, users, announcements."""
