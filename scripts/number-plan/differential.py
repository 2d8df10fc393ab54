#!/usr/bin/env python3
"""The generated-numbers differential against PyPI's phonenumbers (run with the phonenumbers of the
plan's own version installed): numbers generated from the metadata - every region and non-geographic
entity, every number type's example, each digit changed, one digit more and one less, in
international and national form and the forms PBXs send (00 and the country code, the national
prefix) - are judged by `caller-lookup validate --batch` and by phonenumbers' parse, is_valid_number,
number_type, region_code_for_number and format_number (national and international). Prints the count and the first disagreements; exits 1 on
any.

Usage: differential.py BINARY [PLAN_FILE]
"""
import json
import subprocess
import sys

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonemetadata import PhoneMetadata

DESCRIPTIONS = ["fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip", "pager",
                "uan", "voicemail"]
TYPES = {PhoneNumberType.FIXED_LINE: "FIXED_LINE", PhoneNumberType.MOBILE: "MOBILE",
         PhoneNumberType.FIXED_LINE_OR_MOBILE: "FIXED_LINE_OR_MOBILE", PhoneNumberType.TOLL_FREE: "TOLL_FREE",
         PhoneNumberType.PREMIUM_RATE: "PREMIUM_RATE", PhoneNumberType.SHARED_COST: "SHARED_COST",
         PhoneNumberType.VOIP: "VOIP", PhoneNumberType.PERSONAL_NUMBER: "PERSONAL_NUMBER", PhoneNumberType.PAGER: "PAGER",
         PhoneNumberType.UAN: "UAN", PhoneNumberType.VOICEMAIL: "VOICEMAIL", PhoneNumberType.UNKNOWN: "UNKNOWN"}


def entries():
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
            metadata = (PhoneMetadata.metadata_for_nongeo_region(code) if region == "001"
                        else PhoneMetadata.metadata_for_region(region))
            if metadata is not None:
                yield region, code, metadata


def corpus():
    seen = set()

    def add(text, region):
        if (text, region) not in seen:
            seen.add((text, region))
            cases.append((text, region))

    cases = []
    for region, code, metadata in entries():
        for name in DESCRIPTIONS:
            desc = getattr(metadata, name)
            if desc is None or not desc.example_number:
                continue
            example = desc.example_number
            variants = {example, example + "0", example + "9", example[:-1]}
            for i, digit in enumerate(example):
                for other in ("0", "5", "9"):
                    if other != digit:
                        variants.add(example[:i] + other + example[i + 1:])
            for national in sorted(variants):
                add("+%d %s" % (code, national), "")
                if region != "001":
                    add(national, region)
                    if metadata.national_prefix:
                        add(metadata.national_prefix + national, region)
                    add("00%d%s" % (code, national), region)
                    add("+%d-%s" % (code, national), region)
    return cases


def verdict(text, region):
    try:
        number = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        return (False, None, None, None, None, None)
    if not phonenumbers.is_valid_number(number):
        return (False, None, None, None, None, None)
    return (True, phonenumbers.format_number(number, PhoneNumberFormat.E164), TYPES[phonenumbers.number_type(number)],
            phonenumbers.region_code_for_number(number), phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
            phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))


def main():
    binary = sys.argv[1]
    command = [binary, "validate", "--batch"] + (["--number-plan", sys.argv[2]] if len(sys.argv) > 2 else [])
    cases = corpus()
    stdin = "".join("%s\t%s\n" % case for case in cases)
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=True)
    answers = result.stdout.splitlines()
    if len(answers) != len(cases):
        raise SystemExit("differential: %d answers for %d numbers" % (len(answers), len(cases)))
    disagreements = []
    for (text, region), line in zip(cases, answers):
        ours = json.loads(line)
        mine = ((ours["valid"], ours["e164"], ours["type"], ours["region"], ours.get("national"), ours.get("international"))
                if ours["valid"] else (False, None, None, None, None, None))
        theirs = verdict(text, region)
        if mine != theirs:
            disagreements.append((text, region, mine, theirs))
    refused = sum(1 for _, _, mine, theirs in disagreements if theirs[0] and not mine[0])
    accepted = sum(1 for _, _, mine, theirs in disagreements if mine[0] and not theirs[0])
    read = sum(1 for _, _, mine, theirs in disagreements if mine[0] and theirs[0] and mine[1:4] != theirs[1:4])
    written = len(disagreements) - refused - accepted - read
    print("differential: %d numbers against phonenumbers %s, %d disagreements (%d valid refused, %d invalid accepted, "
          "%d read otherwise, %d written otherwise)"
          % (len(cases), phonenumbers.__version__, len(disagreements), refused, accepted, read, written), file=sys.stderr)
    for text, region, mine, theirs in disagreements[:25]:
        print("  %r in %s: caller-lookup %s, phonenumbers %s" % (text, region or "-", mine, theirs), file=sys.stderr)
    sys.exit(1 if disagreements else 0)


main()
