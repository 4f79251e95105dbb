// binElements(bin) -> NativeObject[]: every element inside a bin, at any depth
// (gst_bin_iterate_recurse). The library finds what it tunes inside the bins it
// owns with it: the RTP sessions inside a webrtcbin's rtpbin, the decoders of a
// track's branch. Each step takes the bin's object lock for a moment only.
#include <gst/gst.h>
#include <napi.h>

#include "args.h"
#include "bin_elements.h"
#include "object.h"

namespace {

Napi::Value BinElements(const Napi::CallbackInfo& info) {
  ObjectRef bin = ElementArg(info[0], "bin");
  if (!GST_IS_BIN(bin.get())) throw Napi::TypeError::New(info.Env(), "bin: expected a bin");
  Napi::Array result = Napi::Array::New(info.Env());
  GstIterator* iterator = gst_bin_iterate_recurse(GST_BIN(bin.get()));
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next(iterator, &item)) {
      case GST_ITERATOR_OK:
        result.Set(result.Length(), NativeObject::New(info.Env(), G_OBJECT(g_value_get_object(&item))));
        g_value_reset(&item);
        break;
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync(iterator);
        result = Napi::Array::New(info.Env());
        break;
      default: done = true; break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(iterator);
  return result;
}

}  // namespace

void InitBinElements(Napi::Env env, Napi::Object exports) {
  exports.Set("binElements", Napi::Function::New<BinElements>(env, "binElements"));
}
