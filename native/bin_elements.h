#pragma once

#include <gst/gst.h>
#include <napi.h>

// Exports binElements(): see bin_elements.cc.
void InitBinElements(Napi::Env env, Napi::Object exports);

// Every element inside `bin`, at any depth; only those made by `factory` unless it is null.
Napi::Array BinElementsOf(Napi::Env env, GstBin* bin, const char* factory = nullptr);
