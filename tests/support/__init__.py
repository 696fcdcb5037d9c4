"""Helpers shared by test suites (a real sshd on loopback, temporary sudo users)."""
