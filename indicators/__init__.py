"""What is measured and how: catalog, units, derivations, reference tables.

This package imports nothing from ``app``: it is the domain vocabulary that the
service, the rule files and the tests share.
"""
