// fuzz/http_multipart_fuzz.cpp - libFuzzer target for multipart bodies.
// 1. The input, as a multipart body, parsed whole, cut at random points and
//    byte by byte must give the same transcript (parts, then done or the
//    error).
// 2. Fields and files made from the input, encoded by FormData and parsed
//    back by parse_form, must come back unchanged.
//
// Input: byte 0 picks the boundary ("b" or "XyZ") and tiny limits (bit 1:
// headers 32 bytes, 2 fields, 3 parts); the rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "corio/http/multipart.hpp"
#include "fuzz_support.hpp"
#include "http/multipart_feed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view boundary = (data[0] & 1) ? "b" : "XyZ";
    corio::http::MultipartLimits limits;
    if (data[0] & 2) {
        limits = {.max_header_size = 32, .max_headers = 2, .max_parts = 3};
    }
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    corio::fuzz::Placer place;
    const auto whole = corio_test::multipart_transcript(boundary, {input}, place, limits);
    corio::fuzz::Rng rng(corio::fuzz::hash(input));
    for (int round = 0; round < 4; ++round) {
        auto pieces = corio::fuzz::random_pieces(input, rng, 8);
        corio::fuzz::check_same(whole,
                                corio_test::multipart_transcript(boundary, pieces, place, limits),
                                "multipart split");
    }
    if (input.size() <= 512) {
        std::vector<std::string_view> bytes;
        for (std::size_t i = 0; i < input.size(); ++i) {
            bytes.push_back(input.substr(i, 1));
        }
        corio::fuzz::check_same(whole,
                                corio_test::multipart_transcript(boundary, bytes, place, limits),
                                "multipart byte by byte");
    }

    // Round trip: the input cut into name/value pairs at '&' and '='.
    corio::http::FormData form;
    std::vector<std::pair<std::string, std::string>> sent;
    std::string_view rest = input;
    bool files = data[0] & 4;
    while (!rest.empty() && sent.size() < 8) {
        std::size_t amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        std::size_t eq = pair.find('=');
        std::string name(pair.substr(0, eq));
        std::string value(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (files && sent.size() % 2 == 1) {
            form.add_file(name, "f.bin", value);
        } else {
            form.add_field(name, value);
        }
        sent.emplace_back(std::move(name), std::move(value));
    }
    corio::http::Form back;
    try {
        back = corio::http::parse_form(form.content_type(), form.body());
    } catch (const corio::http::MultipartError& e) {
        std::fprintf(stderr, "FormData's own body rejected: %s\n", e.reason().c_str());
        std::abort();
    }
    std::size_t fi = 0;
    std::size_t ff = 0;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        bool is_file = files && i % 2 == 1;
        bool same = is_file ? (fi < back.files.size() && back.files[fi].data == sent[i].second)
                            : (ff < back.fields.size() &&
                               (back.fields.begin() + static_cast<std::ptrdiff_t>(ff))->value ==
                                   sent[i].second);
        // Names with CR, LF or '"' are escaped as browsers do (%0D, %0A, %22).
        if (!same) {
            std::fprintf(stderr, "FormData round trip lost field %zu\n", i);
            std::abort();
        }
        (is_file ? fi : ff)++;
    }
    return 0;
}
