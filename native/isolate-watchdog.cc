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
// - a slice past its wall deadline whose thread neither ran nor waited to run for kAsleepFor (the
//   kernel's /proc schedstat counts both) is asleep (Atomics.wait): it is stopped too. A starved thread
//   is never stopped for being slow: it is waiting for a core, and that wait is counted.
// It needs each tenant isolate's v8::Isolate pointer, which only code running inside that isolate can
// see: this library is therefore also an isolated-vm NativeModule whose InitForContext records the
// pointer (see src/limits/watchdog.ts).
//
// It also ends the process where isolated-vm would leave it wedged, so that the primary replaces it:
// - a fatal out-of-memory error in a tenant isolate (one allocation past the heap limit, e.g. a sparse
//   array of 5e7 elements turning dense): isolated-vm's handler puts the thread to sleep forever and
//   asks the main thread to report it, but on a serving process the main thread is that thread;
// - a slice still running kWedgedAfter after it was told to terminate (V8 operations that check
//   neither, such as generic array builtins on huge sparse arrays).
//
// On the isolate pointer only TerminateExecution and SetOOMErrorHandler are called, V8 entry points
// whose ABI has not changed across recent V8 versions; the headers this builds against may be older
// than the running Node (their mangled names are checked when the library loads).
#include <node_api.h>
#include <v8.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// How often the watchdog reads the clocks of running slices: a slice overruns its CPU by at most this
// (plus the timer slack of the serving threads, which this thread inherits).
constexpr auto kPollInterval = std::chrono::milliseconds(1);

// Polls with nothing armed before the watchdog parks until the next slice is armed.
constexpr int kIdlePollsBeforeParking = 200;

// How long a slice past its wall deadline must neither run nor wait to run to count as asleep (longer
// than a garbage collection's wait for its helper threads).
constexpr auto kAsleepFor = std::chrono::milliseconds(50);

// Told to terminate and still running this long later: the thread is lost to tenant code.
constexpr auto kWedgedAfter = std::chrono::seconds(6);

constexpr int kExitCode = 70;  // as src/isolates/tenant-isolate.ts exits after a catastrophic error

enum Stop : uint32_t { kRunning = 0, kOutOfCpu = 1, kAsleep = 2 };

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
  Clock::time_point wall_deadline;
  double last_cpu_us;
  uint64_t last_run_wait_ns;
  Clock::time_point last_moved;
  Clock::time_point stopped_at;
  Stop stop = kRunning;
};

struct Slot {
  clockid_t cpu_clock;
  pid_t tid;
  std::vector<Frame> frames;
};

struct State {
  std::mutex mutex;
  std::condition_variable armed;
  bool parked = false;
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

bool CpuUs(clockid_t clock, double* us) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) return false;
  *us = static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  return true;
}

// Time the thread spent runnable but waiting for a core (the second field of its schedstat), or 0.
uint64_t RunWaitNs(pid_t tid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", static_cast<int>(tid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buffer[96];
  ssize_t length = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  if (length <= 0) return 0;
  buffer[length] = '\0';
  unsigned long long ran = 0, waited = 0;
  if (sscanf(buffer, "%llu %llu", &ran, &waited) != 2) return 0;
  return waited;
}

void Terminate(Frame& frame, Stop why, Clock::time_point now) {
  // Disarming takes the same lock, so the isolate is inside this slice (and alive) right now.
  auto found = state.isolates.find(frame.isolate_id);
  if (found != state.isolates.end()) found->second->TerminateExecution();
  if (frame.stop == kRunning) {
    frame.stop = why;
    frame.stopped_at = now;
  }
}

void Check(Slot& slot, Clock::time_point now) {
  Frame& frame = slot.frames.back();
  if (frame.stop != kRunning) {
    if (now - frame.stopped_at > kWedgedAfter) Exit("a slice could not be stopped 6 s after its limit");
    Terminate(frame, frame.stop, now);  // and keep insisting, as isolated-vm's own loop does
    return;
  }
  double cpu;
  if (!CpuUs(slot.cpu_clock, &cpu)) return;
  if (cpu - frame.cpu_start_us >= frame.cpu_budget_us) {
    Terminate(frame, kOutOfCpu, now);
    return;
  }
  if (cpu != frame.last_cpu_us) {
    frame.last_cpu_us = cpu;
    frame.last_moved = now;
    return;
  }
  if (now < frame.wall_deadline) return;
  // Not running: asleep, or starved of a core? Only then is the kernel's account worth reading.
  uint64_t waited = RunWaitNs(slot.tid);
  if (waited != frame.last_run_wait_ns) {
    frame.last_run_wait_ns = waited;
    frame.last_moved = now;
  } else if (now - frame.last_moved >= kAsleepFor) {
    Terminate(frame, kAsleep, now);
  }
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
  napi_value argv[5];
  size_t argc = 5;
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
  uintptr_t index;
  {
    std::lock_guard<std::mutex> lock{state.mutex};
    if (!state.watching) {
      std::thread(Watch).detach();
      state.watching = true;
    }
    state.slots.push_back(Slot{clock, static_cast<pid_t>(syscall(SYS_gettid)), {}});
    index = state.slots.size() - 1;
  }
  napi_add_env_cleanup_hook(env, CloseSlot, reinterpret_cast<void*>(index));
  return Number(env, static_cast<uint32_t>(index));
}

// arm(slot, isolateId, cpuStartUs, cpuBudgetUs, wallMs): a slice starts on `slot`'s thread, whose CPU
// clock read `cpuStartUs` (CLOCK_THREAD_CPUTIME_ID); it may use `cpuBudgetUs`, and counts as asleep if
// it uses no CPU once `wallMs` have passed.
napi_value Arm(napi_env env, napi_callback_info info) {
  double args[5];
  if (!Args(env, info, 5, args)) return nullptr;
  std::lock_guard<std::mutex> lock{state.mutex};
  Slot* slot = SlotAt(env, args[0]);
  if (slot == nullptr) return nullptr;
  const auto now = Clock::now();
  Frame frame{};
  frame.isolate_id = static_cast<uint32_t>(args[1]);
  frame.cpu_start_us = args[2];
  frame.cpu_budget_us = args[3];
  frame.wall_deadline = now + std::chrono::microseconds(static_cast<int64_t>(args[4] * 1000));
  frame.last_cpu_us = args[2];
  frame.last_run_wait_ns = 0;
  frame.last_moved = now;
  slot->frames.push_back(frame);
  if (state.parked) {
    state.parked = false;
    state.armed.notify_one();
  }
  return nullptr;
}

// disarm(slot): the innermost slice on `slot` ended. 0: by itself; 1: stopped at its CPU limit;
// 2: stopped asleep.
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

// isolated-vm's NativeModule entry point, run inside a tenant isolate: remember which isolate it is, and
// replace isolated-vm's out-of-memory handler (see the top of the file). Nothing is added to `target`,
// and the host never hands that object to tenant code.
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
