// TCP super-packets in software: checksums (RFC 1071) and segmentation, as the kernel's
// GSO does them. Used by tun.cc for peers that take whole packets only, and to check a
// peer's super-packet before the kernel sees its header.
#pragma once
#include <netinet/in.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tcp_offload {

// Below Linux's smallest sending MSS (tcp_min_snd_mss 48, less 12 bytes of timestamps): a
// super-packet claiming smaller segments did not come from a kernel, and is refused
constexpr uint32_t kMinSegment = 32;

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t Be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
inline void PutBe16(uint8_t* p, uint32_t v) { p[0] = static_cast<uint8_t>(v >> 8); p[1] = static_cast<uint8_t>(v); }
inline void PutBe32(uint8_t* p, uint32_t v) { p[0] = v >> 24; p[1] = static_cast<uint8_t>(v >> 16); p[2] = static_cast<uint8_t>(v >> 8); p[3] = static_cast<uint8_t>(v); }

// one's-complement sum of big-endian 16-bit words (RFC 1071), not yet folded
inline uint64_t SumWords(const uint8_t* p, size_t n, uint64_t sum) {
  for (; n >= 4; p += 4, n -= 4) sum += Be32(p);
  if (n >= 2) { sum += Be16(p); p += 2; n -= 2; }
  if (n == 1) sum += uint32_t(p[0]) << 8;
  return sum;
}

inline uint16_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The header lengths of an IPv4 TCP packet of `length` bytes, if it is one that can be
// cut into segments: no fragment, no IP length beyond the packet, headers inside it.
inline bool TcpHeaders(const uint8_t* p, size_t length, size_t* ipLength, size_t* headers) {
  if (length < 40 || (p[0] >> 4) != 4 || p[9] != IPPROTO_TCP) return false;
  size_t ihl = size_t(p[0] & 0x0f) * 4;
  if (ihl < 20 || Be16(p + 2) != length || (Be16(p + 6) & 0x3fff) != 0 || ihl + 20 > length) return false;
  size_t thl = size_t(p[ihl + 12] >> 4) * 4;
  if (thl < 20 || ihl + thl > length) return false;
  *ipLength = ihl;
  *headers = ihl + thl;
  return true;
}

// Cut a TCP super-packet into packets of at most `segment` payload bytes, each with its
// own IP length, id, checksum, sequence number and full TCP checksum (what the kernel's
// GSO does). Appends them to `out` and their lengths to `lengths`; false if it is not one.
inline bool Segment(const uint8_t* p, size_t length, uint32_t segment, std::vector<uint8_t>* out, std::vector<uint32_t>* lengths) {
  size_t ihl = 0, headers = 0;
  if (segment < kMinSegment || !TcpHeaders(p, length, &ihl, &headers)) return false;
  size_t payload = length - headers;
  size_t count = payload == 0 ? 1 : (payload + segment - 1) / segment;
  size_t at = out->size();
  out->resize(at + count * headers + payload);
  uint16_t id = Be16(p + 4);
  uint32_t seq = Be32(p + ihl + 4);
  uint8_t flags = p[ihl + 13];
  for (size_t i = 0; i < count; i++) {
    size_t size = std::min<size_t>(segment, payload - i * segment);
    uint8_t* q = out->data() + at;
    std::memcpy(q, p, headers);
    std::memcpy(q + headers, p + headers + i * segment, size);
    PutBe16(q + 2, static_cast<uint32_t>(headers + size));
    PutBe16(q + 4, static_cast<uint16_t>(id + i));
    PutBe16(q + 10, 0);
    PutBe16(q + 10, static_cast<uint16_t>(~Fold(SumWords(q, ihl, 0))));
    uint8_t* tcp = q + ihl;
    PutBe32(tcp + 4, static_cast<uint32_t>(seq + i * segment));
    // FIN and PSH belong to the last segment, CWR to the first
    tcp[13] = static_cast<uint8_t>(flags & ~((i + 1 < count ? 0x09 : 0) | (i > 0 ? 0x80 : 0)));
    PutBe16(tcp + 16, 0);
    size_t tcpLength = headers - ihl + size;
    uint64_t sum = SumWords(q + 12, 8, 0) + IPPROTO_TCP + tcpLength;
    PutBe16(tcp + 16, static_cast<uint16_t>(~Fold(SumWords(tcp, tcpLength, sum))));
    lengths->push_back(static_cast<uint32_t>(headers + size));
    at += headers + size;
  }
  return true;
}

}  // namespace tcp_offload
