{
  "targets": [
    {
      "target_name": "thread_cpu",
      "sources": ["native/thread-cpu.c"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
