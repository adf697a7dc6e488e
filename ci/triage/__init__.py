"""ics-triage: see ci/README.md."""
