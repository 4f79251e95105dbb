#pragma once

#include <napi.h>

// Exports binElements(): see bin_elements.cc.
void InitBinElements(Napi::Env env, Napi::Object exports);
