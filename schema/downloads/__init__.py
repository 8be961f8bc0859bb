"""Signed download links for browsers."""
