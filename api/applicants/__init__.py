"""Applicant units' registrations (报名) and submissions (成果申报)."""
