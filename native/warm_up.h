#pragma once

#include <napi.h>

// Exports warmUp(): see warm_up.cc.
void InitWarmUp(Napi::Env env, Napi::Object exports);
