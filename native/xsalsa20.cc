// XSalsa20 as one continuous keystream over many update() calls, for the
// private network's connection protector (PSK v1). The JS fallback
// (@noble/ciphers) costs one extra HSalsa20 and one block per call and moves
// ~110 MB/s at packet-sized chunks; here the subkey is derived once and the
// unused part of the last block is kept for the next call. Written against
// Node-API's C interface: the C++ wrapper doubled the binary the package ships.
#include <node_api.h>
#include <cstdint>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

#if defined(__x86_64__) || defined(__i386__)
// Node's own crypto (OpenSSL: the Noise layer's ChaCha20-Poly1305) runs AVX code and may return
// with the upper halves of the vector registers dirty. Legacy SSE instructions after that are
// slowed on many x86 cores (false dependencies or a penalty per instruction): measured 4x here.
// VZEROUPPER clears that state; it exists only on CPUs with AVX, asked once.
__attribute__((target("avx"))) void ClearUpperVectorState() { __builtin_ia32_vzeroupper(); }
const bool kHasAvx = __builtin_cpu_supports("avx");
#endif
#if defined(__x86_64__)
const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif

inline uint32_t Rotl(uint32_t v, int c) { return (v << c) | (v >> (32 - c)); }
inline uint32_t Load32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
inline void Store32(uint8_t* p, uint32_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); p[2] = uint8_t(v >> 16); p[3] = uint8_t(v >> 24); }

// 20 rounds (10 column/row double rounds) of the Salsa20 core over x.
void DoubleRounds(uint32_t x[16]) {
  for (int i = 0; i < 10; i++) {
    x[4] ^= Rotl(x[0] + x[12], 7);   x[8] ^= Rotl(x[4] + x[0], 9);    x[12] ^= Rotl(x[8] + x[4], 13);   x[0] ^= Rotl(x[12] + x[8], 18);
    x[9] ^= Rotl(x[5] + x[1], 7);    x[13] ^= Rotl(x[9] + x[5], 9);   x[1] ^= Rotl(x[13] + x[9], 13);   x[5] ^= Rotl(x[1] + x[13], 18);
    x[14] ^= Rotl(x[10] + x[6], 7);  x[2] ^= Rotl(x[14] + x[10], 9);  x[6] ^= Rotl(x[2] + x[14], 13);   x[10] ^= Rotl(x[6] + x[2], 18);
    x[3] ^= Rotl(x[15] + x[11], 7);  x[7] ^= Rotl(x[3] + x[15], 9);   x[11] ^= Rotl(x[7] + x[3], 13);   x[15] ^= Rotl(x[11] + x[7], 18);
    x[1] ^= Rotl(x[0] + x[3], 7);    x[2] ^= Rotl(x[1] + x[0], 9);    x[3] ^= Rotl(x[2] + x[1], 13);    x[0] ^= Rotl(x[3] + x[2], 18);
    x[6] ^= Rotl(x[5] + x[4], 7);    x[7] ^= Rotl(x[6] + x[5], 9);    x[4] ^= Rotl(x[7] + x[6], 13);    x[5] ^= Rotl(x[4] + x[7], 18);
    x[11] ^= Rotl(x[10] + x[9], 7);  x[8] ^= Rotl(x[11] + x[10], 9);  x[9] ^= Rotl(x[8] + x[11], 13);   x[10] ^= Rotl(x[9] + x[8], 18);
    x[12] ^= Rotl(x[15] + x[14], 7); x[13] ^= Rotl(x[12] + x[15], 9); x[14] ^= Rotl(x[13] + x[12], 13); x[15] ^= Rotl(x[14] + x[13], 18);
  }
}

constexpr uint32_t kSigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};  // "expand 32-byte k"

// The input block: constants on the diagonal, key, and 16 bytes of nonce/counter.
void Setup(uint32_t s[16], const uint8_t key[32], const uint8_t in16[16]) {
  s[0] = kSigma[0]; s[5] = kSigma[1]; s[10] = kSigma[2]; s[15] = kSigma[3];
  for (int i = 0; i < 4; i++) { s[1 + i] = Load32(key + 4 * i); s[11 + i] = Load32(key + 16 + 4 * i); }
  for (int i = 0; i < 4; i++) s[6 + i] = Load32(in16 + 4 * i);
}

#ifdef __SSE2__
inline __m128i Rotl4(__m128i v, int c) { return _mm_or_si128(_mm_slli_epi32(v, c), _mm_srli_epi32(v, 32 - c)); }

// Four consecutive keystream blocks at once: lane k of x[i] is word i of block counter+k.
void FourBlocks(const uint32_t state[16], uint8_t out[256]) {
  __m128i s[16], x[16];
  for (int i = 0; i < 16; i++) s[i] = _mm_set1_epi32(int(state[i]));
  uint64_t c = uint64_t(state[8]) | uint64_t(state[9]) << 32;
  s[8] = _mm_setr_epi32(int(uint32_t(c)), int(uint32_t(c + 1)), int(uint32_t(c + 2)), int(uint32_t(c + 3)));
  s[9] = _mm_setr_epi32(int(uint32_t(c >> 32)), int(uint32_t((c + 1) >> 32)), int(uint32_t((c + 2) >> 32)), int(uint32_t((c + 3) >> 32)));
  for (int i = 0; i < 16; i++) x[i] = s[i];
#define QR(a, b, c, d) \
  x[b] = _mm_xor_si128(x[b], Rotl4(_mm_add_epi32(x[a], x[d]), 7)); \
  x[c] = _mm_xor_si128(x[c], Rotl4(_mm_add_epi32(x[b], x[a]), 9)); \
  x[d] = _mm_xor_si128(x[d], Rotl4(_mm_add_epi32(x[c], x[b]), 13)); \
  x[a] = _mm_xor_si128(x[a], Rotl4(_mm_add_epi32(x[d], x[c]), 18));
  for (int r = 0; r < 10; r++) {
    QR(0, 4, 8, 12) QR(5, 9, 13, 1) QR(10, 14, 2, 6) QR(15, 3, 7, 11)
    QR(0, 1, 2, 3) QR(5, 6, 7, 4) QR(10, 11, 8, 9) QR(15, 12, 13, 14)
  }
#undef QR
  alignas(16) uint32_t words[16][4];
  for (int i = 0; i < 16; i++) _mm_store_si128(reinterpret_cast<__m128i*>(words[i]), _mm_add_epi32(x[i], s[i]));
  for (int k = 0; k < 4; k++) {
    for (int i = 0; i < 16; i++) Store32(out + 64 * k + 4 * i, words[i][k]);
  }
}
#endif

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2")))
AVX2 inline __m256i Rotl8(__m256i v, int c) { return _mm256_or_si256(_mm256_slli_epi32(v, c), _mm256_srli_epi32(v, 32 - c)); }

// Eight rows of eight 32-bit words transposed in place: row i, lane k becomes row k, lane i.
AVX2 inline void Transpose8(__m256i r[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 8; i += 2) { t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]); t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]); }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]); u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
    u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]); u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int k = 0; k < 4; k++) { r[k] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x20); r[k + 4] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x31); }
}

// Eight consecutive keystream blocks XORed onto 512 bytes of input: lane k of x[i] is word i of block counter+k.
AVX2 void EightBlocks(const uint32_t state[16], const uint8_t* in, uint8_t* out) {
  __m256i s[16], x[16];
  for (int i = 0; i < 16; i++) s[i] = _mm256_set1_epi32(int(state[i]));
  uint64_t c = uint64_t(state[8]) | uint64_t(state[9]) << 32;
  alignas(32) uint32_t lo[8], hi[8];
  for (int k = 0; k < 8; k++) { lo[k] = uint32_t(c + k); hi[k] = uint32_t((c + k) >> 32); }
  s[8] = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo));
  s[9] = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi));
  for (int i = 0; i < 16; i++) x[i] = s[i];
#define QR(a, b, c, d) \
  x[b] = _mm256_xor_si256(x[b], Rotl8(_mm256_add_epi32(x[a], x[d]), 7)); \
  x[c] = _mm256_xor_si256(x[c], Rotl8(_mm256_add_epi32(x[b], x[a]), 9)); \
  x[d] = _mm256_xor_si256(x[d], Rotl8(_mm256_add_epi32(x[c], x[b]), 13)); \
  x[a] = _mm256_xor_si256(x[a], Rotl8(_mm256_add_epi32(x[d], x[c]), 18));
  for (int r = 0; r < 10; r++) {
    QR(0, 4, 8, 12) QR(5, 9, 13, 1) QR(10, 14, 2, 6) QR(15, 3, 7, 11)
    QR(0, 1, 2, 3) QR(5, 6, 7, 4) QR(10, 11, 8, 9) QR(15, 12, 13, 14)
  }
#undef QR
  for (int i = 0; i < 16; i++) x[i] = _mm256_add_epi32(x[i], s[i]);
  // words 0-7 of every block, then words 8-15: after the transpose, row k is half of block k
  Transpose8(x);
  Transpose8(x + 8);
  for (int k = 0; k < 8; k++) {
    for (int h = 0; h < 2; h++) {
      const __m256i* src = reinterpret_cast<const __m256i*>(in + 64 * k + 32 * h);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64 * k + 32 * h), _mm256_xor_si256(_mm256_loadu_si256(src), x[8 * h + k]));
    }
  }
}
#undef AVX2
#endif

// One keystream: the XSalsa20 block input (subkey, nonce tail, 64-bit block counter) and the
// unused rest of the last block.
struct Cipher {
  uint32_t state[16];
  uint8_t block[64];
  int used = 64;

  Cipher(const uint8_t key[32], const uint8_t nonce[24]) {
    // HSalsa20: the subkey is words 0,5,10,15,6,7,8,9 after the rounds, without the final addition
    uint32_t x[16];
    Setup(x, key, nonce);
    DoubleRounds(x);
    const int pick[8] = {0, 5, 10, 15, 6, 7, 8, 9};
    uint8_t subkey[32];
    for (int i = 0; i < 8; i++) Store32(subkey + 4 * i, x[pick[i]]);
    uint8_t in16[16] = {0};
    std::memcpy(in16, nonce + 16, 8);  // the last 8 nonce bytes, then a 64-bit block counter
    Setup(state, subkey, in16);
  }

  void Advance(uint64_t blocks) {
    uint64_t c = (uint64_t(state[8]) | uint64_t(state[9]) << 32) + blocks;
    state[8] = uint32_t(c);
    state[9] = uint32_t(c >> 32);
  }

  void NextBlock() {
    uint32_t x[16];
    std::memcpy(x, state, sizeof(x));
    DoubleRounds(x);
    for (int i = 0; i < 16; i++) Store32(block + 4 * i, x[i] + state[i]);
    Advance(1);
    used = 0;
  }

  // out = in XOR the next n keystream bytes
  void Xor(const uint8_t* in, uint8_t* out, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (kHasAvx) ClearUpperVectorState();
#endif
    size_t i = 0;
    while (i < n && used < 64) out[i] = in[i] ^ block[used], i++, used++;
#if defined(__x86_64__)
    // eight blocks per round of the core on AVX2 (twice the four-block rate) while at least eight are needed
    if (kHasAvx2) {
      for (; i + 512 <= n; i += 512) {
        EightBlocks(state, in + i, out + i);
        Advance(8);
      }
    }
#endif
#ifdef __SSE2__
    // four blocks per round of the core while at least four are needed
    alignas(16) uint8_t stream[256];
    for (; i + 256 <= n; i += 256) {
      FourBlocks(state, stream);
      Advance(4);
      XorWords(in + i, stream, out + i, 256);
    }
#endif
    for (; i + 64 <= n; i += 64) {
      NextBlock();
      XorWords(in + i, block, out + i, 64);
      used = 64;
    }
    if (i < n) {
      NextBlock();
      while (i < n) out[i] = in[i] ^ block[used], i++, used++;
    }
  }

  // eight bytes at a time
  static void XorWords(const uint8_t* in, const uint8_t* key, uint8_t* out, size_t n) {
    for (size_t w = 0; w < n; w += 8) {
      uint64_t a, k;
      std::memcpy(&a, in + w, 8);
      std::memcpy(&k, key + w, 8);
      a ^= k;
      std::memcpy(out + w, &a, 8);
    }
  }
};

// The bytes of a Uint8Array argument, or false.
bool Bytes(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  bool typed = false;
  if (napi_is_typedarray(env, value, &typed) != napi_ok || !typed) return false;
  napi_typedarray_type type;
  void* bytes;
  if (napi_get_typedarray_info(env, value, &type, length, &bytes, nullptr, nullptr) != napi_ok || type != napi_uint8_array) return false;
  *data = static_cast<uint8_t*>(bytes);
  return true;
}

// new XSalsa20(key: 32 bytes, nonce: 24 bytes)
napi_value New(napi_env env, napi_callback_info info) {
  napi_value target = nullptr;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == nullptr) {
    napi_throw_type_error(env, nullptr, "XSalsa20 is a constructor: use new");
    return nullptr;
  }
  size_t argc = 2;
  napi_value args[2], self;
  napi_get_cb_info(env, info, &argc, args, &self, nullptr);
  uint8_t *key, *nonce;
  size_t keyLength, nonceLength;
  if (argc < 2 || !Bytes(env, args[0], &key, &keyLength) || !Bytes(env, args[1], &nonce, &nonceLength) || keyLength != 32 || nonceLength != 24) {
    napi_throw_type_error(env, nullptr, "xsalsa20 needs a 32-byte key and a 24-byte nonce");
    return nullptr;
  }
  auto* cipher = new Cipher(key, nonce);
  if (napi_wrap(env, self, cipher, [](napi_env, void* data, void*) { delete static_cast<Cipher*>(data); }, nullptr, nullptr) != napi_ok) {
    delete cipher;
    napi_throw_error(env, nullptr, "xsalsa20: cannot attach the cipher to its object");
    return nullptr;
  }
  return self;
}

// update(input, output): output = input XOR the next input.length keystream bytes
napi_value Update(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], self;
  napi_get_cb_info(env, info, &argc, args, &self, nullptr);
  void* cipher = nullptr;
  uint8_t *in, *out;
  size_t n, room;
  if (napi_unwrap(env, self, &cipher) != napi_ok || argc < 2 || !Bytes(env, args[0], &in, &n) || !Bytes(env, args[1], &out, &room)) {
    napi_throw_type_error(env, nullptr, "update(input, output) takes two Uint8Arrays");
    return nullptr;
  }
  if (room < n) {
    napi_throw_range_error(env, nullptr, "output is shorter than input");
    return nullptr;
  }
  static_cast<Cipher*>(cipher)->Xor(in, out, n);
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor update = {"update", nullptr, Update, nullptr, nullptr, nullptr, napi_default, nullptr};
  napi_value constructor;
  napi_define_class(env, "XSalsa20", NAPI_AUTO_LENGTH, New, nullptr, 1, &update, &constructor);
  napi_set_named_property(env, exports, "XSalsa20", constructor);
  return exports;
}
