#include "value.h"

#include <gst/webrtc/webrtc.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gst_error.h"
#include "object.h"

namespace {

std::string EnumNick(GType type, gint value) {
  auto* klass = static_cast<GEnumClass*>(g_type_class_ref(type));
  GEnumValue* entry = g_enum_get_value(klass, value);
  std::string nick = entry != nullptr ? entry->value_nick : std::to_string(value);
  g_type_class_unref(klass);
  return nick;
}

std::string FlagsNicks(GType type, guint value) {
  auto* klass = static_cast<GFlagsClass*>(g_type_class_ref(type));
  std::string nicks;
  for (guint i = 0; i < klass->n_values; i++) {
    const GFlagsValue& flag = klass->values[i];
    if (flag.value != 0 && (value & flag.value) == flag.value) {
      if (!nicks.empty()) nicks += "+";
      nicks += flag.value_nick;
    }
  }
  g_type_class_unref(klass);
  return nicks;
}

Napi::Value ListToJs(Napi::Env env, const GValue* value) {
  const bool isList = GST_VALUE_HOLDS_LIST(value);
  const guint size = isList ? gst_value_list_get_size(value) : gst_value_array_get_size(value);
  Napi::Array array = Napi::Array::New(env, size);
  for (guint i = 0; i < size; i++) {
    const GValue* item = isList ? gst_value_list_get_value(value, i) : gst_value_array_get_value(value, i);
    array.Set(i, GValueToJs(env, item));
  }
  return array;
}

Napi::Value SerializedToJs(Napi::Env env, const GValue* value) {
  gchar* text = gst_value_serialize(value);
  if (text == nullptr) return env.Null();
  Napi::String result = Napi::String::New(env, text);
  g_free(text);
  return result;
}

Napi::Value BoxedToJs(Napi::Env env, const GValue* value) {
  const GType type = G_VALUE_TYPE(value);
  gpointer boxed = g_value_get_boxed(value);
  if (boxed == nullptr) return env.Null();
  if (type == GST_TYPE_STRUCTURE) return StructureToJs(env, static_cast<const GstStructure*>(boxed));
  if (type == G_TYPE_ERROR) return MakeGstError(env, static_cast<const GError*>(boxed)).Value();
  if (type == GST_TYPE_WEBRTC_SESSION_DESCRIPTION) {
    auto* description = static_cast<const GstWebRTCSessionDescription*>(boxed);
    gchar* sdp = gst_sdp_message_as_text(description->sdp);
    Napi::Object result = Napi::Object::New(env);
    result.Set("type", gst_webrtc_sdp_type_to_string(description->type));
    result.Set("sdp", sdp);
    g_free(sdp);
    return result;
  }
  if (type == GST_TYPE_CAPS) {
    gchar* text = gst_caps_to_string(static_cast<const GstCaps*>(boxed));
    Napi::String result = Napi::String::New(env, text);
    g_free(text);
    return result;
  }
  if (type == G_TYPE_STRV) {
    auto* strings = static_cast<gchar**>(boxed);
    Napi::Array array = Napi::Array::New(env);
    for (uint32_t i = 0; strings[i] != nullptr; i++) array.Set(i, strings[i]);
    return array;
  }
  if (type == G_TYPE_BYTES) {
    gsize size = 0;
    gconstpointer data = g_bytes_get_data(static_cast<GBytes*>(boxed), &size);
    return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(data), size);
  }
  return SerializedToJs(env, value);  // date-times, buffers, ...: GStreamer's own text form
}

int64_t IntegerArg(const Napi::Value& js, const char* what, double min, double max) {
  if (js.IsBigInt()) {
    bool lossless = false;
    int64_t big = js.As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless && big >= min && big <= max) return big;
  } else if (js.IsNumber()) {
    double number = js.As<Napi::Number>().DoubleValue();
    if (std::trunc(number) == number && number >= min && number <= max) return static_cast<int64_t>(number);
  }
  throw Napi::TypeError::New(js.Env(), std::string(what) + ": expected an integer from " + std::to_string(static_cast<int64_t>(min)) +
                                           " to " + std::to_string(static_cast<uint64_t>(max)));
}

double NumberArg(const Napi::Value& js, const char* what) {
  if (!js.IsNumber()) throw Napi::TypeError::New(js.Env(), std::string(what) + ": expected a number");
  return js.As<Napi::Number>().DoubleValue();
}

std::string StringArg(const Napi::Value& js, const char* what) {
  if (!js.IsString()) throw Napi::TypeError::New(js.Env(), std::string(what) + ": expected a string");
  return js.As<Napi::String>().Utf8Value();
}

// GStreamer 1.22 parses caps and structure text by making each structure first
// and checking its name after: an invalid name (`0`, `30/1`) makes GLib print a
// CRITICAL (gst_structure_new_empty: gst_structure_validate_name). So every name
// in the text is checked here first, also those of structures and caps nested in
// quoted `(structure)` / `(caps)` fields.
bool ValidStructureName(const std::string& name) {
  if (name.empty() || !g_ascii_isalpha(name[0])) return false;
  for (char c : name) {
    if (!g_ascii_isalnum(c) && std::string("/-_.:+").find(c) == std::string::npos) return false;
  }
  return true;
}

bool StructureTextNamesValid(const std::string& text, bool caps, int depth = 0) {
  if (depth > 8) return false;
  // Split into structures on ';' outside quotes, and collect nested quoted texts.
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= text.size(); i++) {
    const char c = i < text.size() ? text[i] : ';';
    if (c == '\\' && quoted) {
      i++;
      continue;
    }
    if (c == '"') {
      // A quoted value typed as a structure or caps is parsed as text of its own.
      if (!quoted) {
        const std::string before = text.substr(0, i);
        for (const char* type : {"(structure)", "(GstStructure)", "(caps)", "(GstCaps)"}) {
          const size_t length = strlen(type);
          if (before.size() >= length && before.compare(before.size() - length, length, type) == 0) {
            size_t end = i + 1;
            std::string inner;
            while (end < text.size() && text[end] != '"') {
              if (text[end] == '\\' && end + 1 < text.size()) end++;
              inner += text[end++];
            }
            const bool nestedCaps = type[1] == 'c' || type[4] == 'C';
            if (!StructureTextNamesValid(inner, nestedCaps, depth + 1)) return false;
          }
        }
      }
      quoted = !quoted;
      continue;
    }
    if (c == ';' && !quoted) {
      std::string structure = text.substr(start, i - start);
      start = i + 1;
      const size_t first = structure.find_first_not_of(" \t\r\n");
      if (first == std::string::npos) continue;  // empty: the parser reports it
      std::string name = structure.substr(first, structure.find_first_of(", \t\r\n(", first) - first);
      if (caps && (name == "ANY" || name == "EMPTY" || name == "NONE")) continue;
      if (!ValidStructureName(name)) return false;
    }
  }
  return true;
}

// How deep JS objects may nest inside a structure. The conversion recurses (and
// so do GStreamer's own copy, serialize and free of nested structures); a bound
// keeps a hostile or cyclic object from overflowing the stack.
constexpr size_t kMaxStructureDepth = 32;

// The objects being converted, outermost first: to find cycles and bound depth.
using Ancestors = std::vector<Napi::Object>;

void ConvertJs(const Napi::Value& js, GValue* out, const char* what, Ancestors& ancestors);

// A plain JS object -> GstStructure with fields typed by their JS type.
GstStructure* ObjectToStructure(const Napi::Object& object, const char* what, Ancestors& ancestors) {
  for (const Napi::Object& ancestor : ancestors) {
    if (ancestor.StrictEquals(object)) throw Napi::TypeError::New(object.Env(), std::string(what) + ": the object is cyclic (it contains itself)");
  }
  if (ancestors.size() >= kMaxStructureDepth)
    throw Napi::TypeError::New(object.Env(), std::string(what) + ": objects nested deeper than " + std::to_string(kMaxStructureDepth) + " levels");
  ancestors.push_back(object);
  struct Pop {
    Ancestors& stack;
    ~Pop() { stack.pop_back(); }
  } pop{ancestors};
  GstStructure* structure = gst_structure_new_empty("structure");
  Napi::Array keys = object.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value field = object.Get(key);
    GValue value = G_VALUE_INIT;
    if (field.IsBoolean()) {
      g_value_init(&value, G_TYPE_BOOLEAN);
    } else if (field.IsNumber()) {
      double number = field.As<Napi::Number>().DoubleValue();
      bool isInt = std::trunc(number) == number && std::fabs(number) <= std::numeric_limits<gint>::max();
      g_value_init(&value, isInt ? G_TYPE_INT : G_TYPE_DOUBLE);
    } else if (field.IsString()) {
      g_value_init(&value, G_TYPE_STRING);
    } else if (field.IsObject() && !field.IsArray()) {
      g_value_init(&value, GST_TYPE_STRUCTURE);
    } else {
      gst_structure_free(structure);
      throw Napi::TypeError::New(object.Env(), std::string(what) + "." + key + ": expected a boolean, number, string or object");
    }
    try {
      ConvertJs(field, &value, what, ancestors);
    } catch (...) {
      g_value_unset(&value);
      gst_structure_free(structure);
      throw;
    }
    gst_structure_take_value(structure, key.c_str(), &value);
  }
  return structure;
}

}  // namespace

Napi::Value StructureToJs(Napi::Env env, const GstStructure* structure) {
  Napi::Object object = Napi::Object::New(env);
  const gint count = gst_structure_n_fields(structure);
  for (gint i = 0; i < count; i++) {
    const gchar* name = gst_structure_nth_field_name(structure, i);
    object.Set(name, GValueToJs(env, gst_structure_get_value(structure, name)));
  }
  return object;
}

Napi::Value GValueToJs(Napi::Env env, const GValue* value) {
  if (value == nullptr || !G_IS_VALUE(value)) return env.Undefined();
  const GType type = G_VALUE_TYPE(value);
  if (GST_VALUE_HOLDS_LIST(value) || GST_VALUE_HOLDS_ARRAY(value)) return ListToJs(env, value);
  switch (G_TYPE_FUNDAMENTAL(type)) {
    case G_TYPE_BOOLEAN: return Napi::Boolean::New(env, g_value_get_boolean(value));
    case G_TYPE_CHAR: return Napi::Number::New(env, g_value_get_schar(value));
    case G_TYPE_UCHAR: return Napi::Number::New(env, g_value_get_uchar(value));
    case G_TYPE_INT: return Napi::Number::New(env, g_value_get_int(value));
    case G_TYPE_UINT: return Napi::Number::New(env, g_value_get_uint(value));
    case G_TYPE_LONG: return Napi::Number::New(env, static_cast<double>(g_value_get_long(value)));
    case G_TYPE_ULONG: return Napi::Number::New(env, static_cast<double>(g_value_get_ulong(value)));
    // 64-bit counters (bytes, timestamps) stay exact as Numbers up to 2^53.
    case G_TYPE_INT64: return Napi::Number::New(env, static_cast<double>(g_value_get_int64(value)));
    case G_TYPE_UINT64: return Napi::Number::New(env, static_cast<double>(g_value_get_uint64(value)));
    case G_TYPE_FLOAT: return Napi::Number::New(env, g_value_get_float(value));
    case G_TYPE_DOUBLE: return Napi::Number::New(env, g_value_get_double(value));
    case G_TYPE_STRING: {
      const gchar* text = g_value_get_string(value);
      return text != nullptr ? Napi::String::New(env, text) : env.Null();
    }
    case G_TYPE_ENUM: return Napi::String::New(env, EnumNick(type, g_value_get_enum(value)));
    case G_TYPE_FLAGS: return Napi::String::New(env, FlagsNicks(type, g_value_get_flags(value)));
    case G_TYPE_OBJECT: {
      gpointer object = g_value_get_object(value);
      return object != nullptr ? NativeObject::New(env, G_OBJECT(object)) : env.Null();
    }
    case G_TYPE_BOXED: return BoxedToJs(env, value);
    default: return SerializedToJs(env, value);
  }
}

void JsToGValue(const Napi::Value& js, GValue* out, const char* what) {
  Ancestors ancestors;
  ConvertJs(js, out, what, ancestors);
}

namespace {

void ConvertJs(const Napi::Value& js, GValue* out, const char* what, Ancestors& ancestors) {
  Napi::Env env = js.Env();
  const GType type = G_VALUE_TYPE(out);
  switch (G_TYPE_FUNDAMENTAL(type)) {
    case G_TYPE_BOOLEAN:
      RequireType(env, js.IsBoolean(), (std::string(what) + ": expected a boolean").c_str());
      g_value_set_boolean(out, js.As<Napi::Boolean>().Value());
      return;
    case G_TYPE_INT: g_value_set_int(out, IntegerArg(js, what, G_MININT, G_MAXINT)); return;
    case G_TYPE_UINT: g_value_set_uint(out, IntegerArg(js, what, 0, G_MAXUINT)); return;
    case G_TYPE_LONG: g_value_set_long(out, IntegerArg(js, what, G_MINLONG, G_MAXLONG)); return;
    case G_TYPE_ULONG: g_value_set_ulong(out, IntegerArg(js, what, 0, 9007199254740991.0)); return;
    case G_TYPE_INT64: g_value_set_int64(out, IntegerArg(js, what, -9007199254740991.0, 9007199254740991.0)); return;
    case G_TYPE_UINT64:
      // A BigInt reaches the whole range (GST_CLOCK_TIME_NONE is G_MAXUINT64); a number, what it holds exactly.
      if (js.IsBigInt()) {
        bool lossless = false;
        uint64_t big = js.As<Napi::BigInt>().Uint64Value(&lossless);
        if (!lossless) throw Napi::TypeError::New(js.Env(), std::string(what) + ": expected an integer from 0 to 18446744073709551615");
        g_value_set_uint64(out, big);
        return;
      }
      g_value_set_uint64(out, IntegerArg(js, what, 0, 9007199254740991.0));
      return;
    case G_TYPE_FLOAT: g_value_set_float(out, static_cast<float>(NumberArg(js, what))); return;
    case G_TYPE_DOUBLE: g_value_set_double(out, NumberArg(js, what)); return;
    case G_TYPE_STRING:
      if (js.IsNull() || js.IsUndefined()) g_value_set_string(out, nullptr);
      else g_value_set_string(out, StringArg(js, what).c_str());
      return;
    case G_TYPE_ENUM: {
      auto* klass = static_cast<GEnumClass*>(g_type_class_ref(type));
      const GEnumValue* entry = nullptr;
      if (js.IsNumber()) entry = g_enum_get_value(klass, js.As<Napi::Number>().Int32Value());
      else if (js.IsString()) {
        std::string name = js.As<Napi::String>().Utf8Value();
        entry = g_enum_get_value_by_nick(klass, name.c_str());
        if (entry == nullptr) entry = g_enum_get_value_by_name(klass, name.c_str());
      }
      std::string choices;
      for (guint i = 0; entry == nullptr && i < klass->n_values; i++) choices += std::string(i ? ", '" : "'") + klass->values[i].value_nick + "'";
      if (entry != nullptr) g_value_set_enum(out, entry->value);
      g_type_class_unref(klass);
      if (entry == nullptr) throw Napi::TypeError::New(env, std::string(what) + ": expected one of " + choices);
      return;
    }
    case G_TYPE_OBJECT: {
      // A GstObject's parent is set by the bin that adds it; setting the property
      // makes GLib print a CRITICAL (gst_object_set_parent; found by the fuzzer).
      if (strcmp(what, "parent") == 0 && type == GST_TYPE_OBJECT)
        throw Napi::TypeError::New(env, "parent: set by the bin an element is added to, not by set()");
      if (js.IsNull() || js.IsUndefined()) {
        g_value_set_object(out, nullptr);
        return;
      }
      ObjectRef object = NativeObject::From(js);
      RequireType(env, object != nullptr && G_TYPE_CHECK_INSTANCE_TYPE(object.get(), type),
                  (std::string(what) + ": expected a " + g_type_name(type)).c_str());
      g_value_set_object(out, object.get());
      return;
    }
    default: break;
  }
  if (type == GST_TYPE_CAPS) {
    if (js.IsNull() || js.IsUndefined()) {
      gst_value_set_caps(out, nullptr);
      return;
    }
    const std::string text = StringArg(js, what);
    if (!StructureTextNamesValid(text, true)) throw Napi::TypeError::New(env, std::string(what) + ": not valid caps (a structure name must start with a letter): " + text);
    GstCaps* caps = gst_caps_from_string(text.c_str());
    if (caps == nullptr) throw Napi::TypeError::New(env, std::string(what) + ": not valid caps: " + js.As<Napi::String>().Utf8Value());
    g_value_take_boxed(out, caps);
    return;
  }
  if (type == GST_TYPE_STRUCTURE && js.IsObject()) {
    g_value_take_boxed(out, ObjectToStructure(js.As<Napi::Object>(), what, ancestors));
    return;
  }
  // Flags ("a+b"), structures as text, fractions ("30/1") and the rest: GStreamer's own parser.
  std::string text = js.IsString() ? js.As<Napi::String>().Utf8Value() : js.ToString().Utf8Value();
  if (type == GST_TYPE_STRUCTURE && !StructureTextNamesValid(text, false))
    throw Napi::TypeError::New(env, std::string(what) + ": cannot convert '" + text + "' to GstStructure (its name must start with a letter)");
  if (!gst_value_deserialize(out, text.c_str()))
    throw Napi::TypeError::New(env, std::string(what) + ": cannot convert '" + text + "' to " + g_type_name(type));
}

}  // namespace
