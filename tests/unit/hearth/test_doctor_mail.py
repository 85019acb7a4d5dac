"""`hearth doctor`, the mail server: SMTP connect, EHLO, STARTTLS as configured (aiosmtpd)."""

from __future__ import annotations

from hearth.doctor.mail import check_mail
from hearth.settings import EmailSettings
from tests.harness.ports import free_port
from tests.harness.smtp import SmtpServer


def test_plain_smtp_without_tls_is_ok(smtp: SmtpServer) -> None:
    """EHLO answered, TLS not wanted: ok."""
    finding = check_mail(EmailSettings(smtp_port=smtp.port, enable_tls=False))
    assert finding.level == "ok"
    assert finding.what == f"SMTP server 127.0.0.1:{smtp.port} accepts EHLO"


def test_tls_wanted_but_not_offered_is_a_warning(smtp: SmtpServer) -> None:
    """enable_tls with a server that offers no STARTTLS: mail would go out in clear."""
    finding = check_mail(EmailSettings(smtp_port=smtp.port, enable_tls=True))
    assert finding.level == "warning"
    assert "does not offer STARTTLS: mail goes out unencrypted" in finding.what


def test_tls_required_but_not_offered_is_a_problem(smtp: SmtpServer) -> None:
    """require_transport_security with no STARTTLS: Synapse could send no mail at all."""
    finding = check_mail(EmailSettings(smtp_port=smtp.port, require_transport_security=True))
    assert finding.level == "problem"
    assert "email.require_transport_security=false" in finding.fix


def test_mail_server_down_is_a_problem() -> None:
    """Nothing listening: a problem that names the host and port settings."""
    port = free_port()
    finding = check_mail(EmailSettings(smtp_port=port))
    assert finding.level == "problem"
    assert f"SMTP server 127.0.0.1:{port} is not reachable" in finding.what
    assert "email.smtp_host and email.smtp_port" in finding.fix
