#include "CPhoneNumbers.h"

#include <cstring>
#include <mutex>
#include <string>

#include <cstdlib>
#include <dlfcn.h>
#include <limits.h>
#include <sstream>

#include <phonenumbers/logger.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

namespace i18n {
namespace phonenumbers {
int metadata_size();
const void *metadata_get();
}  // namespace phonenumbers
}  // namespace i18n

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

PhoneNumberUtil *util() {
    cpn_initialize();
    return PhoneNumberUtil::GetInstance();
}

uint64_t e164_digits(const std::string &formatted) {
    uint64_t value = 0;
    int digits = 0;
    for (char c : formatted) {
        if (c >= '0' && c <= '9') {
            if (++digits > 19) return 0;
            value = value * 10 + static_cast<uint64_t>(c - '0');
        }
    }
    return value;
}

uint64_t e164_digits(const PhoneNumberUtil *u, const PhoneNumber &number) {
    std::string formatted;
    u->Format(number, PhoneNumberUtil::E164, &formatted);
    return e164_digits(formatted);
}

bool number_from_e164(const PhoneNumberUtil *u, uint64_t e164, PhoneNumber *number) {
    if (e164 == 0) return false;
    std::string text = "+" + std::to_string(e164);
    return u->Parse(text, "ZZ", number) == PhoneNumberUtil::NO_PARSING_ERROR;
}

}  // namespace

extern "C" void cpn_initialize(void) {
    static std::once_flag once;
    std::call_once(once, [] {
        // PhoneNumberUtil takes ownership of the logger.
        PhoneNumberUtil::GetInstance()->SetLogger(new i18n::phonenumbers::NullLogger());
    });
}

extern "C" int32_t cpn_analyze(const char *text, size_t length, const char *default_region, cpn_analysis *out) {
    std::memset(out, 0, sizeof(*out));
    std::strcpy(out->region, "ZZ");
    out->type = 11;
    if (text == nullptr || std::memchr(text, 0, length) != nullptr) {
        out->parse_error = 100;
        return -1;
    }
    try {
        PhoneNumberUtil *u = util();
        PhoneNumber number;
        std::string input(text, length);
        std::string region = default_region ? default_region : "ZZ";
        PhoneNumberUtil::ErrorType error = u->Parse(input, region, &number);
        if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
            out->parse_error = static_cast<int32_t>(error);
            return 0;
        }
        out->country_code = number.country_code();
        std::string formatted;
        u->Format(number, PhoneNumberUtil::E164, &formatted);
        out->e164 = e164_digits(formatted);
        if (formatted.size() < sizeof(out->e164_text)) {
            std::memcpy(out->e164_text, formatted.c_str(), formatted.size() + 1);
        }
        out->possibility = static_cast<int32_t>(u->IsPossibleNumberWithReason(number));
        out->valid = u->IsValidNumber(number) ? 1 : 0;
        out->type = static_cast<int32_t>(u->GetNumberType(number));
        std::string found;
        u->GetRegionCodeForNumber(number, &found);
        if (!found.empty() && found.size() < sizeof(out->region)) {
            std::strcpy(out->region, found.c_str());
        }
        return 0;
    } catch (...) {
        out->parse_error = 100;
        return -1;
    }
}

extern "C" int32_t cpn_format(uint64_t e164, int32_t format, char *buffer, size_t capacity) {
    try {
        PhoneNumberUtil *u = util();
        PhoneNumber number;
        if (!number_from_e164(u, e164, &number) || format < 0 || format > 3) return -1;
        std::string formatted;
        u->Format(number, static_cast<PhoneNumberUtil::PhoneNumberFormat>(format), &formatted);
        if (formatted.size() + 1 > capacity) return -1;
        std::memcpy(buffer, formatted.c_str(), formatted.size() + 1);
        return static_cast<int32_t>(formatted.size());
    } catch (...) {
        return -1;
    }
}

extern "C" int32_t cpn_country_code_for_region(const char *region) {
    try {
        if (region == nullptr) return 0;
        return util()->GetCountryCodeForRegion(region);
    } catch (...) {
        return 0;
    }
}

namespace {

void write_lengths(std::ostringstream &out, const google::protobuf::RepeatedField<int32_t> &lengths) {
    bool first = true;
    for (int32_t length : lengths) {
        if (!first) out << ',';
        out << length;
        first = false;
    }
}

void write_description(std::ostringstream &out, bool present, const i18n::phonenumbers::PhoneNumberDesc &desc) {
    out << '\t' << (present ? desc.national_number_pattern() : std::string()) << '\t';
    if (present) write_lengths(out, desc.possible_length());
    out << '\t';
    if (present) write_lengths(out, desc.possible_length_local_only());
    out << '\t' << (present ? desc.example_number() : std::string());
}

}  // namespace

extern "C" char *cpn_plan_metadata(void) {
    try {
        i18n::phonenumbers::PhoneMetadataCollection collection;
        if (!collection.ParseFromArray(i18n::phonenumbers::metadata_get(), i18n::phonenumbers::metadata_size())) {
            return nullptr;
        }
        std::ostringstream out;
        for (const auto &m : collection.metadata()) {
            out << m.id() << '\t' << m.country_code() << '\t' << (m.main_country_for_code() ? 1 : 0) << '\t'
                << (m.has_leading_digits() ? 1 : 0) << '\t' << m.leading_digits() << '\t' << m.international_prefix()
                << '\t' << m.preferred_international_prefix() << '\t' << m.national_prefix() << '\t'
                << m.national_prefix_for_parsing() << '\t' << m.national_prefix_transform_rule() << '\t'
                << (m.same_mobile_and_fixed_line_pattern() ? 1 : 0);
            write_description(out, m.has_general_desc(), m.general_desc());
            write_description(out, m.has_fixed_line(), m.fixed_line());
            write_description(out, m.has_mobile(), m.mobile());
            write_description(out, m.has_toll_free(), m.toll_free());
            write_description(out, m.has_premium_rate(), m.premium_rate());
            write_description(out, m.has_shared_cost(), m.shared_cost());
            write_description(out, m.has_personal_number(), m.personal_number());
            write_description(out, m.has_voip(), m.voip());
            write_description(out, m.has_pager(), m.pager());
            write_description(out, m.has_uan(), m.uan());
            write_description(out, m.has_voicemail(), m.voicemail());
            out << '\n';
        }
        std::string text = out.str();
        char *result = static_cast<char *>(std::malloc(text.size() + 1));
        if (result == nullptr) return nullptr;
        std::memcpy(result, text.c_str(), text.size() + 1);
        return result;
    } catch (...) {
        return nullptr;
    }
}

extern "C" uint64_t cpn_example_number(const char *region, int32_t type) {
    try {
        PhoneNumberUtil *u = util();
        PhoneNumber number;
        if (region == nullptr || type < 0 || type > 11) return 0;
        if (!u->GetExampleNumberForType(region, static_cast<PhoneNumberUtil::PhoneNumberType>(type), &number)) return 0;
        return e164_digits(u, number);
    } catch (...) {
        return 0;
    }
}

extern "C" char *cpn_library_description(void) {
    try {
        std::ostringstream out;
        Dl_info info;
        char resolved[PATH_MAX];
        const char *path = "?";
        if (dladdr(reinterpret_cast<void *>(&i18n::phonenumbers::metadata_get), &info) != 0 && info.dli_fname != nullptr) {
            path = realpath(info.dli_fname, resolved) != nullptr ? resolved : info.dli_fname;
        }
        const auto *bytes = static_cast<const unsigned char *>(i18n::phonenumbers::metadata_get());
        const int size = i18n::phonenumbers::metadata_size();
        uint64_t hash = 14695981039346656037ULL;
        for (int i = 0; i < size; i++) {
            hash ^= bytes[i];
            hash *= 1099511628211ULL;
        }
        i18n::phonenumbers::PhoneMetadataCollection collection;
        const int entries = collection.ParseFromArray(bytes, size) ? collection.metadata_size() : 0;
        char fingerprint[17];
        snprintf(fingerprint, sizeof fingerprint, "%016llx", static_cast<unsigned long long>(hash));
        out << path << '\t' << entries << '\t' << fingerprint;
        return strdup(out.str().c_str());
    } catch (...) {
        return nullptr;
    }
}
