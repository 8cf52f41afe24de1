"""Registration, sign-in with a second factor, password reset and sign-out."""
