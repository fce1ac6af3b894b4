// XSalsa20 as one continuous keystream over many update() calls, for the
// private network's connection protector (PSK v1). The JS fallback
// (@noble/ciphers) costs one extra HSalsa20 and one block per call and moves
// ~110 MB/s at packet-sized chunks; here the subkey is derived once and the
// unused part of the last block is kept for the next call.
#include <napi.h>
#include <cstdint>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
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

class XSalsa20 : public Napi::ObjectWrap<XSalsa20> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("XSalsa20", DefineClass(env, "XSalsa20", {InstanceMethod("update", &XSalsa20::Update)}));
    return exports;
  }

  // new XSalsa20(key: 32 bytes, nonce: 24 bytes)
  explicit XSalsa20(const Napi::CallbackInfo& info) : Napi::ObjectWrap<XSalsa20>(info) {
    auto key = info[0].As<Napi::Uint8Array>();
    auto nonce = info[1].As<Napi::Uint8Array>();
    if (key.ByteLength() != 32 || nonce.ByteLength() != 24) {
      Napi::TypeError::New(info.Env(), "xsalsa20 needs a 32-byte key and a 24-byte nonce").ThrowAsJavaScriptException();
      return;
    }
    // HSalsa20: the subkey is words 0,5,10,15,6,7,8,9 after the rounds, without the final addition
    uint32_t x[16];
    Setup(x, key.Data(), nonce.Data());
    DoubleRounds(x);
    const int pick[8] = {0, 5, 10, 15, 6, 7, 8, 9};
    uint8_t subkey[32];
    for (int i = 0; i < 8; i++) Store32(subkey + 4 * i, x[pick[i]]);
    uint8_t in16[16] = {0};
    std::memcpy(in16, nonce.Data() + 16, 8);  // the last 8 nonce bytes, then a 64-bit block counter
    Setup(state_, subkey, in16);
  }

 private:
  void NextBlock() {
    uint32_t x[16];
    std::memcpy(x, state_, sizeof(x));
    DoubleRounds(x);
    for (int i = 0; i < 16; i++) Store32(block_ + 4 * i, x[i] + state_[i]);
    if (++state_[8] == 0) ++state_[9];
    used_ = 0;
  }

  // update(input, output): output = input XOR the next input.length keystream bytes
  Napi::Value Update(const Napi::CallbackInfo& info) {
    auto input = info[0].As<Napi::Uint8Array>();
    auto output = info[1].As<Napi::Uint8Array>();
    size_t n = input.ByteLength();
    if (output.ByteLength() < n) {
      Napi::RangeError::New(info.Env(), "output is shorter than input").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    const uint8_t* in = input.Data();
    uint8_t* out = output.Data();
#if defined(__x86_64__) || defined(__i386__)
    if (kHasAvx) ClearUpperVectorState();
#endif
    size_t i = 0;
    while (i < n && used_ < 64) out[i] = in[i] ^ block_[used_], i++, used_++;
#ifdef __SSE2__
    // four blocks per round of the core while at least four are needed
    alignas(16) uint8_t stream[256];
    for (; i + 256 <= n; i += 256) {
      FourBlocks(state_, stream);
      uint64_t c = (uint64_t(state_[8]) | uint64_t(state_[9]) << 32) + 4;
      state_[8] = uint32_t(c);
      state_[9] = uint32_t(c >> 32);
      for (int w = 0; w < 256; w += 8) {
        uint64_t a, k;
        std::memcpy(&a, in + i + w, 8);
        std::memcpy(&k, stream + w, 8);
        a ^= k;
        std::memcpy(out + i + w, &a, 8);
      }
    }
#endif
    // whole blocks: XOR eight bytes at a time
    for (; i + 64 <= n; i += 64) {
      NextBlock();
      for (int w = 0; w < 64; w += 8) {
        uint64_t a, k;
        std::memcpy(&a, in + i + w, 8);
        std::memcpy(&k, block_ + w, 8);
        a ^= k;
        std::memcpy(out + i + w, &a, 8);
      }
      used_ = 64;
    }
    if (i < n) {
      NextBlock();
      while (i < n) out[i] = in[i] ^ block_[used_], i++, used_++;
    }
    return info.Env().Undefined();
  }

  uint32_t state_[16];
  uint8_t block_[64];
  int used_ = 64;
};

Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return XSalsa20::Init(env, exports); }

}  // namespace

NODE_API_MODULE(xsalsa20, InitAll)
