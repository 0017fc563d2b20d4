// A second line of defence behind isolated-vm's `timeout`.
//
// isolated-vm stops a slice at its deadline by requesting an interrupt, and only the interrupt calls
// v8::Isolate::TerminateExecution. Some V8 operations never service interrupts but do honour a
// termination request (BigInt arithmetic and toString on huge values check for one every few ms of
// work). Such a slice overruns forever, and after 5 s isolated-vm declares a catastrophic error and
// suspends the thread: on a serving process that is every connection it holds.
//
// This addon calls TerminateExecution itself, from a thread of its own, on a slice still running past
// its deadline (the host adds a grace period). It needs each tenant isolate's v8::Isolate pointer,
// which only code running inside that isolate can see: the same library is therefore also an
// isolated-vm NativeModule whose InitForContext records the pointer (see src/limits/watchdog.ts).
//
// It also ends the process where isolated-vm would leave it wedged, so that the primary replaces it:
// - a fatal out-of-memory error in a tenant isolate (one allocation past the heap limit, e.g. a sparse
//   array of 5e7 elements turning dense): isolated-vm's handler puts the thread to sleep forever and
//   asks the main thread to report it, but on a serving process the main thread is that thread;
// - a slice still running kWedgedAfter past its deadline: isolated-vm has by then suspended the thread.
//
// On the isolate pointer only TerminateExecution and SetOOMErrorHandler are called, V8 entry points
// whose ABI has not changed across recent V8 versions; the headers this builds against may be older
// than the running Node (their mangled names are checked when the library loads).
#include <node_api.h>
#include <v8.h>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// How often the watchdog looks at the armed slots. A stuck slice is stopped at most this much after
// its deadline (the deadline the host passes already includes a grace period).
constexpr auto kPollInterval = std::chrono::milliseconds(25);

// isolated-vm gives up on a slice 5 s past its timeout and suspends its thread for good.
constexpr auto kWedgedAfter = std::chrono::seconds(6);

constexpr int kExitCode = 70;  // as src/isolates/tenant-isolate.ts exits after a catastrophic error

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

struct Slot {
  uint32_t isolate_id = 0;
  Clock::time_point deadline;
  bool armed = false;
  bool fired = false;
};

struct State {
  std::mutex mutex;
  std::unordered_map<uint32_t, v8::Isolate*> isolates;
  std::vector<Slot> slots;  // one per executor thread; never shrinks
  uint32_t next_isolate_id = 1;
  bool watching = false;
};

// Never destroyed: the watchdog thread is detached and may still look at the slots while the process
// exits and runs static destructors (it then read freed slots as armed and long overdue).
State& state = *new State;

// Set by InitForContext, which isolated-vm runs on the thread that called NativeModule#createSync.
thread_local v8::Isolate* just_initialized = nullptr;

void Watch() {
  for (;;) {
    std::this_thread::sleep_for(kPollInterval);
    std::lock_guard<std::mutex> lock{state.mutex};
    const auto now = Clock::now();
    for (auto& slot : state.slots) {
      if (!slot.armed || slot.deadline > now) continue;
      if (now - slot.deadline > kWedgedAfter) Exit("a slice could not be stopped 6 s past its deadline");
      // Disarming takes the same lock, so the isolate is inside this slice (and alive) right now.
      auto found = state.isolates.find(slot.isolate_id);
      if (found != state.isolates.end()) found->second->TerminateExecution();
      slot.fired = true;  // and keep insisting every poll, as isolated-vm's own loop does
    }
  }
}

bool ArgU32(napi_env env, napi_callback_info info, size_t count, uint32_t* out) {
  napi_value argv[3];
  size_t argc = 3;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  for (size_t i = 0; i < count; ++i) {
    if (i >= argc || napi_get_value_uint32(env, argv[i], &out[i]) != napi_ok) {
      napi_throw_type_error(env, "ISO_ERR_INTERNAL", "isolate-watchdog: expected unsigned integer arguments");
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

// claimIsolate(): the id of the isolate whose context this thread just gave the NativeModule.
napi_value ClaimIsolate(napi_env env, napi_callback_info) {
  v8::Isolate* isolate = std::exchange(just_initialized, nullptr);
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
  uint32_t id;
  if (!ArgU32(env, info, 1, &id)) return nullptr;
  std::lock_guard<std::mutex> lock{state.mutex};
  state.isolates.erase(id);
  return nullptr;
}

// A thread's environment is going away (a worker thread terminated mid-slice never reaches its
// `finally`): its slot must not stay armed.
void DisarmOnCleanup(void* index) {
  std::lock_guard<std::mutex> lock{state.mutex};
  state.slots[reinterpret_cast<uintptr_t>(index)].armed = false;
}

// openSlot(): a slot for one executor thread, which runs one slice at a time.
napi_value OpenSlot(napi_env env, napi_callback_info) {
  uintptr_t index;
  {
    std::lock_guard<std::mutex> lock{state.mutex};
    if (!state.watching) {
      std::thread(Watch).detach();
      state.watching = true;
    }
    state.slots.emplace_back();
    index = state.slots.size() - 1;
  }
  napi_add_env_cleanup_hook(env, DisarmOnCleanup, reinterpret_cast<void*>(index));
  return Number(env, static_cast<uint32_t>(index));
}

// arm(slot, isolateId, ms): the slice starting now on `slot` must end within `ms`.
napi_value Arm(napi_env env, napi_callback_info info) {
  uint32_t args[3];
  if (!ArgU32(env, info, 3, args)) return nullptr;
  std::lock_guard<std::mutex> lock{state.mutex};
  if (args[0] >= state.slots.size()) {
    napi_throw_range_error(env, "ISO_ERR_INTERNAL", "isolate-watchdog: no such slot");
    return nullptr;
  }
  Slot& slot = state.slots[args[0]];
  slot.isolate_id = args[1];
  slot.deadline = Clock::now() + std::chrono::milliseconds(args[2]);
  slot.armed = true;
  slot.fired = false;
  return nullptr;
}

// disarm(slot): the slice ended; true if the watchdog had to terminate it.
napi_value Disarm(napi_env env, napi_callback_info info) {
  uint32_t index;
  if (!ArgU32(env, info, 1, &index)) return nullptr;
  bool fired = false;
  {
    std::lock_guard<std::mutex> lock{state.mutex};
    if (index < state.slots.size()) {
      fired = state.slots[index].fired;
      state.slots[index].armed = false;
      state.slots[index].fired = false;
    }
  }
  napi_value result;
  napi_get_boolean(env, fired, &result);
  return result;
}

void Export(napi_env env, napi_value exports, const char* name, napi_callback fn) {
  napi_value value;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &value);
  napi_set_named_property(env, exports, name, value);
}

}  // namespace

// isolated-vm's NativeModule entry point, run inside a tenant isolate: remember which isolate it is, and
// replace isolated-vm's out-of-memory handler (see the top of the file).
// Nothing is added to `target`, and the host never hands that object to tenant code.
extern "C" __attribute__((visibility("default"))) void InitForContext(v8::Isolate* isolate, v8::Local<v8::Context>, v8::Local<v8::Object>) {
  just_initialized = isolate;
  isolate->SetOOMErrorHandler(OnOutOfMemory);
}

NAPI_MODULE_INIT() {
  Export(env, exports, "claimIsolate", ClaimIsolate);
  Export(env, exports, "forgetIsolate", ForgetIsolate);
  Export(env, exports, "openSlot", OpenSlot);
  Export(env, exports, "arm", Arm);
  Export(env, exports, "disarm", Disarm);
  return exports;
}
