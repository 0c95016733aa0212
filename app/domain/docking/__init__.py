"""Docking: proposals, their comparison, message threads, docking progress."""
