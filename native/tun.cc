// A TUN/TAP device for Node: non-blocking fd, uv_poll watcher that reads up to
// kBatch packets per wake-up into one buffer (one JS call per batch, no per-packet
// allocation), and synchronous single and batched writes.
//
// A batch is framed as `[u16 length][u16 segment size][packet]...` (big-endian), the
// VPN's own wire format (/dms/vpn/2.0.0), so a batch for one peer goes out as it is.
//
// With offloads (IFF_VNET_HDR, TUNSETOFFLOAD TSO4 + CSUM) the kernel hands over
// TCP super-packets of up to 64 KiB with a virtio-net header, and takes them back
// the same way: one read or write moves what would otherwise be dozens of
// packets. A packet's segment size is 0 for a whole packet (its checksum completed
// here) or n for a TCP super-packet of n-byte segments (its checksum still partial).
// segmentTcp cuts a super-packet into packets for a peer that takes only whole ones.
#include <napi.h>
#include <uv.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <endian.h>
#include <netinet/in.h>
#include "tcp-offload.h"
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace tcp_offload;

constexpr int kBatch = 256;

// The header a TUN device with IFF_VNET_HDR puts before each packet (linux/virtio_net.h,
// which C++ cannot include: it names a field `class`). Little-endian on the machines we build for.
struct virtio_net_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;
constexpr size_t kVnetHeader = sizeof(virtio_net_hdr);
// what goes before each packet of a batch: its length and segment size
constexpr size_t kFrameHeader = 4;
static_assert(kVnetHeader == 10, "virtio-net header is 10 bytes");
// the largest IPv4 packet, and so the largest super-packet the kernel hands over
constexpr size_t kMaxPacket = 65535;

class Tun : public Napi::ObjectWrap<Tun> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "Tun", {
      InstanceMethod("start", &Tun::Start),
      InstanceMethod("write", &Tun::Write),
      InstanceMethod("writeBatch", &Tun::WriteBatch),
      InstanceMethod("close", &Tun::Close),
      InstanceAccessor("name", &Tun::Name, nullptr),
      InstanceAccessor("offload", &Tun::Offload, nullptr),
    });
    exports.Set("Tun", cls);
    return exports;
  }

  // new Tun(name, tap, mtu[, offload])
  explicit Tun(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tun>(info) {
    Napi::Env env = info.Env();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    bool tap = info[1].As<Napi::Boolean>().Value();
    mtu_ = info[2].As<Napi::Number>().Uint32Value();
    // the virtio-net header is little-endian here; a big-endian host would need TUNSETVNETLE
    bool offload = !tap && info.Length() > 3 && info[3].ToBoolean().Value() && __BYTE_ORDER == __LITTLE_ENDIAN;
    if (name.size() >= IFNAMSIZ) { Napi::Error::New(env, "interface name too long (max 15 characters)").ThrowAsJavaScriptException(); return; }
    fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) { ThrowErrno(env, "cannot open /dev/net/tun"); return; }
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = static_cast<short>((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd_, TUNSETIFF, &ifr) < 0) { int saved = errno; ::close(fd_); fd_ = -1; errno = saved; ThrowErrno(env, "cannot create the device (TUNSETIFF)"); return; }
    name_ = ifr.ifr_name;
    if (offload) {
      vnet_ = true;
      // TCP over IPv4 in super-packets, checksums left to whoever finishes the packet; a kernel
      // that refuses still takes the headers, which then always say "a whole packet"
      offload_ = ioctl(fd_, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0;
    }
    // room for one packet of the largest size the device can carry
    slot_ = offload_ ? static_cast<uint32_t>(kMaxPacket) : mtu_ + 64;
    // up to kBatch packets per wake-up, in at most ~4 MiB of buffer (room for a largest one at the end)
    buffer_.resize(std::min<size_t>((size_t(slot_) + kFrameHeader) * kBatch, (size_t(4) << 20) + slot_ + kFrameHeader));
  }

  ~Tun() override { Stop(); }

 private:
  static void ThrowErrno(Napi::Env env, const char* what) {
    int code = errno;
    Napi::Error error = Napi::Error::New(env, std::string(what) + ": " + std::strerror(code));
    error.Set("errno", Napi::Number::New(env, code));
    error.Set("code", Napi::String::New(env, code == EPERM ? "EPERM" : code == ENOENT ? "ENOENT" : code == EBUSY ? "EBUSY" : "ETUN"));
    error.ThrowAsJavaScriptException();
  }

  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value Offload(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), offload_); }

  // start(onPackets(batch: Buffer, count))
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0 || poll_ != nullptr) return env.Undefined();
    onPackets_ = Napi::Persistent(info[0].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "dms-tun");
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    uv_poll_init(loop, poll_, fd_);
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, &Tun::OnReadable);
    Ref();  // stay alive while watching
    return env.Undefined();
  }

  static void OnReadable(uv_poll_t* handle, int status, int) {
    Tun* self = static_cast<Tun*>(handle->data);
    if (status < 0 || self->fd_ < 0) return;
    self->Drain();
  }

  // One read: the packet lands at `at`; its segment size (0 for a whole packet) in `segment`.
  // With headers, a whole packet whose checksum the kernel left partial is completed here,
  // and a super-packet other than TCP over IPv4 (never asked for) is dropped.
  ssize_t ReadOne(uint8_t* at, uint16_t* segment) {
    *segment = 0;
    if (!vnet_) return ::read(fd_, at, slot_);
    virtio_net_hdr header;
    struct iovec parts[2] = { { &header, kVnetHeader }, { at, slot_ } };
    for (;;) {
      ssize_t n = ::readv(fd_, parts, 2);
      if (n < static_cast<ssize_t>(kVnetHeader)) return n < 0 ? n : 0;
      size_t length = static_cast<size_t>(n) - kVnetHeader;
      uint8_t type = header.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
      if (type == VIRTIO_NET_HDR_GSO_TCPV4) {
        *segment = static_cast<uint16_t>(le16toh(header.gso_size));
        return static_cast<ssize_t>(length);
      }
      if (type != VIRTIO_NET_HDR_GSO_NONE) continue;
      if (header.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        size_t start = le16toh(header.csum_start), field = start + le16toh(header.csum_offset);
        if (field + 2 > length) continue;
        uint16_t sum = static_cast<uint16_t>(~Fold(SumWords(at + start, length - start, 0)));
        // a UDP checksum of 0 means "none": all ones stands for zero
        PutBe16(at + field, sum == 0 && at[9] == IPPROTO_UDP ? 0xffff : sum);
      }
      return static_cast<ssize_t>(length);
    }
  }

  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (;;) {
      int count = 0;
      size_t used = 0;
      while (count < kBatch && used + kFrameHeader + slot_ <= buffer_.size()) {
        uint8_t* at = buffer_.data() + used;
        uint16_t segment = 0;
        ssize_t n = ReadOne(at + kFrameHeader, &segment);
        // a TUN device hands over at most 64 KiB a read; a TAP frame beyond that is dropped
        if (n > static_cast<ssize_t>(kMaxPacket)) continue;
        if (n <= 0) break;
        PutBe16(at, static_cast<uint32_t>(n));
        PutBe16(at + 2, segment);
        used += kFrameHeader + static_cast<size_t>(n);
        count++;
      }
      if (count == 0) return;
      Napi::Buffer<uint8_t> batch = Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), used);
      onPackets_.MakeCallback(env.Global(), { batch, Napi::Number::New(env, count) }, *context_);
      // the device had less than a full batch: it is empty for now
      if ((count < kBatch && used + kFrameHeader + slot_ <= buffer_.size()) || fd_ < 0) return;
    }
  }

  // write(packet) -> bytes written (0 when the device queue is full)
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) { Napi::Error::New(env, "the device is closed").ThrowAsJavaScriptException(); return env.Undefined(); }
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    ssize_t n = WriteOne(data.Data(), data.ByteLength(), 0);
    if (n < 0 && errno != EAGAIN && errno != EINVAL) { ThrowErrno(env, "write to the device failed"); return env.Undefined(); }
    return Napi::Number::New(env, n < 0 ? 0 : static_cast<double>(n));
  }

  // A whole packet (segment 0), or a TCP super-packet of `segment`-byte segments with its
  // checksum partial. A super-packet comes from a peer: it is checked before the kernel sees
  // its header, and refused (-1, EINVAL) on a device without offloads.
  ssize_t WriteOne(const uint8_t* packet, size_t length, uint32_t segment) {
    if (!vnet_) {
      if (segment != 0) { errno = EINVAL; return -1; }
      return ::write(fd_, packet, length);
    }
    virtio_net_hdr header;
    std::memset(&header, 0, sizeof(header));
    if (segment != 0) {
      size_t ihl = 0, headers = 0;
      // a super-packet stands for two segments or more (the kernel sends a smaller one whole)
      if (!offload_ || segment < kMinSegment || !TcpHeaders(packet, length, &ihl, &headers) || length - headers <= segment) { errno = EINVAL; return -1; }
      header.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
      header.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
      header.hdr_len = htole16(static_cast<uint16_t>(headers));
      header.gso_size = htole16(static_cast<uint16_t>(segment));
      header.csum_start = htole16(static_cast<uint16_t>(ihl));
      header.csum_offset = htole16(16);
    }
    struct iovec parts[2] = { { &header, kVnetHeader }, { const_cast<uint8_t*>(packet), length } };
    return ::writev(fd_, parts, 2);
  }

  // writeBatch(buffer, lengths: Uint32Array, count) -> packets written
  // writeBatch(data, lengths, count[, starts[, segments]]): packet i is lengths[i] bytes at
  // starts[i], or, without starts, right after packet i - 1 (so a receiver can write packets out
  // of the frame they arrived in, without copying them together first); segments[i], when given,
  // is its segment size (0: a whole packet)
  Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) { Napi::Error::New(env, "the device is closed").ThrowAsJavaScriptException(); return env.Undefined(); }
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    Napi::Uint32Array lengths = info[1].As<Napi::Uint32Array>();
    uint32_t count = info[2].As<Napi::Number>().Uint32Value();
    bool placed = info.Length() > 3 && info[3].IsTypedArray();
    Napi::Uint32Array starts = placed ? info[3].As<Napi::Uint32Array>() : Napi::Uint32Array();
    bool segmented = info.Length() > 4 && info[4].IsTypedArray();
    Napi::Uint16Array segments = segmented ? info[4].As<Napi::Uint16Array>() : Napi::Uint16Array();
    size_t offset = 0;
    uint32_t written = 0;
    for (uint32_t i = 0; i < count && i < lengths.ElementLength(); i++) {
      size_t length = lengths[i];
      if (placed) {
        if (i >= starts.ElementLength()) break;
        offset = starts[i];
      }
      if (offset + length > data.ByteLength()) break;
      uint32_t segment = segmented && i < segments.ElementLength() ? segments[i] : 0;
      // a packet the kernel refuses (malformed, queue full) is dropped, not retried
      if (WriteOne(data.Data() + offset, length, segment) > 0) written++;
      offset += length;
    }
    return Napi::Number::New(env, written);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  void Stop() {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
      onPackets_.Reset();
      Unref();
    }
    if (fd_ >= 0) { ::close(fd_); fd_ = -1; }
  }

  int fd_ = -1;
  // reads and writes carry a virtio-net header; offload_: the kernel also takes and gives super-packets
  bool vnet_ = false;
  bool offload_ = false;
  uint32_t mtu_ = 1500;
  uint32_t slot_ = 1564;
  std::string name_;
  std::vector<uint8_t> buffer_;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference onPackets_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

// segmentTcp(data, start, length, segment) -> { packets: Buffer, lengths: Uint32Array } | null
Napi::Value SegmentTcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  size_t start = info[1].As<Napi::Number>().Uint32Value();
  size_t length = info[2].As<Napi::Number>().Uint32Value();
  uint32_t segment = info[3].As<Napi::Number>().Uint32Value();
  if (start + length > data.ByteLength() || length > kMaxPacket) return env.Null();
  std::vector<uint8_t> out;
  std::vector<uint32_t> lengths;
  if (!Segment(data.Data() + start, length, segment, &out, &lengths)) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("packets", Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size()));
  Napi::Uint32Array sizes = Napi::Uint32Array::New(env, lengths.size());
  std::memcpy(sizes.Data(), lengths.data(), sizeof(uint32_t) * lengths.size());
  result.Set("lengths", sizes);
  return result;
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  exports.Set("segmentTcp", Napi::Function::New(env, SegmentTcp));
  return Tun::Init(env, exports);
}

}  // namespace

NODE_API_MODULE(tun, InitAll)
