-- Throttling reads: log-in attempts are counted per (email, address) before
-- each password check, and sign-ups per address from the audit log.
CREATE INDEX login_failures_email_ip_idx ON login_failures (email, ip, failed_at);
CREATE INDEX audit_log_signup_ip_idx ON audit_log (ip, created_at) WHERE action = 'tenant.signup';
