"""Login security: lockout after failed logins, a TOTP second factor, address rules per role."""

from hearth.synapse_modules.login_security.module import LoginSecurityModule

__all__ = ["LoginSecurityModule"]
