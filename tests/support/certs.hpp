// tests/support/certs.hpp - a throwaway certificate authority for TLS tests,
// made in-process with OpenSSL (no files checked in, no openssl CLI).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace corio_test {

class TestCa {
public:
    explicit TestCa(const std::string& name = "corio test CA")
        : key_(new_key()),
          cert_(make_cert(name, key_, nullptr, key_, true, {}, -3600, 3600L * 24)) {}
    TestCa(const TestCa&) = delete;
    TestCa& operator=(const TestCa&) = delete;
    ~TestCa() {
        X509_free(cert_);
        EVP_PKEY_free(key_);
        for (const auto& f : files_) {
            ::unlink(f.c_str());
        }
    }

    /// The CA certificate as PEM (what clients trust).
    std::string ca_pem() const { return pem_cert(cert_); }

    /// The CA certificate in a temporary PEM file (for peers in other
    /// processes), removed with this CA.
    std::string ca_file() { return temp_file("ca", ca_pem()); }

    /// Writes a certificate for `names` (DNS SANs; "127.0.0.1" becomes an IP
    /// SAN) signed by this CA, and its key, to temporary files; returns
    /// {certfile, keyfile}.
    std::pair<std::string, std::string> issue(const std::string& common_name,
                                              const std::vector<std::string>& names) {
        return issue_valid(common_name, names, -3600, 3600L * 24);
    }

    /// As issue(), valid from `not_before` to `not_after` seconds from now
    /// (both negative: an expired certificate).
    std::pair<std::string, std::string> issue_valid(const std::string& common_name,
                                                    const std::vector<std::string>& names,
                                                    long not_before, long not_after) {
        EVP_PKEY* key = new_key();
        X509* cert = make_cert(common_name, key, cert_, key_, false, names, not_before, not_after);
        std::string certfile = temp_file("cert", pem_cert(cert));
        std::string keyfile = temp_file("key", pem_key(key));
        X509_free(cert);
        EVP_PKEY_free(key);
        return {certfile, keyfile};
    }

private:
    static EVP_PKEY* new_key() {
        EVP_PKEY* k = EVP_EC_gen("P-256");
        if (k == nullptr) {
            throw std::runtime_error("EVP_EC_gen failed");
        }
        return k;
    }

    static void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (ext == nullptr) {
            throw std::runtime_error("X509V3_EXT_conf_nid failed for " + value);
        }
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }

    static X509* make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                           bool ca, const std::vector<std::string>& names, long not_before,
                           long not_after) {
        static long serial = 1;
        X509* cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
        X509_gmtime_adj(X509_getm_notBefore(cert), not_before);
        X509_gmtime_adj(X509_getm_notAfter(cert), not_after);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
        X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
        X509* iss = issuer ? issuer : cert;
        if (ca) {
            add_ext(cert, iss, NID_basic_constraints, "critical,CA:TRUE");
            add_ext(cert, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
            add_ext(cert, iss, NID_basic_constraints, "CA:FALSE");
            std::string san;
            for (const auto& n : names) {
                san += san.empty() ? "" : ",";
                san +=
                    (n.find_first_not_of("0123456789.") == std::string::npos ? "IP:" : "DNS:") + n;
            }
            if (!san.empty()) {
                add_ext(cert, iss, NID_subject_alt_name, san);
            }
        }
        if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) {
            throw std::runtime_error("X509_sign failed");
        }
        return cert;
    }

    static std::string pem_cert(X509* cert) {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(bio, cert);
        return drain(bio);
    }
    static std::string pem_key(EVP_PKEY* key) {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
        return drain(bio);
    }
    static std::string drain(BIO* bio) {
        char* data = nullptr;
        long n = BIO_get_mem_data(bio, &data);
        std::string out(data, static_cast<std::size_t>(n));
        BIO_free(bio);
        return out;
    }

    std::string temp_file(const char* kind, const std::string& content) {
        // Numbered per process, not per CA: two CAs alive at once (a
        // trusted and an untrusted one) must not share file names.
        static std::atomic<unsigned> serial{0};
        std::string path = "/tmp/corio-test-" + std::to_string(::getpid()) + "-" +
                           std::to_string(serial++) + "." + kind + ".pem";
        FILE* f = std::fopen(path.c_str(), "w");
        if (f == nullptr) {
            throw std::runtime_error("cannot write " + path);
        }
        std::fwrite(content.data(), 1, content.size(), f);
        std::fclose(f);
        files_.push_back(path);
        return path;
    }

    EVP_PKEY* key_;
    X509* cert_;
    std::vector<std::string> files_;
};

}  // namespace corio_test
