// Enforces the CPU limit of every slice of tenant code, by the CPU time the slice's thread actually used.
//
// isolated-vm can only stop a call by wall time (`timeout`), and only through an interrupt that some V8
// operations never service (BigInt arithmetic and toString on huge values check for termination, not
// for interrupts). Wall time is also the wrong measure on a busy host: a thread that gets a third of a
// core would be stopped after a third of its CPU. So the host passes no `timeout`; this addon watches
// instead, from a thread of its own:
// - a slice is armed with its thread, the thread's CPU clock at the start and the CPU it may use;
// - every millisecond the watchdog reads that thread's CPU clock (pthread_getcpuclockid) and calls
//   v8::Isolate::TerminateExecution on a slice that used up its CPU;
// - tenant code cannot sleep on the thread: Atomics.wait is disallowed in tenant isolates, as on a
//   browser's main thread (it throws a TypeError). A thread that uses no CPU is therefore starved of a
//   core or waiting inside V8 (a garbage collection's helper threads), never stopped for it.
// It needs each tenant isolate's v8::Isolate pointer, which only code running inside that isolate can
// see: this library is therefore also an isolated-vm NativeModule whose InitForContext records the
// pointer (see src/limits/watchdog.ts).
//
// It keeps one allocation past a tenant's heap limit (e.g. a sparse array of 5e7 elements turning
// dense: 400 MB at once) from ending the process. V8 cannot fail an allocation: past the heap limit it
// asks the isolate's near-heap-limit callback for a higher limit, and aborts if none is given. This
// addon's callback lends the isolate 1 GB once (as isolated-vm's own would, whose callback it replaces:
// the last one added is the one V8 calls) and terminates the slice running in it, which then ends at
// its memory limit (`disarm` answers 2) and the host disposes the isolate.
//
// It also ends the process where isolated-vm would leave it wedged, so that the primary replaces it:
// - a fatal out-of-memory error in a tenant isolate (a second allocation past the lent limit, or one
//   outside any slice): isolated-vm's handler puts the thread to sleep forever and
//   asks the main thread to report it, but on a serving process the main thread is that thread;
// - a slice still running, kWedgedAfterCpuUs of its thread's CPU after it was told to terminate (V8
//   operations that check neither, such as generic array builtins on huge sparse arrays).
//
// On the isolate pointer only TerminateExecution, SetOOMErrorHandler and SetAllowAtomicsWait are called,
// V8 entry points whose ABI has not changed across recent V8 versions, so the watchdog also works when
// built against older headers than the running Node's (their mangled names are checked when the library
// loads). The heap loan, namedKeys, utf8Encode/Decode, base64Encode/Decode, get/setContinuationData, reduceMemory, runScript, primeModule and eagerCodeCache (below) use more of V8's API and are built only against
// the server Node's own headers (native/build.mjs finds them in node@24's platform package).
#include <node_api.h>
#include <v8.h>
#include <v8-version.h>

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// How often the watchdog reads the clocks of running slices: a slice overruns its CPU by at most this
// (plus the timer slack of the serving threads, which this thread inherits).
constexpr auto kPollInterval = std::chrono::milliseconds(1);

// Polls with nothing armed before the watchdog parks until the next slice is armed.
constexpr int kIdlePollsBeforeParking = 200;

// Told to terminate and still running after this much more of its thread's CPU: the thread is lost to
// tenant code. Counted in CPU, not wall time: a thread starved of a core (the nice-10 offload thread on a
// machine whose cores are busy) finishing a long host call was taken for one that cannot be stopped, and
// the process ended (a 4096-bit RSA key generation, ~1 s of CPU, took over 6 s of wall time there).
constexpr double kWedgedAfterCpuUs = 6e6;
// And after this much wall time whatever its CPU: a thread blocked for good uses none.
constexpr auto kWedgedAfterWall = std::chrono::seconds(60);

// What a tenant isolate may borrow past its heap limit, once, for an allocation that does not fit.
constexpr size_t kHeapLoan = size_t{1} << 30;

constexpr int kExitCode = 70;  // as src/isolates/tenant-isolate.ts exits after a catastrophic error

enum Stop : uint32_t { kRunning = 0, kOutOfCpu = 1, kOutOfMemory = 2 };

[[noreturn]] void Exit(const char* why) {
  // Plain write(2): nothing here may allocate or take a lock another thread could hold.
  static const char prefix[] = "isolane: ";
  static const char suffix[] = "; the serving process exits\n";
  (void)!write(2, prefix, sizeof(prefix) - 1);
  (void)!write(2, why, strlen(why));
  (void)!write(2, suffix, sizeof(suffix) - 1);
  _exit(kExitCode);
}

void OnOutOfMemory(const char*, const v8::OOMDetails&) {
  Exit("a tenant isolate hit a fatal out-of-memory error");
}

// One armed slice. A slice can be entered from a host call made by another (the runtime's cancel after
// a failure): the innermost is the one running, so frames form a stack per thread.
struct Frame {
  uint32_t isolate_id;
  double cpu_start_us;
  double cpu_budget_us;
  Clock::time_point stopped_at;
  // The thread's CPU clock when it was stopped, or -1 (not read).
  double stopped_cpu_us = -1;
  Stop stop = kRunning;
};

// The host isolate's garbage collections on a slot's thread, in CPU time: the platform's work, not the
// tenant's whose slice they happen to interrupt (the host's heap holds the garbage of every tenant's
// requests and of the platform; a collection there inside a slice, during a host call, charged that
// slice ~0.5 ms). The tenant clock leaves them out, and so does the limit.
struct HostGc {
  clockid_t clock;
  int depth = 0;
  // The thread's clock when the collection under way started, or -1: the watchdog leaves that part out
  // while it runs too (a long one would otherwise stop the slice it interrupted).
  std::atomic<double> started_us{-1};
  std::atomic<double> total_us{0};
};

struct Slot {
  clockid_t cpu_clock;
  std::vector<Frame> frames;
  HostGc* gc;  // null when built without the server Node's V8 headers; never freed (slots never shrink)
};

struct State {
  std::mutex mutex;
  std::condition_variable armed;
  bool parked = false;
  std::unordered_map<uint32_t, v8::Isolate*> isolates;
  std::unordered_set<uint32_t> lent;  // isolates that had their heap loan
  std::vector<Slot> slots;  // one per executor thread; never shrinks
  uint32_t next_isolate_id = 1;
  bool watching = false;
};

// Never destroyed: the watchdog thread is detached and may still look at the slots while the process
// exits and runs static destructors (it then read freed slots as armed and long overdue).
State& state = *new State;

// Set by InitForContext, which isolated-vm runs on the thread that called NativeModule#createSync.
thread_local v8::Isolate* just_initialized = nullptr;

bool CpuUs(clockid_t clock, double* us) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) return false;
  *us = static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  return true;
}

void Terminate(Frame& frame, Clock::time_point now, double cpu_us) {
  // Disarming takes the same lock, so the isolate is inside this slice (and alive) right now.
  auto found = state.isolates.find(frame.isolate_id);
  if (found != state.isolates.end()) found->second->TerminateExecution();
  if (frame.stop == kRunning) {
    frame.stop = kOutOfCpu;
    frame.stopped_at = now;
    frame.stopped_cpu_us = cpu_us;
  }
}

// This thread's host collections so far (set by openSlot), for the JS side's tenant clock.
thread_local HostGc* this_thread_gc = nullptr;

#if V8_MAJOR_VERSION >= 13
void OnHostGcStart(v8::Isolate*, v8::GCType, v8::GCCallbackFlags, void* data) {
  auto* gc = static_cast<HostGc*>(data);
  double now;
  if (gc->depth++ == 0 && CpuUs(gc->clock, &now)) gc->started_us.store(now);
}

void OnHostGcEnd(v8::Isolate*, v8::GCType, v8::GCCallbackFlags, void* data) {
  auto* gc = static_cast<HostGc*>(data);
  if (gc->depth == 0 || --gc->depth > 0) return;
  const double started = gc->started_us.load();
  double now;
  // Added before the start is cleared, and HostGcUs reads the start first: for an instant it may count
  // this collection twice (the tenant's clock behind, never ahead), never leave it out.
  if (started >= 0 && CpuUs(gc->clock, &now) && now > started) gc->total_us.store(gc->total_us.load() + (now - started));
  gc->started_us.store(-1);
}
#endif

// The host collections' CPU so far; `cpu_now` (a reading of the thread's clock) counts the one under way.
double HostGcUs(const HostGc* gc, double cpu_now = -1) {
  if (gc == nullptr) return 0;
  const double started = gc->started_us.load();
  const double total = gc->total_us.load();
  return started >= 0 && cpu_now > started ? total + (cpu_now - started) : total;
}

void Check(Slot& slot, Clock::time_point now) {
  Frame& frame = slot.frames.back();
  double cpu = -1;
  const bool read = CpuUs(slot.cpu_clock, &cpu);
  if (frame.stop != kRunning) {
    if (read && frame.stopped_cpu_us < 0) frame.stopped_cpu_us = cpu;  // stopped at its memory limit
    if ((read && cpu - frame.stopped_cpu_us > kWedgedAfterCpuUs) || now - frame.stopped_at > kWedgedAfterWall) {
      Exit("a slice could not be stopped: 6 s of CPU (or 60 s) after its limit");
    }
    // Keep insisting on a slice stopped for CPU, as isolated-vm's own loop does. Not on one stopped at
    // its memory limit: the heap loan terminated it from its own thread, and isolated-vm disposes such an
    // isolate as the call unwinds, before the host can disarm the slice; terminating it from here then
    // touched a freed isolate (a serving process hung in V8's interrupt lock, the watchdog's lock held,
    // found with a memory bomb deployed under CPU load: .scratch/bomb-repro.ts).
    if (frame.stop == kOutOfCpu) Terminate(frame, now, cpu);
    return;
  }
  if (read && cpu - HostGcUs(slot.gc, cpu) - frame.cpu_start_us >= frame.cpu_budget_us) Terminate(frame, now, cpu);
}

void Watch() {
  int idle_polls = 0;
  for (;;) {
    std::this_thread::sleep_for(kPollInterval);
    std::unique_lock<std::mutex> lock{state.mutex};
    const auto now = Clock::now();
    bool any = false;
    for (auto& slot : state.slots) {
      if (slot.frames.empty()) continue;
      any = true;
      Check(slot, now);
    }
    if (any) {
      idle_polls = 0;
    } else if (++idle_polls >= kIdlePollsBeforeParking) {
      state.parked = true;
      state.armed.wait(lock, [] { return !state.parked; });
      idle_polls = 0;
    }
  }
}

bool Args(napi_env env, napi_callback_info info, size_t count, double* out) {
  napi_value argv[4];
  size_t argc = 4;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  for (size_t i = 0; i < count; ++i) {
    if (i >= argc || napi_get_value_double(env, argv[i], &out[i]) != napi_ok || out[i] < 0) {
      napi_throw_type_error(env, "ISO_ERR_INTERNAL", "isolate-watchdog: expected non-negative numbers");
      return false;
    }
  }
  return true;
}

napi_value Number(napi_env env, uint32_t value) {
  napi_value result;
  napi_create_uint32(env, value, &result);
  return result;
}

Slot* SlotAt(napi_env env, double index) {
  if (index >= state.slots.size()) {
    napi_throw_range_error(env, "ISO_ERR_INTERNAL", "isolate-watchdog: no such slot");
    return nullptr;
  }
  return &state.slots[static_cast<size_t>(index)];
}

// claimIsolate(): the id of the isolate whose context this thread just gave the NativeModule.
napi_value ClaimIsolate(napi_env env, napi_callback_info) {
  v8::Isolate* isolate = just_initialized;
  just_initialized = nullptr;
  if (isolate == nullptr) {
    napi_throw_error(env, "ISO_ERR_INTERNAL", "isolate-watchdog: no isolate was initialised on this thread");
    return nullptr;
  }
  std::lock_guard<std::mutex> lock{state.mutex};
  uint32_t id = state.next_isolate_id++;
  state.isolates.emplace(id, isolate);
  return Number(env, id);
}

// forgetIsolate(id): before the isolate is disposed.
napi_value ForgetIsolate(napi_env env, napi_callback_info info) {
  double id;
  if (!Args(env, info, 1, &id)) return nullptr;
  std::lock_guard<std::mutex> lock{state.mutex};
  state.isolates.erase(static_cast<uint32_t>(id));
  state.lent.erase(static_cast<uint32_t>(id));
  return nullptr;
}

// A thread's environment is going away (a worker thread terminated mid-slice never reaches its
// `finally`): its slices must not stay armed, nor its clock be read after the thread is gone.
void CloseSlot(void* index) {
  std::lock_guard<std::mutex> lock{state.mutex};
  state.slots[reinterpret_cast<uintptr_t>(index)].frames.clear();
}

// openSlot(): the calling thread's slot. It runs one slice at a time (or nested ones).
napi_value OpenSlot(napi_env env, napi_callback_info) {
  clockid_t clock;
  if (pthread_getcpuclockid(pthread_self(), &clock) != 0) {
    napi_throw_error(env, "ISO_ERR_INTERNAL", "isolate-watchdog: this thread has no CPU clock");
    return nullptr;
  }
  HostGc* gc = nullptr;
#if V8_MAJOR_VERSION >= 13
  if (v8::Isolate* host = v8::Isolate::GetCurrent()) {
    gc = new HostGc{};
    gc->clock = clock;
    host->AddGCPrologueCallback(OnHostGcStart, gc);
    host->AddGCEpilogueCallback(OnHostGcEnd, gc);
  }
#endif
  this_thread_gc = gc;
  uintptr_t index;
  {
    std::lock_guard<std::mutex> lock{state.mutex};
    if (!state.watching) {
      std::thread(Watch).detach();
      state.watching = true;
    }
    state.slots.push_back(Slot{clock, {}, gc});
    index = state.slots.size() - 1;
  }
  napi_add_env_cleanup_hook(env, CloseSlot, reinterpret_cast<void*>(index));
  return Number(env, static_cast<uint32_t>(index));
}

// hostGcUs(): the CPU this thread's host isolate has spent in garbage collections since its slot opened
// (0 before, or when built without the server Node's V8 headers).
napi_value HostGcUsOfThisThread(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_double(env, HostGcUs(this_thread_gc), &result);
  return result;
}

// arm(slot, isolateId, cpuStartUs, cpuBudgetUs): a slice starts on `slot`'s thread, whose CPU clock
// without its host collections read `cpuStartUs` (CLOCK_THREAD_CPUTIME_ID less hostGcUs()); it may use
// `cpuBudgetUs`.
napi_value Arm(napi_env env, napi_callback_info info) {
  double args[4];
  if (!Args(env, info, 4, args)) return nullptr;
  std::lock_guard<std::mutex> lock{state.mutex};
  Slot* slot = SlotAt(env, args[0]);
  if (slot == nullptr) return nullptr;
  Frame frame{};
  frame.isolate_id = static_cast<uint32_t>(args[1]);
  frame.cpu_start_us = args[2];
  frame.cpu_budget_us = args[3];
  slot->frames.push_back(frame);
  if (state.parked) {
    state.parked = false;
    state.armed.notify_one();
  }
  return nullptr;
}

// restart(slot, cpuStartUs, cpuBudgetUs): the innermost slice on `slot` counts its CPU again from
// cpuStartUs, against a new budget: the next request of a batch that runs in one entry.
napi_value Restart(napi_env env, napi_callback_info info) {
  double args[3];
  if (!Args(env, info, 3, args)) return nullptr;
  std::lock_guard<std::mutex> lock{state.mutex};
  Slot* slot = SlotAt(env, args[0]);
  if (slot == nullptr || slot->frames.empty()) return nullptr;
  Frame& frame = slot->frames.back();
  // A slice already stopped stays stopped.
  if (frame.stop != kRunning) return nullptr;
  frame.cpu_start_us = args[1];
  frame.cpu_budget_us = args[2];
  return nullptr;
}

// disarm(slot): the innermost slice on `slot` ended. 0: by itself; 1: stopped at its CPU limit; 2: at its
// memory limit.
napi_value Disarm(napi_env env, napi_callback_info info) {
  double index;
  if (!Args(env, info, 1, &index)) return nullptr;
  Stop stop = kRunning;
  {
    std::lock_guard<std::mutex> lock{state.mutex};
    Slot* slot = SlotAt(env, index);
    if (slot == nullptr) return nullptr;
    if (!slot->frames.empty()) {
      stop = slot->frames.back().stop;
      slot->frames.pop_back();
    }
  }
  return Number(env, stop);
}

void Export(napi_env env, napi_value exports, const char* name, napi_callback fn) {
  napi_value value;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &value);
  napi_set_named_property(env, exports, name, value);
}

}  // namespace

#if V8_MAJOR_VERSION >= 13
// namedKeys(object): the object's own enumerable string keys without its integer indices, in property
// order. JavaScript has no way to list an array's named properties apart from its indices; the runtime
// needs it to run Object.keys/values/entries over a huge array as an interruptible loop (V8's own runs
// in one call, 13 s for 4e6 elements near the memory limit). Built only against the V8 headers of the
// Node that runs the server (native/build.mjs): FunctionCallbackInfo's layout changes between versions.
void NamedKeys(const v8::FunctionCallbackInfo<v8::Value>& info) {
  if (info.Length() < 1 || !info[0]->IsObject()) return;
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  v8::Local<v8::Array> keys;
  auto filter = static_cast<v8::PropertyFilter>(v8::ONLY_ENUMERABLE | v8::SKIP_SYMBOLS);
  if (info[0].As<v8::Object>()
          ->GetPropertyNames(context, v8::KeyCollectionMode::kOwnOnly, filter, v8::IndexFilter::kSkipIndices,
                             v8::KeyConversionMode::kConvertToString)
          .ToLocal(&keys)) {
    info.GetReturnValue().Set(keys);
  }
}

// utf8Encode(string): the string's UTF-8 bytes in a new Uint8Array, lone surrogates as U+FFFD (as
// TextEncoder encodes them). V8's encoder: the runtime's own is a JavaScript loop, ~7 ns a byte once
// optimized (a 64 KB body read with arrayBuffer(): ~0.5 ms, charged to the tenant). The runtime hands
// it pieces of at most a million code units, so each call stays short. Handed to the runtime, which
// keeps it in a closure; it reaches nothing but the string and the new array.
void Utf8Encode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 1 || !info[0]->IsString()) {
    isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8Literal(isolate, "utf8Encode(string)")));
    return;
  }
  v8::Local<v8::String> string = info[0].As<v8::String>();
  size_t length = string->Utf8LengthV2(isolate);
  v8::Local<v8::ArrayBuffer> buffer;
  if (!v8::ArrayBuffer::MaybeNew(isolate, length, v8::BackingStoreInitializationMode::kUninitialized).ToLocal(&buffer)) {
    // As V8 says it when an ArrayBuffer cannot be allocated (the executor reads this as the memory limit).
    isolate->ThrowException(v8::Exception::RangeError(v8::String::NewFromUtf8Literal(isolate, "Array buffer allocation failed")));
    return;
  }
  if (length > 0) string->WriteUtf8V2(isolate, static_cast<char*>(buffer->Data()), length, v8::String::WriteFlags::kReplaceInvalidUtf8);
  info.GetReturnValue().Set(v8::Uint8Array::New(buffer, 0, length));
}

// utf8Decode(view): the text of a Uint8Array's bytes read as UTF-8, made in this isolate, each malformed
// sequence one U+FFFD (V8's decoder replaces as the Encoding Standard's does; the runtime strips a BOM
// itself). In the isolate, so a long text is never a string of the host's: as the host's call it made
// its garbage there, and collecting it was nobody's CPU.
void Utf8Decode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 1 || !info[0]->IsUint8Array()) {
    isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8Literal(isolate, "utf8Decode(Uint8Array)")));
    return;
  }
  v8::Local<v8::Uint8Array> view = info[0].As<v8::Uint8Array>();
  const size_t length = view->ByteLength();
  if (length == 0) {
    info.GetReturnValue().SetEmptyString();
    return;
  }
  if (length > static_cast<size_t>(v8::String::kMaxLength)) {
    isolate->ThrowException(v8::Exception::RangeError(v8::String::NewFromUtf8Literal(isolate, "Invalid string length")));
    return;
  }
  const char* data = static_cast<const char*>(view->Buffer()->Data()) + view->ByteOffset();
  v8::Local<v8::String> text;
  // Fails only past V8's string length or heap: its exception is pending, thrown as the call returns.
  if (v8::String::NewFromUtf8(isolate, data, v8::NewStringType::kNormal, static_cast<int>(length)).ToLocal(&text)) info.GetReturnValue().Set(text);
}

// The bytes of a string whose code units are all below 256 (false: some unit is not).
bool OneByteContent(v8::Isolate* isolate, v8::Local<v8::String> string, std::vector<uint8_t>& bytes) {
  if (!string->ContainsOnlyOneByte()) return false;
  bytes.resize(static_cast<size_t>(string->Length()));
  if (!bytes.empty()) string->WriteOneByteV2(isolate, 0, static_cast<uint32_t>(bytes.size()), bytes.data());
  return true;
}

void ReturnOneByte(const v8::FunctionCallbackInfo<v8::Value>& info, const std::vector<uint8_t>& bytes) {
  v8::Local<v8::String> out;
  if (v8::String::NewFromOneByte(info.GetIsolate(), bytes.data(), v8::NewStringType::kNormal, static_cast<int>(bytes.size())).ToLocal(&out)) {
    info.GetReturnValue().Set(out);
  }
}

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// base64Encode(string): btoa's base64 of a string of code units below 256, or null when one is not.
// base64Decode(string): atob's forgiving-base64 decode (https://infra.spec.whatwg.org/#forgiving-base64)
// as a string of code units below 256, or null on failure. The runtime's own are JavaScript loops,
// 45-60x slower than Node's for 1 KB (JWTs, Basic credentials, binary payloads); it hands these strings
// of at most a million code units, so each call stays short, and keeps them in a closure.
void Base64Encode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 1 || !info[0]->IsString()) {
    isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8Literal(isolate, "base64Encode(string)")));
    return;
  }
  std::vector<uint8_t> in;
  if (!OneByteContent(isolate, info[0].As<v8::String>(), in)) {
    info.GetReturnValue().SetNull();
    return;
  }
  std::vector<uint8_t> out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t bits = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out.push_back(kBase64Alphabet[bits >> 18]);
    out.push_back(kBase64Alphabet[(bits >> 12) & 63]);
    out.push_back(kBase64Alphabet[(bits >> 6) & 63]);
    out.push_back(kBase64Alphabet[bits & 63]);
  }
  if (i + 1 == in.size()) {
    out.push_back(kBase64Alphabet[in[i] >> 2]);
    out.push_back(kBase64Alphabet[(in[i] & 3) << 4]);
    out.push_back('=');
    out.push_back('=');
  } else if (i + 2 == in.size()) {
    uint32_t bits = (in[i] << 8) | in[i + 1];
    out.push_back(kBase64Alphabet[bits >> 10]);
    out.push_back(kBase64Alphabet[(bits >> 4) & 63]);
    out.push_back(kBase64Alphabet[(bits << 2) & 63]);
    out.push_back('=');
  }
  ReturnOneByte(info, out);
}

void Base64Decode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 1 || !info[0]->IsString()) {
    isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8Literal(isolate, "base64Decode(string)")));
    return;
  }
  info.GetReturnValue().SetNull();
  std::vector<uint8_t> in;
  // A code unit of 256 or more is outside the alphabet either way.
  if (!OneByteContent(isolate, info[0].As<v8::String>(), in)) return;
  // 1. Remove ASCII whitespace.
  size_t n = 0;
  for (uint8_t c : in) {
    if (c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d || c == 0x20) continue;
    in[n++] = c;
  }
  // 2. A length divisible by 4 loses one or two trailing "=". 3. A remainder of 1 is a failure.
  if (n % 4 == 0 && n > 0 && in[n - 1] == '=') {
    n--;
    if (in[n - 1] == '=') n--;
  }
  if (n % 4 == 1) return;
  // 4. Anything outside the alphabet (an "=" left included) is a failure. 5-8. 24 bits at a time.
  // Initialized once, thread-safely (serving and offload threads both decode).
  static const std::array<int8_t, 256> values = [] {
    std::array<int8_t, 256> table;
    table.fill(-1);
    for (int k = 0; k < 64; k++) table[static_cast<uint8_t>(kBase64Alphabet[k])] = static_cast<int8_t>(k);
    return table;
  }();
  std::vector<uint8_t> out;
  out.reserve(n / 4 * 3 + 2);
  uint32_t bits = 0;
  int count = 0;
  for (size_t k = 0; k < n; k++) {
    int8_t v = values[in[k]];
    if (v < 0) return;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      out.push_back(static_cast<uint8_t>(bits >> 16));
      out.push_back(static_cast<uint8_t>(bits >> 8));
      out.push_back(static_cast<uint8_t>(bits));
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    out.push_back(static_cast<uint8_t>(bits >> 4));
  } else if (count == 3) {
    out.push_back(static_cast<uint8_t>(bits >> 10));
    out.push_back(static_cast<uint8_t>(bits >> 2));
  }
  ReturnOneByte(info, out);
}

// reduceMemory(): a full garbage collection that also gives memory back (V8 shrinks the young generation
// to one semi-space and releases its pooled pages), as for a low-memory notification. The host calls it
// on an isolate that has gone idle; it is never handed to the runtime.
void ReduceMemory(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetIsolate()->MemoryPressureNotification(v8::MemoryPressureLevel::kCritical);
}

// runScript(source, filename, codeCache?): compiles and runs a script whose source string shares its
// bytes with every other isolate's (the host passes an ExternalCopy of the runtime bundle: a ~160 KB
// string V8 keeps for as long as the script lives, which isolated-vm's compileScript would copy into
// each isolate), consuming V8's code cache when given one. Returns true when V8 rejected the cache.
// The host calls it once, before the runtime's boot; it is never handed to the runtime.
void RunScript(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 2 || !info[0]->IsString() || !info[1]->IsString()) {
    isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8Literal(isolate, "runScript(source, filename, codeCache?)")));
    return;
  }
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::ScriptOrigin origin(info[1]);
  v8::ScriptCompiler::CachedData* cache = nullptr;
  if (info.Length() > 2 && info[2]->IsArrayBuffer()) {
    // Not owned: the ArrayBuffer is held by `info` until this call returns.
    std::shared_ptr<v8::BackingStore> bytes = info[2].As<v8::ArrayBuffer>()->GetBackingStore();
    cache = new v8::ScriptCompiler::CachedData(static_cast<const uint8_t*>(bytes->Data()), static_cast<int>(bytes->ByteLength()));
  }
  v8::ScriptCompiler::Source source(info[0].As<v8::String>(), origin, cache);
  v8::Local<v8::Script> script;
  auto options = cache ? v8::ScriptCompiler::kConsumeCodeCache : v8::ScriptCompiler::kNoCompileOptions;
  bool compiled = v8::ScriptCompiler::Compile(context, &source, options).ToLocal(&script);
  bool rejected = cache && source.GetCachedData()->rejected;
  // The cache's bytes are a copy made for this call: detached, they are freed now, not at a later GC.
  if (cache && info[2].As<v8::ArrayBuffer>()->IsDetachable()) info[2].As<v8::ArrayBuffer>()->Detach(v8::Local<v8::Value>()).Check();
  if (!compiled) return;
  if (script->Run(context).IsEmpty()) return;
  info.GetReturnValue().Set(rejected);
}

// primeModule(source, filename, codeCache): compiles a module from V8's code cache and drops the result.
// isolated-vm 7's compileModule hands V8 the cachedData it is given without asking V8 to consume it, so
// every module is compiled from its source. Compiled here first, with the same origin as isolated-vm's
// (name, offsets 0, a module), the code lands in the isolate's compilation cache, where isolated-vm's
// compile then finds it. Returns true when V8 rejected the cache; a syntax error is left for isolated-vm's
// compile to report. The host calls it before compiling a module; it is never handed to the runtime.
void PrimeModule(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 3 || !info[0]->IsString() || !info[1]->IsString() || !info[2]->IsArrayBuffer()) {
    isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8Literal(isolate, "primeModule(source, filename, codeCache)")));
    return;
  }
  v8::ScriptOrigin origin(info[1], 0, 0, false, -1, v8::Local<v8::Value>(), false, false, true);
  v8::Local<v8::ArrayBuffer> buffer = info[2].As<v8::ArrayBuffer>();
  std::shared_ptr<v8::BackingStore> bytes = buffer->GetBackingStore();
  // Not owned: `bytes` outlives the compile.
  auto* cache = new v8::ScriptCompiler::CachedData(static_cast<const uint8_t*>(bytes->Data()), static_cast<int>(bytes->ByteLength()));
  v8::ScriptCompiler::Source source(info[0].As<v8::String>(), origin, cache);
  v8::TryCatch try_catch(isolate);
  v8::Local<v8::Module> module;
  bool compiled = v8::ScriptCompiler::CompileModule(isolate, &source, v8::ScriptCompiler::kConsumeCodeCache).ToLocal(&module);
  bool rejected = !compiled || source.GetCachedData()->rejected;
  if (buffer->IsDetachable()) buffer->Detach(v8::Local<v8::Value>()).Check();
  info.GetReturnValue().Set(rejected);
}

// eagerCodeCache(source, filename, isModule): V8's code cache of the module (or classic script) compiled
// with every function at once (kEagerCompile), not only its top-level code; undefined on a syntax error.
// The origin is the one isolated-vm compiles with (a module or not is part of what V8 checks a cache
// against). The host calls it in a scratch isolate of its own (src/isolates/module-graph.ts), where the
// compile stays in V8's compilation cache; it takes it off every tenant isolate's natives.
void EagerCodeCache(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 3 || !info[0]->IsString() || !info[1]->IsString() || !info[2]->IsBoolean()) {
    isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8Literal(isolate, "eagerCodeCache(source, filename, isModule)")));
    return;
  }
  const bool is_module = info[2]->IsTrue();
  v8::ScriptOrigin origin(info[1], 0, 0, false, -1, v8::Local<v8::Value>(), false, false, is_module);
  v8::ScriptCompiler::Source source(info[0].As<v8::String>(), origin);
  v8::TryCatch try_catch(isolate);
  std::unique_ptr<v8::ScriptCompiler::CachedData> cache;
  if (is_module) {
    v8::Local<v8::Module> module;
    if (!v8::ScriptCompiler::CompileModule(isolate, &source, v8::ScriptCompiler::kEagerCompile).ToLocal(&module)) return;
    cache.reset(v8::ScriptCompiler::CreateCodeCache(module->GetUnboundModuleScript()));
  } else {
    v8::Local<v8::UnboundScript> script;
    if (!v8::ScriptCompiler::CompileUnboundScript(isolate, &source, v8::ScriptCompiler::kEagerCompile).ToLocal(&script)) return;
    cache.reset(v8::ScriptCompiler::CreateCodeCache(script));
  }
  if (!cache) return;
  v8::Local<v8::ArrayBuffer> bytes = v8::ArrayBuffer::New(isolate, static_cast<size_t>(cache->length));
  std::memcpy(bytes->Data(), cache->data, static_cast<size_t>(cache->length));
  info.GetReturnValue().Set(bytes);
}

// V8's near-heap-limit callback for tenant isolates (see the top of the file). Runs on the isolate's own
// thread, inside the allocation. Without an armed slice (the host compiling or copying into the isolate)
// it only lends: isolated-vm's check after the next full collection ends the isolate.
size_t OnNearHeapLimit(void* data, size_t current_limit, size_t) {
  auto* isolate = static_cast<v8::Isolate*>(data);
  std::lock_guard<std::mutex> lock{state.mutex};
  uint32_t id = 0;
  for (const auto& [key, value] : state.isolates) {
    if (value == isolate) {
      id = key;
      break;
    }
  }
  if (id == 0 || !state.lent.insert(id).second) return current_limit;  // V8 aborts; OnOutOfMemory exits
  const auto now = Clock::now();
  bool armed = false;
  for (auto& slot : state.slots) {
    for (auto& frame : slot.frames) {
      if (frame.isolate_id != id || frame.stop != kRunning) continue;
      frame.stop = kOutOfMemory;
      frame.stopped_at = now;
      armed = true;
    }
  }
  if (armed) isolate->TerminateExecution();
  return current_limit + kHeapLoan;
}

// getContinuationData() and setContinuationData(value): V8's continuation-preserved embedder data, which
// V8 carries from where a promise reaction (then, await) or a microtask is made to where it runs. The
// runtime's AsyncLocalStorage keeps its frame there (runtime/async-context.ts), as Node's own does.
void GetContinuationData(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetReturnValue().Set(info.GetIsolate()->GetContinuationPreservedEmbedderData());
}

void SetContinuationData(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetIsolate()->SetContinuationPreservedEmbedderData(info[0]);
}

// Puts `callback` on `target` as a function named `name`.
void SetFunction(v8::Local<v8::Context> context, v8::Local<v8::Object> target, const char* name, v8::FunctionCallback callback) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::Function> function;
  v8::Local<v8::String> key;
  if (v8::Function::New(context, callback).ToLocal(&function) && v8::String::NewFromUtf8(isolate, name).ToLocal(&key)) {
    target->Set(context, key, function).Check();
  }
}
#endif

// isolated-vm's NativeModule entry point, run inside a tenant isolate: remember which isolate it is,
// replace isolated-vm's out-of-memory handler and forbid Atomics.wait (see the top of the file). On
// `target` go `namedKeys`, `utf8Encode`, `utf8Decode`, `base64Encode`, `base64Decode`, `getContinuationData`,
// `setContinuationData`, `reduceMemory`, `runScript`, `primeModule` and `eagerCodeCache` (when built
// against matching headers). The host takes `reduceMemory`, `runScript`, `primeModule` and
// `eagerCodeCache` off and hands the object to the runtime's boot function, which keeps the others in
// closures, away from tenant code.
extern "C" __attribute__((visibility("default"))) void InitForContext(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> target) {
  just_initialized = isolate;
  isolate->SetOOMErrorHandler(OnOutOfMemory);
  isolate->SetAllowAtomicsWait(false);
#if V8_MAJOR_VERSION >= 13
  isolate->AddNearHeapLimitCallback(OnNearHeapLimit, isolate);
  SetFunction(context, target, "namedKeys", NamedKeys);
  SetFunction(context, target, "reduceMemory", ReduceMemory);
  SetFunction(context, target, "utf8Encode", Utf8Encode);
  SetFunction(context, target, "utf8Decode", Utf8Decode);
  SetFunction(context, target, "base64Encode", Base64Encode);
  SetFunction(context, target, "base64Decode", Base64Decode);
  SetFunction(context, target, "getContinuationData", GetContinuationData);
  SetFunction(context, target, "setContinuationData", SetContinuationData);
  SetFunction(context, target, "primeModule", PrimeModule);
  SetFunction(context, target, "eagerCodeCache", EagerCodeCache);
  SetFunction(context, target, "runScript", RunScript);
#else
  (void)context;
  (void)target;
#endif
}

NAPI_MODULE_INIT() {
  Export(env, exports, "claimIsolate", ClaimIsolate);
  Export(env, exports, "forgetIsolate", ForgetIsolate);
  Export(env, exports, "openSlot", OpenSlot);
  Export(env, exports, "arm", Arm);
  Export(env, exports, "disarm", Disarm);
  Export(env, exports, "restart", Restart);
  Export(env, exports, "hostGcUs", HostGcUsOfThisThread);
  return exports;
}
