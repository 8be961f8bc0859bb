"""Third-party verification (核查): bodies and their verifiers, assignment, the verification
workflow (report, findings, resubmission, conclusion) and the verifier's scope."""
