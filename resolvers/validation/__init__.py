"""Validation rules (config as code) and the one validator every writer uses."""
