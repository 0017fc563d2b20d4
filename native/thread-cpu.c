// CPU time of the calling thread from CLOCK_THREAD_CPUTIME_ID, in microseconds (fractional).
// Node's process.threadCpuUsage() uses getrusage(RUSAGE_THREAD), which on tick-accounting kernels only
// advances in whole scheduler ticks (4 ms here): too coarse to meter one invocation.
#include <node_api.h>
#include <time.h>

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

// Context-aware (NAPI_MODULE_INIT), so every executor worker thread can load it.
NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "threadCpuUs", NAPI_AUTO_LENGTH, ThreadCpuUs, NULL, &fn);
  napi_set_named_property(env, exports, "threadCpuUs", fn);
  return exports;
}
