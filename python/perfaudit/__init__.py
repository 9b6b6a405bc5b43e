"""perfaudit: a static performance auditor for Python services.

The tool is a compiled binary installed as the ``perfaudit`` command; this package only lets
``python -m perfaudit`` find and run it.
"""
