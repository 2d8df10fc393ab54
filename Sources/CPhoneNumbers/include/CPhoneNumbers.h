// A plain C surface over Google libphonenumber (Debian's libphonenumber-dev).
//
// Swift calls these few functions instead of the C++ API, so no C++ interoperability mode is
// needed. Every function catches every C++ exception and reports it as an error value.
#ifndef CPHONENUMBERS_H
#define CPHONENUMBERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What libphonenumber says about one text.
typedef struct {
    /// 0 when the text parsed; otherwise libphonenumber's ErrorType + 1
    /// (1 invalid country code, 2 not a number, 3 too short after IDD, 4 too short NSN, 5 too long NSN),
    /// or 100 for an input the shim refuses (embedded NUL, exception inside the library).
    int32_t parse_error;
    /// The number's country calling code (0 when the text did not parse).
    int32_t country_code;
    /// The E.164 digits (country code and national number, no `+`) as one integer; 0 when not parsed
    /// or longer than 19 digits (a three-digit country code with 17 national digits has 20).
    uint64_t e164;
    /// The E.164 form as libphonenumber formats it (`+` and up to 20 digits), empty when not parsed:
    /// what differential tests compare with, free of any packing.
    char e164_text[24];
    /// IsPossibleNumberWithReason: 0 possible, 1 possible local only, 2 invalid country code,
    /// 3 too short, 4 invalid length, 5 too long.
    int32_t possibility;
    /// IsValidNumber.
    int32_t valid;
    /// GetNumberType: 0 fixed line, 1 mobile, 2 fixed line or mobile, 3 toll free, 4 premium rate,
    /// 5 shared cost, 6 VoIP, 7 personal number, 8 pager, 9 UAN, 10 voicemail, 11 unknown.
    int32_t type;
    /// GetRegionCodeForNumber: two letters, "001" for non-geographic entities, "ZZ" when unknown.
    char region[4];
} cpn_analysis;

/// Installs a logger that drops libphonenumber's messages (the default one writes to stdout).
/// Idempotent and thread-safe.
void cpn_initialize(void);

/// Parses `length` bytes of UTF-8 `text` with `default_region` ("ZZ" or NULL: the text must start
/// with `+`), and fills `out`. Returns 0, or -1 when the shim refused the input (see `parse_error`).
int32_t cpn_analyze(const char *text, size_t length, const char *default_region, cpn_analysis *out);

/// Formats the number whose E.164 digits are `e164` (0 E.164, 1 international, 2 national,
/// 3 RFC 3966) into `buffer` (NUL-terminated). Returns the length written, or -1 on failure.
int32_t cpn_format(uint64_t e164, int32_t format, char *buffer, size_t capacity);

/// The country calling code of a region ("CZ" → 420), 0 when unknown.
int32_t cpn_country_code_for_region(const char *region);

/// Every region's numbering rules from libphonenumber's compiled metadata (a `PhoneMetadataCollection`),
/// one line per metadata entry in the collection's order, fields separated by tabs:
/// `ID COUNTRY_CODE MAIN_COUNTRY_FOR_CODE HAS_LEADING_DIGITS LEADING_DIGITS INTERNATIONAL_PREFIX`
/// `PREFERRED_INTERNATIONAL_PREFIX NATIONAL_PREFIX NATIONAL_PREFIX_FOR_PARSING TRANSFORM_RULE`
/// `SAME_MOBILE_AND_FIXED_LINE_PATTERN`, then for each of general, fixed line, mobile, toll free,
/// premium rate, shared cost, personal number, VoIP, pager, UAN and voicemail four fields:
/// `NATIONAL_NUMBER_PATTERN POSSIBLE_LENGTHS LOCAL_ONLY_LENGTHS EXAMPLE_NUMBER` (lengths
/// comma-separated; all four empty when the description is absent). Patterns are the library's regular expressions.
/// Returns a malloc'd NUL-terminated text the caller frees, or NULL.
char *cpn_plan_metadata(void);

/// The loaded libphonenumber and its metadata, tab-separated: the library file's real path (its
/// name carries the version, e.g. `libphonenumber.so.8.12`), the number of metadata entries, and a
/// 64-bit FNV-1a fingerprint of the compiled metadata in hex. Malloc'd; the caller frees it; NULL
/// on failure.
char *cpn_library_description(void);

/// libphonenumber's example number for a region and type (see `cpn_analysis.type`) as E.164 digits,
/// 0 when it has none.
uint64_t cpn_example_number(const char *region, int32_t type);

#ifdef __cplusplus
}
#endif

#endif
