// corio::http from an installed corio: a query string and a status line.
#include <corio/http.hpp>
#include <cstdio>
#include <string>

int main() {
    auto query = corio::http::parse_query("name=corio&lang=c%2B%2B");
    if (!query) {
        return 1;
    }
    const std::string lang(query->get("lang", "?"));
    const std::string reason(corio::http::reason_phrase(404));
    std::printf("http: lang=%s, 404 %s\n", lang.c_str(), reason.c_str());
    return lang == "c++" && reason == "Not Found" ? 0 : 1;
}
