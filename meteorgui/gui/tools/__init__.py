"""Tools on the archive: verify, resend, the night summary, desktop notifications."""
