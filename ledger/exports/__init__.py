"""Exports: CSV files, plain-text journals (hledger, beancount) and PDF statements."""
