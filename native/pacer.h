#pragma once

#include <napi.h>

// Exports pace(), setPacing() and pacingCounts(): see pacer.cc.
void InitPacer(Napi::Env env, Napi::Object exports);
