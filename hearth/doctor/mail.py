"""The mail server: SMTP connect and EHLO, STARTTLS as configured, login when a user is set."""

from __future__ import annotations

import smtplib
import ssl

from hearth.doctor.findings import Finding, ok, problem, warning
from hearth.settings import EmailSettings

CHECK = "mail server"


def check_mail(settings: EmailSettings, timeout_s: float = 10.0) -> Finding:
    """What Synapse will do when it sends a password-reset mail, short of sending one."""
    if not settings.enabled:
        return ok(CHECK, "e-mail is disabled (email.enabled=false)")
    where = f"SMTP server {settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout_s) as smtp:
            smtp.ehlo()
            offers_tls = smtp.has_extn("starttls")
            if settings.require_transport_security and not offers_tls:
                return problem(CHECK, f"{where} does not offer STARTTLS, which "
                                      "email.require_transport_security requires",
                               "enable STARTTLS on the mail server, or set "
                               "email.require_transport_security=false")
            encrypted = False
            if settings.enable_tls and offers_tls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
                encrypted = True
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_pass)
    except smtplib.SMTPAuthenticationError:
        return problem(CHECK, f"{where} refused the login of {settings.smtp_user}",
                       "set email.smtp_user and email.smtp_pass to the mail account's")
    except ssl.SSLError as exc:
        return problem(CHECK, f"STARTTLS with {where} failed: {exc}",
                       "give the mail server a certificate this machine trusts, or set "
                       "email.enable_tls=false")
    except (OSError, smtplib.SMTPException) as exc:
        return problem(CHECK, f"{where} is not reachable: {exc}",
                       "start the mail server, or set email.smtp_host and email.smtp_port")
    if settings.enable_tls and not encrypted:
        return warning(CHECK, f"{where} does not offer STARTTLS: mail goes out unencrypted",
                       "enable STARTTLS on the mail server (or set email.enable_tls=false "
                       "to say it is intended)")
    return ok(CHECK, f"{where} accepts EHLO" + (" and STARTTLS" if encrypted else ""))
