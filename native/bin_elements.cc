// binElements(bin) -> NativeObject[]: every element inside a bin, at any depth
// (gst_bin_iterate_recurse). The library finds what it tunes inside the bins it
// owns with it: the RTP sessions inside a webrtcbin's rtpbin, the decoders of a
// track's branch. Each step takes the bin's object lock for a moment only.
#include <gst/gst.h>
#include <napi.h>

#include "args.h"
#include "bin_elements.h"
#include "object.h"

Napi::Array BinElementsOf(Napi::Env env, GstBin* bin, const char* factory) {
  Napi::Array result = Napi::Array::New(env);
  GstIterator* iterator = gst_bin_iterate_recurse(bin);
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next(iterator, &item)) {
      case GST_ITERATOR_OK: {
        auto* element = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory* made = gst_element_get_factory(element);
        if (factory == nullptr || (made != nullptr && g_strcmp0(factory, GST_OBJECT_NAME(made)) == 0))
          result.Set(result.Length(), NativeObject::New(env, G_OBJECT(element)));
        g_value_reset(&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync(iterator);
        result = Napi::Array::New(env);
        break;
      default: done = true; break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(iterator);
  return result;
}

namespace {

Napi::Value BinElements(const Napi::CallbackInfo& info) {
  ObjectRef bin = ElementArg(info[0], "bin");
  if (!GST_IS_BIN(bin.get())) throw Napi::TypeError::New(info.Env(), "bin: expected a bin");
  return BinElementsOf(info.Env(), GST_BIN(bin.get()));
}

}  // namespace

void InitBinElements(Napi::Env env, Napi::Object exports) {
  exports.Set("binElements", Napi::Function::New<BinElements>(env, "binElements"));
}
