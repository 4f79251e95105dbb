#pragma once

#include <napi.h>

// Exports limitKeyframeRequests() and keyframeRequestCounts(): see keyframe_requests.cc.
void InitKeyframeRequests(Napi::Env env, Napi::Object exports);
