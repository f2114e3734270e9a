{
  "targets": [
    {
      "target_name": "tsv_native",
      "sources": ["src/tsv_native.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
