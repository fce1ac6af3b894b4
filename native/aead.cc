// ChaCha20-Poly1305 (RFC 8439) for the Noise layer's transport messages, through the
// OpenSSL that Node itself carries (its EVP symbols are exported to addons). Node's
// crypto.createCipheriv costs a cipher object, a key schedule, an output buffer per
// update() and a Buffer.concat per record: about twice the cipher's own time on a
// 64 KiB record. Here one context per direction (and thread) is reused, and the output is written
// into a buffer the caller owns (or over the input itself). Node-API's C interface,
// as in xsalsa20.cc.
#include <node_api.h>
#include <openssl/evp.h>
#include <cstddef>
#include <cstdint>

namespace {

constexpr size_t kKeyLength = 32, kNonceLength = 12, kTagLength = 16;
constexpr size_t kMaxParts = 64;

struct Bytes {
  uint8_t* data = nullptr;
  size_t length = 0;
};

bool ReadBytes(napi_env env, napi_value value, Bytes* out) {
  bool typed = false;
  if (napi_is_typedarray(env, value, &typed) != napi_ok || !typed) return false;
  napi_typedarray_type type;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &out->length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) return false;
  out->data = static_cast<uint8_t*>(data);
  return true;
}

// One Uint8Array, or an array of them (a Uint8ArrayList's parts), in order.
bool ReadParts(napi_env env, napi_value value, Bytes parts[kMaxParts], uint32_t* count, size_t* total) {
  bool isArray = false;
  *total = 0;
  if (napi_is_array(env, value, &isArray) != napi_ok) return false;
  if (!isArray) {
    *count = 1;
    if (!ReadBytes(env, value, &parts[0])) return false;
    *total = parts[0].length;
    return true;
  }
  if (napi_get_array_length(env, value, count) != napi_ok || *count > kMaxParts) return false;
  for (uint32_t i = 0; i < *count; i++) {
    napi_value item;
    if (napi_get_element(env, value, i, &item) != napi_ok || !ReadBytes(env, item, &parts[i])) return false;
    *total += parts[i].length;
  }
  return true;
}

// One context per direction and per thread: a worker thread that loads the addon gets its own
// (OpenSSL contexts are not to be shared between threads), freed when that thread ends.
struct Contexts {
  EVP_CIPHER_CTX* byDirection[2] = {nullptr, nullptr};
  ~Contexts() {
    for (EVP_CIPHER_CTX* ctx : byDirection) EVP_CIPHER_CTX_free(ctx);
  }
};
thread_local Contexts contexts;

EVP_CIPHER_CTX* Context(bool encrypt) {
  EVP_CIPHER_CTX*& ctx = contexts.byDirection[encrypt ? 1 : 0];
  if (ctx == nullptr) {
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == nullptr || EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr, encrypt ? 1 : 0) != 1) {
      EVP_CIPHER_CTX_free(ctx);
      ctx = nullptr;
    }
  }
  return ctx;
}

// seal(key, nonce, ad, plaintext | parts, out): out (plaintext length + 16) gets the
// ciphertext and then the tag. out may be the plaintext itself, never a partial overlap.
napi_value Seal(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  Bytes key, nonce, ad, out, parts[kMaxParts];
  uint32_t count = 0;
  size_t total = 0;
  if (argc < 5 || !ReadBytes(env, args[0], &key) || !ReadBytes(env, args[1], &nonce) || !ReadBytes(env, args[2], &ad) ||
      !ReadParts(env, args[3], parts, &count, &total) || !ReadBytes(env, args[4], &out)) {
    napi_throw_type_error(env, nullptr, "seal(key, nonce, ad, plaintext, out) takes Uint8Arrays (plaintext may be an array of up to 64)");
    return nullptr;
  }
  if (key.length != kKeyLength || nonce.length != kNonceLength || out.length != total + kTagLength) {
    napi_throw_range_error(env, nullptr, "seal needs a 32-byte key, a 12-byte nonce and an output 16 bytes longer than the plaintext");
    return nullptr;
  }
  EVP_CIPHER_CTX* ctx = Context(true);
  int n = 0;
  bool ok = ctx != nullptr && EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data, nonce.data, 1) == 1 &&
            (ad.length == 0 || EVP_CipherUpdate(ctx, nullptr, &n, ad.data, int(ad.length)) == 1);
  size_t written = 0;
  for (uint32_t i = 0; ok && i < count; i++) {
    if (parts[i].length == 0) continue;
    ok = EVP_CipherUpdate(ctx, out.data + written, &n, parts[i].data, int(parts[i].length)) == 1;
    written += size_t(n);
  }
  ok = ok && EVP_CipherFinal_ex(ctx, out.data + written, &n) == 1 && written + size_t(n) == total &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, int(kTagLength), out.data + total) == 1;
  if (!ok) napi_throw_error(env, nullptr, "chacha20-poly1305: OpenSSL refused to encrypt");
  return nullptr;
}

// open(key, nonce, ad, ciphertext | parts, tag, out) -> boolean: false when the tag does not
// match (out then holds garbage). out has the ciphertext's length; it may be the ciphertext
// (one part) itself, never a partial overlap of a part.
napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value args[6];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  Bytes key, nonce, ad, tag, out, parts[kMaxParts];
  uint32_t count = 0;
  size_t total = 0;
  if (argc < 6 || !ReadBytes(env, args[0], &key) || !ReadBytes(env, args[1], &nonce) || !ReadBytes(env, args[2], &ad) ||
      !ReadParts(env, args[3], parts, &count, &total) || !ReadBytes(env, args[4], &tag) || !ReadBytes(env, args[5], &out)) {
    napi_throw_type_error(env, nullptr, "open(key, nonce, ad, ciphertext, tag, out) takes Uint8Arrays (ciphertext may be an array of up to 64)");
    return nullptr;
  }
  if (key.length != kKeyLength || nonce.length != kNonceLength || tag.length != kTagLength || out.length != total) {
    napi_throw_range_error(env, nullptr, "open needs a 32-byte key, a 12-byte nonce, a 16-byte tag and an output as long as the ciphertext");
    return nullptr;
  }
  EVP_CIPHER_CTX* ctx = Context(false);
  int n = 0;
  bool ok = ctx != nullptr && EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data, nonce.data, 0) == 1 &&
            (ad.length == 0 || EVP_CipherUpdate(ctx, nullptr, &n, ad.data, int(ad.length)) == 1);
  if (!ok) {
    napi_throw_error(env, nullptr, "chacha20-poly1305: OpenSSL refused to decrypt");
    return nullptr;
  }
  // the tag is taken before out is written: out may overlap where the tag came from
  ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, int(kTagLength), tag.data) == 1;
  size_t written = 0;
  for (uint32_t i = 0; ok && i < count; i++) {
    if (parts[i].length == 0) continue;
    ok = EVP_CipherUpdate(ctx, out.data + written, &n, parts[i].data, int(parts[i].length)) == 1;
    written += size_t(n);
  }
  ok = ok && EVP_CipherFinal_ex(ctx, out.data + written, &n) == 1 && written + size_t(n) == total;
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
    {"seal", nullptr, Seal, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 2, methods);
  return exports;
}
