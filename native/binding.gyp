{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-O3", "-ffunction-sections", "-fdata-sections", "-fvisibility=hidden"],
    "ldflags": ["-Wl,--gc-sections"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"]
  },
  "targets": [
    { "target_name": "tun", "sources": ["tun.cc"], "cflags_cc": ["-Os"] },
    { "target_name": "xsalsa20", "sources": ["xsalsa20.cc"] },
    { "target_name": "aead", "sources": ["aead.cc"] }
  ]
}
