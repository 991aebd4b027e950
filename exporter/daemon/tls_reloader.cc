#include "daemon/tls_reloader.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>

#include "common/logger.h"

namespace gx {

// A certificate chain (leaf first) and its private key, freed together.
struct TlsReloader::KeyPair {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;  // the certificates after the leaf
  EVP_PKEY* key = nullptr;
  ~KeyPair() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

namespace {

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

}  // namespace

bool TlsReloader::FileIds::operator==(const FileIds& o) const {
  for (int i = 0; i < 2; ++i) {
    if (dev[i] != o.dev[i] || ino[i] != o.ino[i] || mtime[i] != o.mtime[i] ||
        mtime_ns[i] != o.mtime_ns[i] || size[i] != o.size[i]) {
      return false;
    }
  }
  return true;
}

TlsReloader::TlsReloader(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

TlsReloader::~TlsReloader() = default;

bool TlsReloader::StatFiles(FileIds* ids) const {
  const std::string* paths[2] = {&cert_file_, &key_file_};
  for (int i = 0; i < 2; ++i) {
    struct stat st{};
    if (::stat(paths[i]->c_str(), &st) != 0) return false;
    ids->dev[i] = st.st_dev;
    ids->ino[i] = st.st_ino;
    ids->mtime[i] = st.st_mtim.tv_sec;
    ids->mtime_ns[i] = st.st_mtim.tv_nsec;
    ids->size[i] = st.st_size;
  }
  return true;
}

bool TlsReloader::Load(std::string* error) {
  FileIds ids;
  if (!StatFiles(&ids)) {
    *error = "cannot stat " + cert_file_ + " or " + key_file_;
    return false;
  }
  auto pair = std::make_shared<KeyPair>();
  FILE* f = std::fopen(cert_file_.c_str(), "r");
  if (!f) {
    *error = "cannot open " + cert_file_;
    return false;
  }
  pair->leaf = PEM_read_X509(f, nullptr, nullptr, nullptr);
  pair->chain = sk_X509_new_null();
  while (pair->leaf && pair->chain) {
    X509* extra = PEM_read_X509(f, nullptr, nullptr, nullptr);
    if (!extra) break;
    sk_X509_push(pair->chain, extra);
  }
  std::fclose(f);
  ERR_clear_error();  // the read past the last certificate
  if (!pair->leaf) {
    *error = "no certificate in " + cert_file_;
    return false;
  }
  f = std::fopen(key_file_.c_str(), "r");
  if (!f) {
    *error = "cannot open " + key_file_;
    return false;
  }
  pair->key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!pair->key) {
    *error = "no private key in " + key_file_ + ": " + OpenSslError();
    return false;
  }
  if (X509_check_private_key(pair->leaf, pair->key) != 1) {
    *error = "the key in " + key_file_ + " does not match the certificate in " + cert_file_;
    ERR_clear_error();
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  const bool first = current_ == nullptr;
  current_ = std::move(pair);
  loaded_ids_ = ids;
  if (!first) ++reloads_;
  return true;
}

std::shared_ptr<const TlsReloader::KeyPair> TlsReloader::Current() {
  FileIds ids;
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = StatFiles(&ids) && !(ids == loaded_ids_) && !(ids == failed_ids_);
    if (!changed) return current_;
  }
  // One reload at a time: handshakes that arrive meanwhile keep the current pair.
  std::unique_lock<std::mutex> reloading(reload_mu_, std::try_to_lock);
  if (!reloading.owns_lock()) {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    FileIds now;
    if (StatFiles(&now) && now == loaded_ids_) return current_;  // another handshake reloaded
  }
  std::string error;
  if (Load(&error)) {
    Log().Info("reloaded the TLS certificate and key", {{"cert", cert_file_}});
  } else {
    Log().Warn("TLS files changed but do not load; serving the previous certificate",
               {{"cert", cert_file_}, {"err", error}});
    std::lock_guard<std::mutex> lock(mu_);
    failed_ids_ = ids;  // once per change, not once per handshake
  }
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

int TlsReloader::OnHandshake(SSL* ssl, void* self) {
  auto pair = static_cast<TlsReloader*>(self)->Current();
  if (!pair) return 1;  // keep what the context was built with
  // Cleared first: a new key of another type (RSA to ECDSA) would otherwise leave the old
  // certificate selectable in its slot. SSL_use_* take their own references; the chain is
  // copied by SSL_set1_chain.
  SSL_certs_clear(ssl);
  if (SSL_use_certificate(ssl, pair->leaf) != 1 || SSL_use_PrivateKey(ssl, pair->key) != 1 ||
      SSL_set1_chain(ssl, pair->chain) != 1) {
    ERR_clear_error();
    return 0;  // fails this handshake only
  }
  return 1;
}

void TlsReloader::Install(SSL_CTX* ctx) { SSL_CTX_set_cert_cb(ctx, &TlsReloader::OnHandshake, this); }

int TlsReloader::reloads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reloads_;
}

}  // namespace gx
