"""HTTP through the test client."""
