{
  "targets": [
    {
      "target_name": "thread_cpu",
      "sources": [
        "native/thread-cpu.c"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ]
    },
    {
      "target_name": "isolate_watchdog",
      "sources": [
        "native/isolate-watchdog.cc"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ]
    }
  ]
}
