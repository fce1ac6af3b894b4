// A TUN/TAP device for Node: non-blocking fd, uv_poll watcher that reads up to
// kBatch packets per wake-up into one buffer (one JS call per batch, no per-packet
// allocation), and synchronous single and batched writes.
#include <napi.h>
#include <uv.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kBatch = 256;

class Tun : public Napi::ObjectWrap<Tun> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "Tun", {
      InstanceMethod("start", &Tun::Start),
      InstanceMethod("write", &Tun::Write),
      InstanceMethod("writeBatch", &Tun::WriteBatch),
      InstanceMethod("close", &Tun::Close),
      InstanceAccessor("name", &Tun::Name, nullptr),
    });
    exports.Set("Tun", cls);
    return exports;
  }

  // new Tun(name, tap, mtu)
  explicit Tun(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tun>(info) {
    Napi::Env env = info.Env();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    bool tap = info[1].As<Napi::Boolean>().Value();
    mtu_ = info[2].As<Napi::Number>().Uint32Value();
    if (name.size() >= IFNAMSIZ) { Napi::Error::New(env, "interface name too long (max 15 characters)").ThrowAsJavaScriptException(); return; }
    fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) { ThrowErrno(env, "cannot open /dev/net/tun"); return; }
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd_, TUNSETIFF, &ifr) < 0) { int saved = errno; ::close(fd_); fd_ = -1; errno = saved; ThrowErrno(env, "cannot create the device (TUNSETIFF)"); return; }
    name_ = ifr.ifr_name;
    // room for a full batch of packets of the largest size the device can carry
    slot_ = mtu_ + 64;
    // up to kBatch packets per wake-up, but at most ~4 MiB of buffer with a large MTU
    batch_ = static_cast<int>(std::max<size_t>(1, std::min<size_t>(kBatch, (size_t(4) << 20) / slot_)));
    buffer_.resize(static_cast<size_t>(slot_) * batch_);
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

  // start(onPackets(buffer, lengths: Uint32Array, count))
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

  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (;;) {
      int count = 0;
      size_t used = 0;
      uint32_t lengths[kBatch];
      while (count < batch_) {
        ssize_t n = ::read(fd_, buffer_.data() + used, slot_);
        if (n <= 0) break;
        lengths[count++] = static_cast<uint32_t>(n);
        used += static_cast<size_t>(n);
      }
      if (count == 0) return;
      Napi::Buffer<uint8_t> packets = Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), used);
      Napi::Uint32Array sizes = Napi::Uint32Array::New(env, count);
      std::memcpy(sizes.Data(), lengths, sizeof(uint32_t) * count);
      onPackets_.MakeCallback(env.Global(), { packets, sizes }, *context_);
      if (count < batch_ || fd_ < 0) return;
    }
  }

  // write(packet) -> bytes written (0 when the device queue is full)
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) { Napi::Error::New(env, "the device is closed").ThrowAsJavaScriptException(); return env.Undefined(); }
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    ssize_t n = ::write(fd_, data.Data(), data.ByteLength());
    if (n < 0 && errno != EAGAIN && errno != EINVAL) { ThrowErrno(env, "write to the device failed"); return env.Undefined(); }
    return Napi::Number::New(env, n < 0 ? 0 : static_cast<double>(n));
  }

  // writeBatch(buffer, lengths: Uint32Array, count) -> packets written
  // writeBatch(data, lengths, count[, starts]): packet i is lengths[i] bytes at starts[i], or,
  // without starts, right after packet i - 1 (so a receiver can write packets out of the frame
  // they arrived in, without copying them together first)
  Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) { Napi::Error::New(env, "the device is closed").ThrowAsJavaScriptException(); return env.Undefined(); }
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    Napi::Uint32Array lengths = info[1].As<Napi::Uint32Array>();
    uint32_t count = info[2].As<Napi::Number>().Uint32Value();
    bool placed = info.Length() > 3 && info[3].IsTypedArray();
    Napi::Uint32Array starts = placed ? info[3].As<Napi::Uint32Array>() : Napi::Uint32Array();
    size_t offset = 0;
    uint32_t written = 0;
    for (uint32_t i = 0; i < count && i < lengths.ElementLength(); i++) {
      size_t length = lengths[i];
      if (placed) {
        if (i >= starts.ElementLength()) break;
        offset = starts[i];
      }
      if (offset + length > data.ByteLength()) break;
      // a packet the kernel refuses (malformed, queue full) is dropped, not retried
      if (::write(fd_, data.Data() + offset, length) > 0) written++;
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
  uint32_t mtu_ = 1500;
  int batch_ = kBatch;
  uint32_t slot_ = 1564;
  std::string name_;
  std::vector<uint8_t> buffer_;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference onPackets_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return Tun::Init(env, exports); }

}  // namespace

NODE_API_MODULE(tun, InitAll)
