"""Texts for people, in the reader's language: error messages, inbox messages, alarm texts.

Codes and stored keys never change; the words do. The catalogs are plain modules
(`zh_cn.py`, `en.py`), one dictionary per kind of text, so a new error code is one line in
each and a missing one fails `tests/services/test_i18n.py`. See docs/api.md#language-and-time.
"""
