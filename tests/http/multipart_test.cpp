// tests/http/multipart_test.cpp - MultipartParser at every split point,
// parse_form for both encodings, FormData round trips.
#include "corio/http/multipart.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corio/run.hpp"
#include "http/multipart_feed.hpp"
#include "support/split_feed.hpp"

namespace {

using corio::http::FormData;
using corio::http::MultipartError;
using corio::http::parse_form;
using corio::testing::feed_all_ways;
using Lines = std::vector<std::string>;

Lines feed(std::string_view body, std::string_view boundary = "XyZ",
           corio::http::MultipartLimits limits = {}) {
    return feed_all_ways(body, [&](const auto& pieces, auto place) {
        return corio_test::multipart_transcript(boundary, pieces, place, limits);
    });
}

TEST(Multipart, PartsWithFieldsAndFiles) {
    std::string body =
        "preamble to ignore\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"title\"\r\n"
        "\r\n"
        "Hello\r\nworld\r\n"
        "--XyZ  \t\r\n"
        "Content-Disposition: form-data; name=upload; filename=\"a \\\"b\\\".txt\"\r\n"
        "Content-Type: text/csv\r\n"
        "\r\n"
        "x,y\r\n--XyY not a delimiter\r\n"
        "--XyZ\r\n"
        "\r\n"
        "\r\n"
        "--XyZ--\r\n"
        "epilogue --XyZ\r\n";
    EXPECT_EQ(feed(body), (Lines{"part name=title file=- type=text/plain data=Hello\r\nworld",
                                 "part name=upload file=a \"b\".txt type=text/csv "
                                 "data=x,y\r\n--XyY not a delimiter",
                                 "part name= file=- type=text/plain data=", "done"}));
}

TEST(Multipart, BodyMayOpenWithTheDelimiterAndFilenameStarWins) {
    std::string body =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=f; filename=plain.txt; "
        "filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n"
        "\r\n"
        "summer\r\n"
        "--XyZ--";
    EXPECT_EQ(feed(body), (Lines{"part name=f file=été.txt type=text/plain data=summer", "done"}));
}

TEST(Multipart, MalformedBodiesAreErrorsWithTheReason) {
    EXPECT_EQ(feed("no delimiter at all"), (Lines{"error: no multipart delimiter in the body"}));
    EXPECT_EQ(feed("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\ncut short"),
              (Lines{"error: the body ends before the closing delimiter"}));
    EXPECT_EQ(feed("--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--"),
              (Lines{"error: part header line without a field name: 'no colon here'"}));
    EXPECT_EQ(feed("--XyZ\r\nA: 1\r\n folded\r\n\r\nx\r\n--XyZ--"),
              (Lines{"error: folded or empty part header line"}));
    EXPECT_EQ(feed("--XyZjunk\r\n\r\nx\r\n--XyZ--"),
              (Lines{"error: a delimiter is not followed by CRLF or \"--\""}));
    EXPECT_EQ(feed("--XyZ\r\nContent-Disposition: form-data; name=\"open\r\n\r\nx\r\n--XyZ--"),
              (Lines{"error: unclosed quoted string in 'form-data; name=\"open'"}));
    std::string big = "--XyZ\r\nX-Big: " + std::string(200, 'a') + "\r\n\r\nx\r\n--XyZ--";
    EXPECT_EQ(feed(big, "XyZ", {.max_header_size = 100}),
              (Lines{"error: part header block beyond 100 bytes"}));
    EXPECT_EQ(feed("--XyZ\r\n\r\na\r\n--XyZ\r\n\r\nb\r\n--XyZ\r\n\r\nc\r\n--XyZ--", "XyZ",
                   {.max_parts = 2}),
              (Lines{"part name= file=- type=text/plain data=a",
                     "part name= file=- type=text/plain data=b", "error: more than 2 parts"}));
}

TEST(Multipart, BoundaryFromTheContentType) {
    using corio::http::multipart_boundary;
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
    EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
    EXPECT_EQ(multipart_boundary("multipart/mixed; charset=x; boundary=q1"), "q1");
    EXPECT_EQ(multipart_boundary("text/plain; boundary=abc"), std::nullopt);
    EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary="), std::nullopt);
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'b')),
              std::nullopt);
    EXPECT_THROW(corio::http::MultipartParser(""), std::invalid_argument);
}

TEST(Form, UrlencodedAndMultipartBodies) {
    auto f = parse_form("application/x-www-form-urlencoded", "a=1&b=x+y&a=%C3%A9");
    EXPECT_EQ(f.fields.get_all("a"), (std::vector<std::string_view>{"1", "é"}));
    EXPECT_EQ(f.fields.get("b"), "x y");
    EXPECT_TRUE(f.files.empty());
    EXPECT_THROW(parse_form("application/x-www-form-urlencoded", "a=%zz"), MultipartError);

    auto m = parse_form("multipart/form-data; boundary=B",
                        "--B\r\nContent-Disposition: form-data; name=k\r\n\r\nv\r\n"
                        "--B\r\nContent-Disposition: form-data; name=doc; filename=d.bin\r\n"
                        "Content-Type: application/octet-stream\r\n\r\n\x01\x02\r\n--B--\r\n");
    EXPECT_EQ(m.fields.get("k"), "v");
    ASSERT_NE(m.file("doc"), nullptr);
    EXPECT_EQ(m.file("doc")->filename, "d.bin");
    EXPECT_EQ(m.file("doc")->data, "\x01\x02");
    EXPECT_EQ(m.file("nope"), nullptr);
    EXPECT_THROW(parse_form("multipart/form-data", "x"), MultipartError);
    EXPECT_TRUE(parse_form("application/json", "{}").fields.empty());
    try {
        parse_form("multipart/form-data; boundary=B", "--B\r\n\r\nno end");
        FAIL();
    } catch (const MultipartError& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_EQ(e.text(),
                  "400: Bad Request: invalid form body: the body ends before the "
                  "closing delimiter");
    }
}

TEST(FormData, EncodesWhatParseFormReadsBack) {
    FormData plain;
    plain.add_field("q", "a b&c=d").add_field("lang", "é");
    EXPECT_EQ(plain.content_type(), "application/x-www-form-urlencoded");
    EXPECT_EQ(plain.body(), "q=a+b%26c%3Dd&lang=%C3%A9");
    auto back = parse_form(plain.content_type(), plain.body());
    EXPECT_EQ(back.fields.get("q"), "a b&c=d");
    EXPECT_EQ(back.fields.get("lang"), "é");

    FormData files;
    files.add_field("note", "line1\r\nline2")
        .add_file("up", "we\"ird\r\n.txt", std::string("\0bin\r\n--x", 9), "image/png");
    EXPECT_EQ(files.content_type().rfind("multipart/form-data; boundary=corio-", 0), 0u);
    EXPECT_EQ(files.content_type(), files.content_type());  // one boundary
    auto m = parse_form(files.content_type(), files.body());
    EXPECT_EQ(m.fields.get("note"), "line1\r\nline2");
    ASSERT_NE(m.file("up"), nullptr);
    EXPECT_EQ(m.file("up")->filename, "we%22ird%0D%0A.txt");  // as browsers escape them
    EXPECT_EQ(m.file("up")->content_type, "image/png");
    EXPECT_EQ(m.file("up")->data, std::string("\0bin\r\n--x", 9));
    EXPECT_THROW(files.add_file("x", "y", "z", "a\r\nInjected: 1"), std::invalid_argument);
}

}  // namespace
