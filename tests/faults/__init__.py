"""Fault injection against the production server (`pytest -m faults tests/faults`)."""
