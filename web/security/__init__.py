"""Who may do what, and the browser's protections: tokens and roles, login sessions, CSRF, guessing limits, security headers, body limits."""
