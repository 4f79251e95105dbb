// NativeObject: a JS handle on any GObject (element, pad, transceiver, data
// channel) that reads and writes its properties as plain JS values.
//
// The handle holds a weak reference: everything it points to is owned by a
// pipeline, so closing the pipeline frees elements, sockets and threads at once
// instead of whenever JS garbage collection gets to the handles. Using a handle
// whose object is gone throws.
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include <condition_variable>
#include <memory>
#include <mutex>

struct ObjectUnref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
// A strong reference for the duration of a call.
using ObjectRef = std::unique_ptr<GObject, ObjectUnref>;
// A reference a queued task carries to the control thread (copyable, as
// std::function needs); released wherever the last copy goes, normally there.
using SharedObject = std::shared_ptr<GObject>;
inline SharedObject Share(ObjectRef ref) { return SharedObject(std::move(ref)); }
inline SharedObject ShareNew(gpointer object) { return SharedObject(G_OBJECT(g_object_ref(object)), ObjectUnref()); }

// An object a queued task creates later, on a pipeline's control thread (an
// element being made and added). The JS handle exists at once; tasks queued
// after the creation find the object here, and the JS thread, should it use the
// handle synchronously before then, waits for it (the one wait documented in
// docs/threads.md). Holds a weak reference, as handles do: the bin owns it.
class ObjectSlot {
 public:
  ObjectSlot() { g_weak_ref_init(&ref_, nullptr); }
  ~ObjectSlot() {
    g_weak_ref_clear(&ref_);
    if (error_ != nullptr) g_error_free(error_);
  }
  ObjectSlot(const ObjectSlot&) = delete;
  ObjectSlot& operator=(const ObjectSlot&) = delete;

  // Control thread: the object exists (weakly referenced).
  void Fill(gpointer object);
  // Control thread: it could not be made; keeps a copy of `error`.
  void Fail(const GError* error);
  // Any thread: waits until filled or failed. A strong reference, or null with
  // *error set to a copy of the failure (or left null when the object is gone).
  ObjectRef Wait(GError** error);
  bool Settled();

 private:
  std::mutex mutex_;
  std::condition_variable settled_;
  bool done_ = false;
  GWeakRef ref_;
  GError* error_ = nullptr;
};

// What a queued task captures for a handle's object: the object itself, or the
// slot of one being created by an earlier task on the same thread (or one the
// task waits behind, such as a webrtcbin's actions after the pipeline barrier).
struct ObjectFuture {
  SharedObject ready;
  std::shared_ptr<ObjectSlot> slot;
  // On the thread the task runs on: the object, or null when its creation failed
  // or it is gone.
  SharedObject Get() const {
    if (ready != nullptr || slot == nullptr) return ready;
    GError* error = nullptr;
    ObjectRef object = slot->Wait(&error);
    if (error != nullptr) g_error_free(error);
    return object == nullptr ? nullptr : Share(std::move(object));
  }
};

class NativeObject : public Napi::ObjectWrap<NativeObject> {
 public:
  // Marks NativeObject handles, so that another addon of this package (the
  // benchmarks' bench_addon.cc) can recognise them: napi_unwrap works across
  // addons, the addon's own class checks do not.
  static constexpr napi_type_tag kTypeTag = {0x6773742d7765627aULL, 0x4e61746976654f62ULL};

  // For that other addon: a strong reference to the object of a tagged handle,
  // or null (not a NativeObject, or its object is gone).
  static ObjectRef FromTagged(napi_env env, napi_value value) {
    bool tagged = false;
    void* wrapped = nullptr;
    if (napi_check_object_type_tag(env, value, &kTypeTag, &tagged) != napi_ok || !tagged) return nullptr;
    if (napi_unwrap(env, value, &wrapped) != napi_ok || wrapped == nullptr) return nullptr;
    return ObjectRef(static_cast<GObject*>(g_weak_ref_get(&static_cast<NativeObject*>(wrapped)->ref_)));
  }

  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object New(Napi::Env env, GObject* object);
  // A handle on an object a queued task is still creating (see ObjectSlot).
  static Napi::Object NewPending(Napi::Env env, std::shared_ptr<ObjectSlot> slot);
  // For a queued task: the handle's object, or its slot while it is being
  // created; never waits. Throws TypeError for anything but a NativeObject.
  static ObjectFuture Future(const Napi::Value& value, const char* what);
  // A strong reference to the object of a NativeObject handle; null for any other
  // value. Throws if the object no longer exists.
  static ObjectRef From(const Napi::Value& value);

  explicit NativeObject(const Napi::CallbackInfo& info);
  ~NativeObject() override;

 private:
  ObjectRef Object(Napi::Env env) const;
  Napi::Value Get(const Napi::CallbackInfo& info);
  void Set(const Napi::CallbackInfo& info);
  Napi::Value PropertyNames(const Napi::CallbackInfo& info);
  Napi::Value TypeName(const Napi::CallbackInfo& info);
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value FactoryName(const Napi::CallbackInfo& info);
  Napi::Value Is(const Napi::CallbackInfo& info);
  GParamSpec* FindProperty(GObject* object, const Napi::Value& name, std::string* nameOut);

  GWeakRef ref_;
  // Set while the object is being created; cleared (ref_ set) once JS has used it after that.
  mutable std::shared_ptr<ObjectSlot> pending_;
};
