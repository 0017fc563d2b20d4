// Per-thread clock and timer slack for the serving threads.
//
// threadCpuUs: CPU time of the calling thread from CLOCK_THREAD_CPUTIME_ID, in microseconds (fractional).
// Node's process.threadCpuUsage() uses getrusage(RUSAGE_THREAD), which on tick-accounting kernels only
// advances in whole scheduler ticks (4 ms here): too coarse to meter one invocation.
//
// setTimerSlackNs: prctl(PR_SET_TIMERSLACK) for the calling thread, inherited by threads it creates.
// The slice watchdog's thread, created from a serving thread, wakes every millisecond while slices run;
// a coarser slack lets the kernel batch those wake-ups (see src/limits/thread-cpu.ts).
#include <node_api.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static napi_value ThreadCpuUs(napi_env env, napi_callback_info info) {
  struct timespec ts;
  napi_value result;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
    napi_throw_error(env, "ISO_ERR_INTERNAL", "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    return NULL;
  }
  napi_create_double(env, (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3, &result);
  return result;
}

static napi_value SetTimerSlackNs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double ns = 0;
  napi_value result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_double(env, argv[0], &ns) != napi_ok || ns < 1) {
    napi_throw_type_error(env, "ISO_ERR_INTERNAL", "setTimerSlackNs takes a positive number of nanoseconds");
    return NULL;
  }
#ifdef __linux__
  napi_get_boolean(env, prctl(PR_SET_TIMERSLACK, (unsigned long)ns, 0, 0, 0) == 0, &result);
#else
  napi_get_boolean(env, 0, &result);
#endif
  return result;
}

// Context-aware (NAPI_MODULE_INIT), so every serving thread can load it.
NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "threadCpuUs", NAPI_AUTO_LENGTH, ThreadCpuUs, NULL, &fn);
  napi_set_named_property(env, exports, "threadCpuUs", fn);
  napi_create_function(env, "setTimerSlackNs", NAPI_AUTO_LENGTH, SetTimerSlackNs, NULL, &fn);
  napi_set_named_property(env, exports, "setTimerSlackNs", fn);
  return exports;
}
