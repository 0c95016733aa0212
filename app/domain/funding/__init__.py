"""Contracts, their cross-checks, the funding rules and the execution of funded projects."""
