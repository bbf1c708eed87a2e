"""Standardisers: pure, vectorised functions from recorded values to matching forms.

Every function takes pandas Series (values ``str`` or ``None``/``NaN``; blank counts as
missing) and returns a Series or DataFrame with the same index. Bad values become null plus
a validity flag; nothing is raised for them and nothing is logged (they are personal data).
"""

from ingest.standardise.address import ADDRESS_ABBREVIATIONS, standardise_address
from ingest.standardise.dates import dob_from_age, parse_dates
from ingest.standardise.identifiers import (
    nhs_check_digit,
    nhs_number_check,
    standardise_nhs_number,
    standardise_upn,
    standardise_uprn,
    upn_check_letter,
)
from ingest.standardise.names import (
    split_full_name,
    split_names_list,
    standardise_name,
    tidy_text,
)
from ingest.standardise.postcodes import standardise_postcode
from ingest.standardise.sex import DEFAULT_SEX_CODES, standardise_sex

__all__ = [
    "ADDRESS_ABBREVIATIONS",
    "DEFAULT_SEX_CODES",
    "dob_from_age",
    "nhs_check_digit",
    "nhs_number_check",
    "parse_dates",
    "split_full_name",
    "split_names_list",
    "standardise_address",
    "standardise_name",
    "standardise_nhs_number",
    "standardise_postcode",
    "standardise_sex",
    "standardise_upn",
    "standardise_uprn",
    "tidy_text",
    "upn_check_letter",
]
