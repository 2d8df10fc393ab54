#!/usr/bin/env python3
"""Writes libphonenumber's metadata, as PyPI's `phonenumbers` carries it, in caller-lookup's number
plan format (Sources/PhoneNumbers/NumberPlanFile.swift reads it):

    # comment lines (the licence, where the data came from)
    version<TAB>9.0.43
    fingerprint<TAB>fnv1a64:<16 hex digits of FNV-1a 64 over every byte after the fingerprint line>
    regions<TAB><how many region lines follow>
    <one line per metadata entry: id, country code, main-country flag, has-leading-digits flag,
     leading digits, international prefix, preferred international prefix, national prefix,
     national prefix for parsing, its transform rule, same-mobile-and-fixed-line flag, then for
     each of the eleven descriptions (general, fixed line, mobile, toll free, premium rate, shared
     cost, personal number, VoIP, pager, UAN, voicemail): pattern, possible lengths, local-only
     lengths, example number; then how many national number formats and, for each, its pattern,
     format, last leading-digits pattern and national prefix formatting rule; then how many
     international formats and, for each, its pattern, format and last leading-digits pattern;
     tab-separated>

Only the metadata's data is read (the package's own code is not copied). Usage:
    convert.py OUTPUT   (with the wanted phonenumbers installed in this Python)
"""
import re
import sys

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

DESCRIPTIONS = ["general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
                "personal_number", "voip", "pager", "uan", "voicemail"]


def text(value):
    value = "" if value is None else str(value)
    if any(c in value for c in "\t\n\r"):
        raise SystemExit("convert.py: a metadata value holds a tab or a line break: %r" % value)
    return value


def lengths(values):
    return ",".join(str(v) for v in (values or ()))


def line(metadata):
    fields = [metadata.id, str(metadata.country_code), "1" if metadata.main_country_for_code else "0",
              "1" if metadata.leading_digits is not None else "0", text(metadata.leading_digits),
              text(metadata.international_prefix), text(metadata.preferred_international_prefix),
              text(metadata.national_prefix), text(metadata.national_prefix_for_parsing),
              # Python writes a group as \\1, libphonenumber's own metadata (and this format) as $1.
              groups(metadata.national_prefix_transform_rule),
              "1" if metadata.same_mobile_and_fixed_line_pattern else "0"]
    for name in DESCRIPTIONS:
        desc = getattr(metadata, name)
        if desc is None:
            fields += ["", "", "", ""]
        else:
            fields += [text(desc.national_number_pattern), lengths(desc.possible_length),
                       lengths(desc.possible_length_local_only), text(desc.example_number)]
    # How numbers are written: the national formats (pattern, format, the last leading-digits
    # pattern, the national prefix formatting rule), then the international ones (without the rule).
    national = metadata.number_format or []
    fields.append(str(len(national)))
    for number_format in national:
        fields += [text(number_format.pattern), groups(number_format.format), last(number_format.leading_digits_pattern),
                   groups(number_format.national_prefix_formatting_rule)]
    international = metadata.intl_number_format or []
    fields.append(str(len(international)))
    for number_format in international:
        fields += [text(number_format.pattern), groups(number_format.format), last(number_format.leading_digits_pattern)]
    return "\t".join(fields)


def groups(value):
    """A replacement as libphonenumber's own metadata writes it: $1, not Python's \\1."""
    return re.sub(r"\\(\d)", r"$\1", text(value))


def last(patterns):
    return text(patterns[-1]) if patterns else ""


def main():
    lines = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
            if region == "001":
                metadata = PhoneMetadata.metadata_for_nongeo_region(code)
            else:
                metadata = PhoneMetadata.metadata_for_region(region)
            if metadata is not None:
                lines.append(line(metadata))
    body = ("regions\t%d\n" % len(lines) + "\n".join(lines) + "\n").encode("utf-8")
    hash = 0xcbf29ce484222325
    for byte in body:
        hash = ((hash ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    version = phonenumbers.__version__
    head = ("# caller-lookup number plan: the numbering metadata of Google's libphonenumber %s\n"
            "# (https://github.com/google/libphonenumber), as PyPI's phonenumbers %s carries it.\n"
            "# Copyright (C) 2009 The Libphonenumber Authors. Licensed under the Apache License, Version 2.0\n"
            "# (http://www.apache.org/licenses/LICENSE-2.0). Generated by scripts/update-number-plan.sh.\n"
            "version\t%s\nfingerprint\tfnv1a64:%016x\n" % (version, version, version, hash)).encode("utf-8")
    with open(sys.argv[1], "wb") as out:
        out.write(head + body)
    print("convert.py: %s regions and entities of libphonenumber %s, fingerprint fnv1a64:%016x" % (len(lines), version, hash),
          file=sys.stderr)


main()
