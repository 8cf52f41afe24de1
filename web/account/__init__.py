"""The signed-in person's account: password change, TOTP set-up, a new account's first password."""
