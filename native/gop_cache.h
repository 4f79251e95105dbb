// GOP cache: the last keyframe of a compressed video stream and every frame
// after it, kept on a pad (a fan-out's tee input), so that a viewer who joins
// late starts from that keyframe at once instead of waiting for the source's
// next one. Nothing is decoded or encoded: the same buffers are pushed again.
#pragma once

#include <napi.h>

// exports.gopCacheAttach(pad, maxBytes), exports.gopCacheReplay(cachePad, targetPad),
// exports.gopCacheStats(pad): see gop_cache.cc.
void InitGopCache(Napi::Env env, Napi::Object exports);
