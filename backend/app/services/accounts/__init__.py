"""Accounts: users and their sessions (`users`) and the audit trail of who did what (`audit`)."""
