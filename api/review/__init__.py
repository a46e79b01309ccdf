"""Review: plan, formal review, experts, rounds, grading, notice, certificates."""
