#include "object.h"

#include "addon.h"
#include "args.h"
#include "gst_error.h"
#include "value.h"

void NativeObject::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(env, "NativeObject",
                                           {
                                               InstanceMethod<&NativeObject::Get>("get", kMethod),
                                               InstanceMethod<&NativeObject::Set>("set", kMethod),
                                               InstanceMethod<&NativeObject::PropertyNames>("propertyNames", kMethod),
                                               InstanceMethod<&NativeObject::Is>("is", kMethod),
                                               InstanceAccessor<&NativeObject::TypeName>("typeName", kAccessor),
                                               InstanceAccessor<&NativeObject::Name>("name", kAccessor),
                                               InstanceAccessor<&NativeObject::FactoryName>("factoryName", kAccessor),
                                           });
  AddonData::Of(env)->objectConstructor = Napi::Persistent(constructor);
  exports.Set("NativeObject", constructor);
}

Napi::Object NativeObject::New(Napi::Env env, GObject* object) {
  return AddonData::Of(env)->objectConstructor.New({Napi::External<GObject>::New(env, object)});
}

Napi::Object NativeObject::NewPending(Napi::Env env, std::shared_ptr<ObjectSlot> slot) {
  Napi::Object handle = New(env, nullptr);
  Unwrap(handle)->pending_ = std::move(slot);
  return handle;
}

ObjectFuture NativeObject::Future(const Napi::Value& value, const char* what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(AddonData::Of(env)->objectConstructor.Value()))
    throw Napi::TypeError::New(env, std::string(what) + ": expected a GStreamer object");
  NativeObject* self = Unwrap(value.As<Napi::Object>());
  if (self->pending_ != nullptr && !self->pending_->Settled()) return ObjectFuture{nullptr, self->pending_};
  return ObjectFuture{Share(self->Object(env)), nullptr};
}

void ObjectSlot::Fill(gpointer object) {
  std::lock_guard<std::mutex> lock(mutex_);
  g_weak_ref_set(&ref_, object);
  done_ = true;
  settled_.notify_all();
}

void ObjectSlot::Fail(const GError* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  error_ = g_error_copy(error);
  done_ = true;
  settled_.notify_all();
}

ObjectRef ObjectSlot::Wait(GError** error) {
  std::unique_lock<std::mutex> lock(mutex_);
  settled_.wait(lock, [this] { return done_; });
  if (error_ != nullptr) {
    *error = g_error_copy(error_);
    return nullptr;
  }
  return ObjectRef(static_cast<GObject*>(g_weak_ref_get(&ref_)));
}

bool ObjectSlot::Settled() {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

ObjectRef NativeObject::From(const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  Napi::Env env = value.Env();
  if (!value.As<Napi::Object>().InstanceOf(AddonData::Of(env)->objectConstructor.Value())) return nullptr;
  return Unwrap(value.As<Napi::Object>())->Object(env);
}

NativeObject::NativeObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeObject>(info) {
  // Only native code creates these (through New), passing the object as an External.
  g_weak_ref_init(&ref_, nullptr);
  RequireType(info.Env(), info.Length() == 1 && info[0].IsExternal(), "NativeObject cannot be constructed from JS");
  g_weak_ref_set(&ref_, info[0].As<Napi::External<GObject>>().Data());  // null for a pending handle (NewPending)
  napi_type_tag_object(info.Env(), info.This(), &kTypeTag);
}

NativeObject::~NativeObject() { g_weak_ref_clear(&ref_); }

ObjectRef NativeObject::Object(Napi::Env env) const {
  if (pending_ != nullptr) {
    // Used synchronously while a queued task creates it: wait (documented).
    GError* error = nullptr;
    ObjectRef created = pending_->Wait(&error);
    if (error != nullptr) {
      Napi::Error jsError = MakeGstError(env, error);
      g_error_free(error);
      throw jsError;
    }
    g_weak_ref_set(const_cast<GWeakRef*>(&ref_), created.get());
    pending_.reset();
  }
  auto* object = static_cast<GObject*>(g_weak_ref_get(const_cast<GWeakRef*>(&ref_)));
  if (object == nullptr) throw MakeGstError(env, "the object no longer exists: its pipeline was closed or it was removed", ErrorCode::Closed);
  return ObjectRef(object);
}

GParamSpec* NativeObject::FindProperty(GObject* object, const Napi::Value& name, std::string* nameOut) {
  RequireType(name.Env(), name.IsString(), "property name must be a string");
  *nameOut = name.As<Napi::String>().Utf8Value();
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(object), nameOut->c_str());
  if (spec == nullptr)
    throw Napi::TypeError::New(name.Env(), std::string(G_OBJECT_TYPE_NAME(object)) + " has no property '" + *nameOut + "'");
  return spec;
}

Napi::Value NativeObject::Get(const Napi::CallbackInfo& info) {
  ObjectRef object = Object(info.Env());
  std::string name;
  GParamSpec* spec = FindProperty(object.get(), info[0], &name);
  if ((spec->flags & G_PARAM_READABLE) == 0) throw Napi::TypeError::New(info.Env(), "property '" + name + "' is not readable");
  GValue value = G_VALUE_INIT;
  g_value_init(&value, spec->value_type);
  g_object_get_property(object.get(), name.c_str(), &value);
  Napi::Value result = GValueToJs(info.Env(), &value);
  g_value_unset(&value);
  return result;
}

void NativeObject::Set(const Napi::CallbackInfo& info) {
  ObjectRef object = Object(info.Env());
  std::string name;
  GParamSpec* spec = FindProperty(object.get(), info[0], &name);
  if ((spec->flags & G_PARAM_WRITABLE) == 0 || (spec->flags & G_PARAM_CONSTRUCT_ONLY) != 0)
    throw Napi::TypeError::New(info.Env(), "property '" + name + "' is not writable");
  GValue value = G_VALUE_INIT;
  g_value_init(&value, spec->value_type);
  try {
    JsToGValue(info[1], &value, name.c_str());
  } catch (...) {
    g_value_unset(&value);
    throw;
  }
  g_object_set_property(object.get(), name.c_str(), &value);
  g_value_unset(&value);
}

Napi::Value NativeObject::PropertyNames(const Napi::CallbackInfo& info) {
  guint count = 0;
  GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(Object(info.Env()).get()), &count);
  Napi::Array names = Napi::Array::New(info.Env(), count);
  for (guint i = 0; i < count; i++) names.Set(i, g_param_spec_get_name(specs[i]));
  g_free(specs);
  return names;
}

Napi::Value NativeObject::Is(const Napi::CallbackInfo& info) {
  RequireType(info.Env(), info[0].IsString(), "type name must be a string");
  GType type = g_type_from_name(info[0].As<Napi::String>().Utf8Value().c_str());
  return Napi::Boolean::New(info.Env(), type != 0 && G_TYPE_CHECK_INSTANCE_TYPE(Object(info.Env()).get(), type));
}

Napi::Value NativeObject::TypeName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), G_OBJECT_TYPE_NAME(Object(info.Env()).get()));
}

Napi::Value NativeObject::Name(const Napi::CallbackInfo& info) {
  ObjectRef object = Object(info.Env());
  if (!GST_IS_OBJECT(object.get())) return info.Env().Null();
  gchar* name = gst_object_get_name(GST_OBJECT(object.get()));
  Napi::Value result = name != nullptr ? Napi::String::New(info.Env(), name) : info.Env().Null();
  g_free(name);
  return result;
}

Napi::Value NativeObject::FactoryName(const Napi::CallbackInfo& info) {
  ObjectRef object = Object(info.Env());
  if (!GST_IS_ELEMENT(object.get())) return info.Env().Null();
  GstElementFactory* factory = gst_element_get_factory(GST_ELEMENT(object.get()));
  if (factory == nullptr) return info.Env().Null();
  return Napi::String::New(info.Env(), GST_OBJECT_NAME(factory));
}
