"""Date and time entry formats that cannot be misread, in every language (ARCHITECTURE.md "Time").

Django's locale formats accept month-first dates in English ("01/12/2026" is read as 12 January)
and day-first ones in Greek, so the same typed text means different days in different languages.
``FORMAT_MODULE_PATH`` points here instead: each language's ``formats`` module accepts ISO 8601
only (``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM``), and anything else is refused with a message that shows
the pattern. Display formats stay the language's own.
"""
