"""Sign-in, accounts, sessions and who speaks for an enterprise."""
