"""The one set of entry formats every language uses: ISO 8601, year first (see the package docstring)."""

DATE_INPUT_FORMATS = ["%Y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
# What a person is told to type (and what the refusal message repeats).
DATE_PATTERN = "YYYY-MM-DD"
DATETIME_PATTERN = "YYYY-MM-DD HH:MM"
