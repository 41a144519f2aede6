// dreamfx-hostsupport-host: a headless OFX host built on the official ASWF HostSupport library
// (third_party/openfx/HostSupport, the host code Natron is built on). It is the second,
// independent host of dreamfx's tests: the project's own test host (tests/src) was written by the
// same hands as the plug-in and may share their mistakes; here HostSupport decides what is valid
// (it refuses property names the standard does not define, checks statuses, fills in its own
// defaults) and this file only supplies what the library leaves to a host:
// clips with pixels, parameter values with keyframes, project settings, messages.
//
// Build: scripts/build-hostsupport-host.sh -> target/hostsupport/dreamfx-hostsupport-host.
// Used by tests/tests/hostsupport.rs.
//
// Usage:
//   dreamfx-hostsupport-host describe PLUGIN_DIR
//       Loads every plug-in in PLUGIN_DIR (a folder holding *.ofx.bundle; only plug-ins there are
//       described, whatever OFX_PLUGIN_PATH says), describes it and describes it in every context
//       it declares. Prints one JSON object per line:
//         {"kind":"plugin","id":..,"version":[maj,min],"bundle":..,"props":{..}}
//         {"kind":"context","plugin":..,"context":..,"props":{..}}
//         {"kind":"clip","plugin":..,"context":..,"name":..,"props":{..}}
//         {"kind":"param","plugin":..,"context":..,"name":..,"type":..,"props":{..}}
//         {"kind":"error","plugin":..,"message":..}
//       "props" holds every property HostSupport has on the descriptor (pointers left out):
//       string properties as arrays of strings, int and double ones as arrays of numbers.
//   dreamfx-hostsupport-host render PLUGIN_DIR --plugin ID --size WxH --source DIR
//       --frames FIRST:LAST --depth byte|short|float --render T[,T...] --out DIR
//       [--context filter|general] [--fps FPS] [--set NAME=VALUE]... [--key NAME@TIME=VALUE]...
//       Creates an instance of ID, connects its Source clip to the frames DIR/<t>.rgba for
//       t = FIRST..LAST (raw native-endian f32 RGBA, rows top-down, W*H*4 values; the host
//       converts them to the clip's depth), sets parameters as a user would (--set: a static
//       value, or a press for a push button; --key: a keyframe, through the parameter
//       instance's value-at-time API, as paramSetValueAtTime does; each followed by the
//       instance-changed actions), runs the clip preferences, then renders each time T of
//       --render between begin/end sequence render (region of definition, frames needed,
//       regions of interest and is-identity first, as a host does; where the plug-in says it is
//       the identity, the host copies that clip's frame instead of rendering) and writes the
//       Output image to DIR/<depth>-<T>.rgba (raw, rows top-down, RGBA in the rendered depth:
//       u8, native u16 or native f32). Prints JSON lines of what happened: "clip_preferences",
//       "rod", "frames_needed", "roi", "identity", "fetch" (every image the plug-in asked for,
//       with its time), "render" (with the status), "output", "message",
//       "persistent_message", "progress_start", "param_changed_by_plugin", "error",
//       "images_outstanding" (images never released; must be 0).
// Exit status: 0 when everything succeeded, 1 on any failure (a JSON "error" line says what, with
// the OFX status where there is one), 2 on bad arguments.
//
// Every OFX name below comes from the official headers' macros (kOfx...).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ofxCore.h"
#include "ofxImageEffect.h"

// HostSupport's headers depend on this order.
#include "ofxhBinary.h"
#include "ofxhPropertySuite.h"
#include "ofxhClip.h"
#include "ofxhParam.h"
#include "ofxhMemory.h"
#include "ofxhImageEffect.h"
#include "ofxhPluginAPICache.h"
#include "ofxhPluginCache.h"
#include "ofxhHost.h"
#include "ofxhImageEffectAPI.h"
#include "ofxhUtilities.h"

namespace OH = OFX::Host;
namespace OE = OFX::Host::ImageEffect;
namespace OP = OFX::Host::Param;

namespace {

// ---------------------------------------------------------------------------------------------
// JSON lines on stdout

std::string jstr(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += char(c);
        }
    }
  }
  return o + "\"";
}

// Doubles with every digit, so that a test can compare them exactly; JSON has no inf/nan.
std::string jnum(double v) {
  if (!std::isfinite(v)) return "null";
  char b[40];
  snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// Every property of a set, pointers left out (they mean nothing outside this process).
std::string propsJson(const OH::Property::Set& set) {
  std::string o = "{";
  bool first = true;
  for (const auto& kv : set.getProperties()) {
    OH::Property::Property* p = kv.second;
    std::string vals;
    if (auto* s = dynamic_cast<OH::Property::String*>(p)) {
      for (const std::string& v : s->getValues()) vals += (vals.empty() ? "" : ",") + jstr(v);
    } else if (auto* i = dynamic_cast<OH::Property::Int*>(p)) {
      for (int v : i->getValues()) vals += (vals.empty() ? "" : ",") + std::to_string(v);
    } else if (auto* d = dynamic_cast<OH::Property::Double*>(p)) {
      for (double v : d->getValues()) vals += (vals.empty() ? "" : ",") + jnum(v);
    } else {
      continue;
    }
    o += (first ? "" : ",") + jstr(kv.first) + ":[" + vals + "]";
    first = false;
  }
  return o + "}";
}

void emit(const std::string& line) { std::cout << line << std::endl; }

int gFailures = 0;

void error(const std::string& message) {
  emit("{\"kind\":\"error\",\"message\":" + jstr(message) + "}");
  ++gFailures;
}

std::string stat(OfxStatus s) { return OFX::StatStr(s); }

bool ok(OfxStatus s) { return s == kOfxStatOK || s == kOfxStatReplyDefault; }

std::string vformat(const char* format, va_list args) {
  char text[4096];
  vsnprintf(text, sizeof text, format ? format : "", args);
  return text;
}

// ---------------------------------------------------------------------------------------------
// What the render command connects the instance to.

struct Setup {
  int width = 0, height = 0;
  double first = 0, last = -1, fps = 24;
  std::string depth;                       // kOfxBitDepth... of the Source clip
  std::vector<std::vector<float>> frames;  // Source frames first..last, RGBA f32 top-down
  double time = 0;                         // the host's current time
};

size_t bytesPerComponent(const std::string& depth) {
  if (depth == kOfxBitDepthByte) return 1;
  if (depth == kOfxBitDepthShort) return 2;
  if (depth == kOfxBitDepthFloat) return 4;
  return 0;
}

// Live images, to check at the end that the plug-in released every image it fetched.
int gLiveImages = 0;

// An image that owns its pixels: RGBA, rows bottom-up with positive row bytes (OFX's y points
// up), in the clip's current depth (set by the clip preferences).
class OwnedImage : public OE::Image {
 public:
  OwnedImage(OE::ClipInstance& clip, int w, int h, const std::string& uid)
      : OE::Image(clip), _pixels(size_t(w) * h * 4 * bytesPerComponent(clip.getPixelDepth())) {
    OfxRectI r = {0, 0, w, h};
    int rowBytes = int(size_t(w) * 4 * bytesPerComponent(clip.getPixelDepth()));
    // The same properties Image's full constructor sets; done here because the data pointer
    // belongs to this object.
    setDoubleProperty(kOfxImageEffectPropRenderScale, 1.0, 0);
    setDoubleProperty(kOfxImageEffectPropRenderScale, 1.0, 1);
    setIntPropertyN(kOfxImagePropBounds, &r.x1, 4);
    setIntPropertyN(kOfxImagePropRegionOfDefinition, &r.x1, 4);
    setIntProperty(kOfxImagePropRowBytes, rowBytes);
    setStringProperty(kOfxImagePropField, kOfxImageFieldNone);
    setStringProperty(kOfxImagePropUniqueIdentifier, uid);
    setPointerProperty(kOfxImagePropData, _pixels.empty() ? nullptr : &_pixels[0]);
    _w = w;
    _h = h;
    _depth = clip.getPixelDepth();
    ++gLiveImages;
  }
  ~OwnedImage() override { --gLiveImages; }
  int references() const { return _referenceCount; }

  // From/to RGBA f32 with rows top-down. Byte and short use the same rounding as the
  // project's test host (round half away from zero of clamp(v) * max), so both hosts hand the
  // plug-in the same bytes.
  void fill(const std::vector<float>& topDown) {
    for (int y = 0; y < _h; ++y) {
      const float* src = &topDown[size_t(_h - 1 - y) * _w * 4];
      for (int i = 0; i < _w * 4; ++i) put(size_t(y) * _w * 4 + i, src[i]);
    }
  }
  std::vector<unsigned char> rawTopDown() const {
    size_t row = size_t(_w) * 4 * bytesPerComponent(_depth);
    std::vector<unsigned char> out(row * _h);
    for (int y = 0; y < _h; ++y)
      if (row) memcpy(&out[(_h - 1 - y) * row], &_pixels[y * row], row);
    return out;
  }

 private:
  void put(size_t i, float v) {
    float c = v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
    if (_depth == kOfxBitDepthByte) {
      _pixels[i] = (unsigned char)std::round(c * 255.0f);
    } else if (_depth == kOfxBitDepthShort) {
      unsigned short s = (unsigned short)std::round(c * 65535.0f);
      memcpy(&_pixels[i * 2], &s, 2);
    } else {
      memcpy(&_pixels[i * 4], &v, 4);
    }
  }
  std::vector<unsigned char> _pixels;
  int _w = 0, _h = 0;
  std::string _depth;
};

class Effect;

// A clip: Source hands out the frame for the time asked (temporal access), Output the image of
// the render in progress.
class Clip : public OE::ClipInstance {
 public:
  Clip(Effect* effect, OE::ClipDescriptor* desc);
  const std::string& getUnmappedBitDepth() const override;
  const std::string& getUnmappedComponents() const override {
    static const std::string rgba(kOfxImageComponentRGBA);
    return rgba;
  }
  const std::string& getPremult() const override {
    static const std::string premult(kOfxImagePreMultiplied);
    return premult;
  }
  double getAspectRatio() const override { return 1.0; }
  double getFrameRate() const override;
  void getFrameRange(double& first, double& last) const override;
  const std::string& getFieldOrder() const override {
    static const std::string none(kOfxImageFieldNone);
    return none;
  }
  bool getConnected() const override;
  double getUnmappedFrameRate() const override { return getFrameRate(); }
  void getUnmappedFrameRange(double& first, double& last) const override {
    getFrameRange(first, last);
  }
  bool getContinuousSamples() const override { return false; }
  OE::Image* getImage(OfxTime time, const OfxRectD* optionalBounds) override;
  OfxRectD getRegionOfDefinition(OfxTime time) const override;

  OwnedImage* output = nullptr;  // Output: the image being rendered
  double outputTime = 0;

 private:
  Effect* _effect;
};

// The effect instance: project settings, clips, params, messages.
class Effect : public OE::Instance {
 public:
  Effect(OE::ImageEffectPlugin* plugin, OE::Descriptor& desc, const std::string& context,
         Setup* setup)
      : OE::Instance(plugin, desc, context, false), setup(*setup) {}

  Setup& setup;
  bool unsupportedParam = false;

  const std::string& getDefaultOutputFielding() const override {
    static const std::string none(kOfxImageFieldNone);
    return none;
  }
  OE::ClipInstance* newClipInstance(OE::Instance*, OE::ClipDescriptor* d, int) override {
    return new Clip(this, d);
  }
  OfxStatus vmessage(const char* type, const char* id, const char* format,
                     va_list args) override {
    emit("{\"kind\":\"message\",\"type\":" + jstr(type ? type : "") + ",\"id\":" +
         jstr(id ? id : "") + ",\"text\":" + jstr(vformat(format, args)) + "}");
    // A question has no one to answer it: yes, as HostSupport's example host does.
    return type && strcmp(type, kOfxMessageQuestion) == 0 ? kOfxStatReplyYes : kOfxStatOK;
  }
  OfxStatus setPersistentMessage(const char* type, const char* id, const char* format,
                                 va_list args) override {
    emit("{\"kind\":\"persistent_message\",\"type\":" + jstr(type ? type : "") + ",\"id\":" +
         jstr(id ? id : "") + ",\"text\":" + jstr(vformat(format, args)) + "}");
    return kOfxStatOK;
  }
  OfxStatus clearPersistentMessage() override { return kOfxStatOK; }
  void getProjectSize(double& x, double& y) const override {
    x = setup.width;
    y = setup.height;
  }
  void getProjectOffset(double& x, double& y) const override { x = y = 0; }
  void getProjectExtent(double& x, double& y) const override { getProjectSize(x, y); }
  double getProjectPixelAspectRatio() const override { return 1.0; }
  double getEffectDuration() const override { return setup.last - setup.first + 1; }
  double getFrameRate() const override { return setup.fps; }
  double getFrameRecursive() const override { return setup.time; }
  void getRenderScaleRecursive(double& x, double& y) const override { x = y = 1.0; }

  OP::Instance* newParam(const std::string& name, OP::Descriptor& d) override;
  OfxStatus editBegin(const std::string&) override { return kOfxStatOK; }
  OfxStatus editEnd() override { return kOfxStatOK; }
  void paramChangedByPlugin(OP::Instance* p) override {
    emit("{\"kind\":\"param_changed_by_plugin\",\"name\":" + jstr(p->getName()) + "}");
  }

  void progressStart(const std::string& message, const std::string& id) override {
    emit("{\"kind\":\"progress_start\",\"message\":" + jstr(message) + ",\"id\":" + jstr(id) +
         "}");
  }
  void progressEnd() override {}
  bool progressUpdate(double) override { return true; }

  double timeLineGetTime() override { return setup.time; }
  void timeLineGotoTime(double t) override { setup.time = t; }
  void timeLineGetBounds(double& a, double& b) override {
    a = setup.first;
    b = setup.last;
  }
};

// Parameter values: a static value plus keyframes. Between keys doubles are interpolated
// linearly, everything else holds the previous key; before the first key and after the last the
// value is that key's (the project's test host does the same, so both hosts give the plug-in
// the same values).
template <class T>
struct Curve {
  T value{};
  std::map<double, T> keys;

  T at(double t, bool interpolate) const {
    if (keys.empty()) return value;
    if (t <= keys.begin()->first) return keys.begin()->second;
    if (t >= keys.rbegin()->first) return keys.rbegin()->second;
    auto hi = keys.upper_bound(t);
    auto lo = std::prev(hi);
    if (!interpolate) return lo->second;
    double f = (t - lo->first) / (hi->first - lo->first);
    return T(lo->second + (hi->second - lo->second) * f);
  }
  OfxStatus numKeys(unsigned int& n) const {
    n = (unsigned int)keys.size();
    return kOfxStatOK;
  }
  OfxStatus keyTime(int nth, OfxTime& t) const {
    if (nth < 0 || nth >= int(keys.size())) return kOfxStatErrBadIndex;
    auto it = keys.begin();
    std::advance(it, nth);
    t = it->first;
    return kOfxStatOK;
  }
  // Exact (0), last before (< 0) or first after (> 0).
  OfxStatus keyIndex(OfxTime t, int direction, int& index) const {
    int i = 0;
    int found = -1;
    for (auto it = keys.begin(); it != keys.end(); ++it, ++i) {
      if (direction == 0 && std::fabs(it->first - t) < 1e-9) found = i;
      if (direction < 0 && it->first < t) found = i;
      if (direction > 0 && it->first > t && found < 0) found = i;
    }
    if (found < 0) return kOfxStatFailed;
    index = found;
    return kOfxStatOK;
  }
  OfxStatus deleteKey(OfxTime t) {
    for (auto it = keys.begin(); it != keys.end(); ++it)
      if (std::fabs(it->first - t) < 1e-9) {
        keys.erase(it);
        return kOfxStatOK;
      }
    return kOfxStatErrBadIndex;
  }
};

void setAnimating(OP::Instance& p, bool animating) {
  try {
    p.getProperties().setIntProperty(kOfxParamPropIsAnimating, animating ? 1 : 0);
  } catch (...) {
  }
}

#define DREAMFX_KEYFRAMES(curve)                                                          \
  OfxStatus getNumKeys(unsigned int& n) const override { return curve.numKeys(n); }        \
  OfxStatus getKeyTime(int nth, OfxTime& t) const override { return curve.keyTime(nth, t); } \
  OfxStatus getKeyIndex(OfxTime t, int d, int& i) const override {                        \
    return curve.keyIndex(t, d, i);                                                       \
  }                                                                                       \
  OfxStatus deleteKey(OfxTime t) override {                                               \
    OfxStatus s = curve.deleteKey(t);                                                     \
    setAnimating(*this, !curve.keys.empty());                                             \
    return s;                                                                             \
  }                                                                                       \
  OfxStatus deleteAllKeys() override {                                                    \
    curve.keys.clear();                                                                   \
    setAnimating(*this, false);                                                           \
    return kOfxStatOK;                                                                    \
  }

// Setting a static value removes the keys, as a user typing a value into an unanimated field;
// setting at a time adds (or replaces) a key.
#define DREAMFX_VALUE_API(T, curve, interpolate)                      \
  OfxStatus get(T& v) override;                                       \
  OfxStatus get(OfxTime t, T& v) override {                           \
    v = curve.at(t, interpolate);                                     \
    return kOfxStatOK;                                                \
  }                                                                   \
  OfxStatus set(T v) override {                                       \
    curve.keys.clear();                                               \
    curve.value = v;                                                  \
    setAnimating(*this, false);                                       \
    return kOfxStatOK;                                                \
  }                                                                   \
  OfxStatus set(OfxTime t, T v) override {                            \
    curve.keys[t] = v;                                                \
    setAnimating(*this, true);                                        \
    return kOfxStatOK;                                                \
  }

class DoubleParam : public OP::DoubleInstance {
 public:
  DoubleParam(Effect* e, OP::Descriptor& d) : OP::DoubleInstance(d, e), _e(e) {
    _c.value = getProperties().getDoubleProperty(kOfxParamPropDefault);
  }
  DREAMFX_VALUE_API(double, _c, true)
  DREAMFX_KEYFRAMES(_c)
  // Piecewise linear curve: the slope of the segment at t, and the exact integral.
  OfxStatus derive(OfxTime t, double& v) override {
    v = 0;
    if (_c.keys.size() < 2 || t < _c.keys.begin()->first || t >= _c.keys.rbegin()->first)
      return kOfxStatOK;
    auto hi = _c.keys.upper_bound(t);
    auto lo = std::prev(hi);
    v = (hi->second - lo->second) / (hi->first - lo->first);
    return kOfxStatOK;
  }
  OfxStatus integrate(OfxTime t1, OfxTime t2, double& v) override {
    std::vector<double> cuts = {t1};
    for (const auto& k : _c.keys)
      if (k.first > t1 && k.first < t2) cuts.push_back(k.first);
    cuts.push_back(t2);
    v = 0;
    for (size_t i = 0; i + 1 < cuts.size(); ++i)
      v += 0.5 * (cuts[i + 1] - cuts[i]) * (_c.at(cuts[i], true) + _c.at(cuts[i + 1], true));
    return kOfxStatOK;
  }

 private:
  Effect* _e;
  Curve<double> _c;
};

class IntParam : public OP::IntegerInstance {
 public:
  IntParam(Effect* e, OP::Descriptor& d) : OP::IntegerInstance(d, e), _e(e) {
    _c.value = getProperties().getIntProperty(kOfxParamPropDefault);
  }
  DREAMFX_VALUE_API(int, _c, false)
  DREAMFX_KEYFRAMES(_c)

 private:
  Effect* _e;
  Curve<int> _c;
};

class ChoiceParam : public OP::ChoiceInstance {
 public:
  ChoiceParam(Effect* e, OP::Descriptor& d) : OP::ChoiceInstance(d, e), _e(e) {
    _c.value = getProperties().getIntProperty(kOfxParamPropDefault);
  }
  DREAMFX_VALUE_API(int, _c, false)
  DREAMFX_KEYFRAMES(_c)

 private:
  Effect* _e;
  Curve<int> _c;
};

class BoolParam : public OP::BooleanInstance {
 public:
  BoolParam(Effect* e, OP::Descriptor& d) : OP::BooleanInstance(d, e), _e(e) {
    _c.value = getProperties().getIntProperty(kOfxParamPropDefault) != 0;
  }
  DREAMFX_VALUE_API(bool, _c, false)
  DREAMFX_KEYFRAMES(_c)

 private:
  Effect* _e;
  Curve<bool> _c;
};

class StringParam : public OP::StringInstance {
 public:
  StringParam(Effect* e, OP::Descriptor& d) : OP::StringInstance(d, e), _e(e) {
    _value = getProperties().getStringProperty(kOfxParamPropDefault);
  }
  OfxStatus get(std::string& v) override {
    v = _value;
    return kOfxStatOK;
  }
  OfxStatus get(OfxTime, std::string& v) override { return get(v); }
  OfxStatus set(const char* v) override {
    _value = v ? v : "";
    return kOfxStatOK;
  }
  OfxStatus set(OfxTime, const char* v) override { return set(v); }

 private:
  Effect* _e;
  std::string _value;
};

class ButtonParam : public OP::PushbuttonInstance {
 public:
  ButtonParam(Effect* e, OP::Descriptor& d);
};

double currentTime(const Effect* e) { return e->setup.time; }

OP::Instance* Effect::newParam(const std::string&, OP::Descriptor& d) {
  const std::string& t = d.getType();
  if (t == kOfxParamTypeDouble) return new DoubleParam(this, d);
  if (t == kOfxParamTypeInteger) return new IntParam(this, d);
  if (t == kOfxParamTypeChoice) return new ChoiceParam(this, d);
  if (t == kOfxParamTypeBoolean) return new BoolParam(this, d);
  if (t == kOfxParamTypeString) return new StringParam(this, d);
  if (t == kOfxParamTypePushButton) return new ButtonParam(this, d);
  if (t == kOfxParamTypeGroup) return new OP::GroupInstance(d, this);
  if (t == kOfxParamTypePage) return new OP::PageInstance(d, this);
  // HostSupport's createInstance ignores this failure, so it is remembered and reported.
  error("this host has no " + t + " parameter (" + d.getName() + ")");
  unsupportedParam = true;
  return nullptr;
}

ButtonParam::ButtonParam(Effect* e, OP::Descriptor& d) : OP::PushbuttonInstance(d, e) {}


#define DREAMFX_STATIC_GET(Class, T)                    \
  OfxStatus Class::get(T& v) {                          \
    return get(currentTime(_e), v);                     \
  }
DREAMFX_STATIC_GET(DoubleParam, double)
DREAMFX_STATIC_GET(IntParam, int)
DREAMFX_STATIC_GET(ChoiceParam, int)
DREAMFX_STATIC_GET(BoolParam, bool)

Clip::Clip(Effect* effect, OE::ClipDescriptor* desc)
    : OE::ClipInstance(effect, *desc), _effect(effect) {}

const std::string& Clip::getUnmappedBitDepth() const { return _effect->setup.depth; }

double Clip::getFrameRate() const { return _effect->setup.fps; }

void Clip::getFrameRange(double& first, double& last) const {
  first = _effect->setup.first;
  last = _effect->setup.last;
}

bool Clip::getConnected() const {
  // Output always; Source when there are frames; any other input is left unconnected.
  return isOutput() ||
         (getName() == kOfxImageEffectSimpleSourceClipName && !_effect->setup.frames.empty());
}

OfxRectD Clip::getRegionOfDefinition(OfxTime) const {
  OfxRectD r = {0, 0, double(_effect->setup.width), double(_effect->setup.height)};
  if (!getConnected()) r.x2 = r.y2 = 0;
  return r;
}

OE::Image* Clip::getImage(OfxTime time, const OfxRectD*) {
  emit("{\"kind\":\"fetch\",\"clip\":" + jstr(getName()) + ",\"time\":" + jnum(time) + "}");
  if (isOutput()) {
    // Only the frame being rendered exists on the output.
    if (!output || time != outputTime) {
      error("the plug-in asked for the Output image at " + jnum(time) +
            " outside a render of that time");
      return nullptr;
    }
    output->addReference();  // the plug-in releases it; the host keeps its own reference
    return output;
  }
  if (!getConnected()) return nullptr;
  const Setup& s = _effect->setup;
  double index = std::round(time - s.first);
  if (index < 0 || index >= double(s.frames.size())) return nullptr;  // kOfxStatFailed
  OwnedImage* image =
      new OwnedImage(*this, s.width, s.height, getName() + "@" + jnum(s.first + index));
  image->fill(s.frames[size_t(index)]);
  return image;
}

// The image effect host: its description, the factory of instances and descriptors.
class Host : public OE::Host {
 public:
  Host() {
    _properties.setStringProperty(kOfxPropName, "dreamfx.hostsupport");
    _properties.setStringProperty(kOfxPropLabel, "dreamfx HostSupport test host");
    _properties.setIntProperty(kOfxPropAPIVersion, 1, 0);
    _properties.setIntProperty(kOfxPropAPIVersion, 4, 1);
    _properties.setIntProperty(kOfxPropVersion, 1, 0);
    _properties.setIntProperty(kOfxPropVersion, 0, 1);
    _properties.setStringProperty(kOfxPropVersionLabel, "1.0");
    _properties.setIntProperty(kOfxImageEffectHostPropIsBackground, 1);
    _properties.setIntProperty(kOfxImageEffectPropSupportsOverlays, 0);
    _properties.setIntProperty(kOfxImageEffectPropSupportsMultiResolution, 0);
    _properties.setIntProperty(kOfxImageEffectPropSupportsTiles, 0);
    // The Source clip hands out any frame asked for.
    _properties.setIntProperty(kOfxImageEffectPropTemporalClipAccess, 1);
    _properties.setStringProperty(kOfxImageEffectPropSupportedComponents,
                                  kOfxImageComponentRGBA, 0);
    _properties.setStringProperty(kOfxImageEffectPropSupportedContexts,
                                  kOfxImageEffectContextFilter, 0);
    _properties.setStringProperty(kOfxImageEffectPropSupportedContexts,
                                  kOfxImageEffectContextGeneral, 1);
    _properties.setStringProperty(kOfxImageEffectPropSupportedContexts,
                                  kOfxImageEffectContextGenerator, 2);
    _properties.setStringProperty(kOfxImageEffectPropSupportedPixelDepths, kOfxBitDepthByte, 0);
    _properties.setStringProperty(kOfxImageEffectPropSupportedPixelDepths, kOfxBitDepthShort,
                                  1);
    _properties.setStringProperty(kOfxImageEffectPropSupportedPixelDepths, kOfxBitDepthFloat,
                                  2);
    _properties.setIntProperty(kOfxImageEffectPropSupportsMultipleClipDepths, 0);
    _properties.setIntProperty(kOfxImageEffectPropSupportsMultipleClipPARs, 0);
    _properties.setIntProperty(kOfxImageEffectPropSetableFrameRate, 0);
    _properties.setIntProperty(kOfxImageEffectPropSetableFielding, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsCustomInteract, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsStringAnimation, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsChoiceAnimation, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsBooleanAnimation, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsCustomAnimation, 0);
    _properties.setIntProperty(kOfxParamHostPropMaxParameters, -1);
    _properties.setIntProperty(kOfxParamHostPropMaxPages, 0);
    _properties.setIntProperty(kOfxParamHostPropPageRowColumnCount, 0, 0);
    _properties.setIntProperty(kOfxParamHostPropPageRowColumnCount, 0, 1);
  }

  OE::Instance* newInstance(void* clientData, OE::ImageEffectPlugin* plugin, OE::Descriptor& desc,
                            const std::string& context) override {
    return new Effect(plugin, desc, context, static_cast<Setup*>(clientData));
  }
  OE::Descriptor* makeDescriptor(OE::ImageEffectPlugin* plugin) override {
    return new OE::Descriptor(plugin);
  }
  OE::Descriptor* makeDescriptor(const OE::Descriptor& root,
                                 OE::ImageEffectPlugin* plugin) override {
    return new OE::Descriptor(root, plugin);
  }
  OE::Descriptor* makeDescriptor(const std::string& bundlePath,
                                 OE::ImageEffectPlugin* plugin) override {
    return new OE::Descriptor(bundlePath, plugin);
  }
  // Messages posted outside an instance (load, describe).
  OfxStatus vmessage(const char* type, const char* id, const char* format,
                     va_list args) override {
    emit("{\"kind\":\"message\",\"type\":" + jstr(type ? type : "") + ",\"id\":" +
         jstr(id ? id : "") + ",\"text\":" + jstr(vformat(format, args)) + "}");
    return type && strcmp(type, kOfxMessageQuestion) == 0 ? kOfxStatReplyYes : kOfxStatOK;
  }
  OfxStatus setPersistentMessage(const char* type, const char* id, const char* format,
                                 va_list args) override {
    return vmessage(type, id, format, args);
  }
  OfxStatus clearPersistentMessage() override { return kOfxStatOK; }
};

// ---------------------------------------------------------------------------------------------

bool under(const std::string& path, const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return path.compare(0, d.size(), d) == 0 && (path.size() == d.size() || path[d.size()] == '/');
}

// HostSupport only says "describe failed" (on stderr). To tell which status the plug-in
// returned, load and describe it once more through HostSupport's own plug-in handle.
std::string describeFailure(OE::ImageEffectPlugin* plugin, Host& host) {
  OH::PluginHandle handle(plugin, &host);
  OfxPlugin* op = handle.getOfxPlugin();
  if (!op) return "the binary could not be loaded";
  OfxStatus s = op->mainEntry(kOfxActionLoad, nullptr, nullptr, nullptr);
  if (!ok(s)) return std::string(kOfxActionLoad) + " returned " + stat(s);
  std::unique_ptr<OE::Descriptor> d(host.makeDescriptor(plugin));
  s = op->mainEntry(kOfxActionDescribe, d->getHandle(), nullptr, nullptr);
  op->mainEntry(kOfxActionUnload, nullptr, nullptr, nullptr);
  if (!ok(s)) return std::string(kOfxActionDescribe) + " returned " + stat(s);
  return "it declared no context";
}

// Scans `dir` (and nothing else: OFX_PLUGIN_PATH is cleared before the cache is made) and
// returns the image effect plug-ins found there.
std::vector<OE::ImageEffectPlugin*> scan(OE::PluginCache& effects, const std::string& dir) {
  unsetenv("OFX_PLUGIN_PATH");
  OH::PluginCache* cache = OH::PluginCache::getPluginCache();
  cache->setCacheVersion("dreamfxHostSupportV1");
  cache->prependFileToPath(dir);
  effects.registerInCache(*cache);
  cache->scanPluginFiles();
  std::vector<OE::ImageEffectPlugin*> found;
  // HostSupport also looks in the standard /usr/OFX/Plugins: plug-ins from there are not ours.
  for (OE::ImageEffectPlugin* p : effects.getPlugins())
    if (under(p->getBinary()->getBundlePath(), dir)) found.push_back(p);
  return found;
}

int describeAll(const std::string& dir) {
  Host host;
  OE::PluginCache effects(host);
  std::vector<OE::ImageEffectPlugin*> plugins = scan(effects, dir);
  if (plugins.empty()) error("no OFX image effect plug-in in " + dir);
  for (OE::ImageEffectPlugin* plugin : plugins) {
    const std::string id = plugin->getIdentifier();
    // Scanning ran kOfxActionLoad, kOfxActionDescribe and kOfxActionUnload; the contexts come
    // from that description.
    const std::set<std::string>& contexts = plugin->getContexts();
    if (contexts.empty()) {
      emit("{\"kind\":\"error\",\"plugin\":" + jstr(id) + ",\"message\":" +
           jstr("describe failed: " + describeFailure(plugin, host)) + "}");
      ++gFailures;
      continue;
    }
    emit("{\"kind\":\"plugin\",\"id\":" + jstr(id) + ",\"version\":[" +
         std::to_string(plugin->getVersionMajor()) + "," +
         std::to_string(plugin->getVersionMinor()) + "],\"bundle\":" +
         jstr(plugin->getBinary()->getBundlePath()) + ",\"props\":" +
         propsJson(plugin->getDescriptor().getProps()) + "}");
    for (const std::string& context : contexts) {
      // Loads the plug-in, describes it again and describes it in the context.
      OE::Descriptor* d = plugin->getContext(context);
      if (!d) {
        emit("{\"kind\":\"error\",\"plugin\":" + jstr(id) + ",\"context\":" + jstr(context) +
             ",\"message\":" + jstr(std::string(kOfxImageEffectActionDescribeInContext) +
                                    " failed") +
             "}");
        ++gFailures;
        continue;
      }
      std::string where = "\"plugin\":" + jstr(id) + ",\"context\":" + jstr(context);
      emit("{\"kind\":\"context\"," + where + ",\"props\":" + propsJson(d->getProps()) + "}");
      for (OE::ClipDescriptor* clip : d->getClipsByOrder())
        emit("{\"kind\":\"clip\"," + where + ",\"name\":" + jstr(clip->getName()) +
             ",\"props\":" + propsJson(clip->getProps()) + "}");
      for (OP::Descriptor* p : d->getParamList())
        emit("{\"kind\":\"param\"," + where + ",\"name\":" + jstr(p->getName()) +
             ",\"type\":" + jstr(p->getType()) + ",\"props\":" + propsJson(p->getProperties()) +
             "}");
    }
  }
  return gFailures == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// render

struct Assignment {
  std::string name, value;
  bool keyed = false;
  double time = 0;
};

struct RenderArgs {
  std::string plugin, context = kOfxImageEffectContextFilter, sourceDir, outDir, depthWord;
  std::vector<double> times;
  std::vector<Assignment> params;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "dreamfx-hostsupport-host: " << why
            << "\nusage: dreamfx-hostsupport-host describe PLUGIN_DIR\n"
               "       dreamfx-hostsupport-host render PLUGIN_DIR --plugin ID --size WxH "
               "--source DIR --frames FIRST:LAST\n"
               "           --depth byte|short|float --render T[,T...] --out DIR [--context "
               "filter|general] [--fps FPS]\n"
               "           [--set NAME=VALUE]... [--key NAME@TIME=VALUE]...\n"
               "(see the comment at the top of tests/hostsupport/host.cpp)\n";
  exit(2);
}

double number(const std::string& s, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  double v = strtod(s.c_str(), &end);
  if (s.empty() || *end || errno) usage("bad number for " + what + ": " + s);
  return v;
}

bool readFrame(const std::string& path, size_t values, std::vector<float>& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(values, 0.f);
  f.read(reinterpret_cast<char*>(&out[0]), std::streamsize(values * sizeof(float)));
  if (size_t(f.gcount()) != values * sizeof(float)) return false;
  return f.peek() == std::char_traits<char>::eof();
}

// Sets a parameter as a user would: the value (or key), then the instance-changed actions.
bool assign(Effect& effect, const Assignment& a) {
  OP::Instance* p = effect.getParam(a.name);
  if (!p) {
    error("the plug-in has no parameter " + a.name);
    return false;
  }
  const std::string& type = p->getType();
  OfxStatus s = kOfxStatErrUnsupported;
  double v = 0;
  if (type != kOfxParamTypeString && type != kOfxParamTypePushButton)
    v = number(a.value, a.name);
  if (auto* d = dynamic_cast<DoubleParam*>(p))
    s = a.keyed ? d->set(a.time, v) : d->set(v);
  else if (auto* i = dynamic_cast<IntParam*>(p))
    s = a.keyed ? i->set(a.time, int(v)) : i->set(int(v));
  else if (auto* c = dynamic_cast<ChoiceParam*>(p))
    s = a.keyed ? c->set(a.time, int(v)) : c->set(int(v));
  else if (auto* b = dynamic_cast<BoolParam*>(p))
    s = a.keyed ? b->set(a.time, v != 0) : b->set(v != 0);
  else if (auto* str = dynamic_cast<StringParam*>(p))
    s = str->set(a.value.c_str());
  else if (dynamic_cast<ButtonParam*>(p))
    s = kOfxStatOK;  // a press: only the instance-changed actions below
  if (!ok(s)) {
    error("cannot set " + a.name + " (" + type + "): " + stat(s));
    return false;
  }
  double t = a.keyed ? a.time : effect.setup.time;
  OfxPointD scale = {1, 1};
  OfxStatus s1 = effect.beginInstanceChangedAction(kOfxChangeUserEdited);
  OfxStatus s2 = effect.paramInstanceChangedAction(a.name, kOfxChangeUserEdited, t, scale);
  OfxStatus s3 = effect.endInstanceChangedAction(kOfxChangeUserEdited);
  if (!ok(s1) || !ok(s2) || !ok(s3)) {
    error(std::string(kOfxActionInstanceChanged) + " for " + a.name + ": " + stat(s1) + " " +
          stat(s2) + " " + stat(s3));
    return false;
  }
  return true;
}

bool writeFile(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return bool(f);
}

// Renders every requested time; false on the first failure.
bool renderAll(Effect& effect, const RenderArgs& args) {
  Setup& s = effect.setup;
  OfxPointD scale = {1, 1};
  Clip* output = dynamic_cast<Clip*>(effect.getClip(kOfxImageEffectOutputClipName));
  if (!output) {
    error("the instance has no Output clip");
    return false;
  }
  double first = args.times.front(), last = args.times.front();
  for (double t : args.times) {
    first = std::min(first, t);
    last = std::max(last, t);
  }
  // Not sequential, not interactive: as the project's test host renders by default.
  OfxStatus st = effect.beginRenderAction(first, last, 1.0, false, scale, false, false);
  if (!ok(st)) {
    error(std::string(kOfxImageEffectActionBeginSequenceRender) + " returned " + stat(st));
    return false;
  }
  bool good = true;
  for (double t : args.times) {
    s.time = t;
    std::string at = ",\"time\":" + jnum(t);
    OfxRectD rod;
    st = effect.getRegionOfDefinitionAction(t, scale, rod);
    if (!ok(st)) {
      error(std::string(kOfxImageEffectActionGetRegionOfDefinition) + " at " + jnum(t) +
            " returned " + stat(st));
      good = false;
      break;
    }
    emit("{\"kind\":\"rod\"" + at + ",\"rect\":[" + jnum(rod.x1) + "," + jnum(rod.y1) + "," +
         jnum(rod.x2) + "," + jnum(rod.y2) + "]}");
    // The render window: the RoD in pixels (PAR 1, scale 1).
    OfxRectI window = {int(std::floor(rod.x1)), int(std::floor(rod.y1)), int(std::ceil(rod.x2)),
                       int(std::ceil(rod.y2))};
    if (window.x1 != 0 || window.y1 != 0 || window.x2 != s.width || window.y2 != s.height) {
      error("the region of definition at " + jnum(t) + " is not the " + std::to_string(s.width) +
            "x" + std::to_string(s.height) + " frame this host renders");
      good = false;
      break;
    }
    OE::RangeMap needed;
    st = effect.getFrameNeededAction(t, needed);
    if (!ok(st)) {
      error(std::string(kOfxImageEffectActionGetFramesNeeded) + " returned " + stat(st));
      good = false;
      break;
    }
    for (const auto& kv : needed) {
      std::string ranges;
      for (const OfxRangeD& r : kv.second)
        ranges += (ranges.empty() ? "[" : ",[") + jnum(r.min) + "," + jnum(r.max) + "]";
      emit("{\"kind\":\"frames_needed\"" + at + ",\"clip\":" + jstr(kv.first->getName()) +
           ",\"ranges\":[" + ranges + "]}");
    }
    std::map<OE::ClipInstance*, OfxRectD> rois;
    st = effect.getRegionOfInterestAction(t, scale, rod, rois);
    if (!ok(st)) {
      error(std::string(kOfxImageEffectActionGetRegionsOfInterest) + " returned " + stat(st));
      good = false;
      break;
    }
    for (const auto& kv : rois)
      emit("{\"kind\":\"roi\"" + at + ",\"clip\":" + jstr(kv.first->getName()) + ",\"rect\":[" +
           jnum(kv.second.x1) + "," + jnum(kv.second.y1) + "," + jnum(kv.second.x2) + "," +
           jnum(kv.second.y2) + "]}");

    std::unique_ptr<OwnedImage> image(new OwnedImage(*output, s.width, s.height,
                                                     "Output@" + jnum(t)));
    double identityTime = t;
    std::string identityClip;
    st = effect.isIdentityAction(identityTime, kOfxImageFieldNone, window, scale, identityClip);
    if (st == kOfxStatOK) {
      // As hosts do: no render, the output is the clip's image at the time the plug-in named.
      emit("{\"kind\":\"identity\"" + at + ",\"clip\":" + jstr(identityClip) +
           ",\"clip_time\":" + jnum(identityTime) + "}");
      Clip* c = dynamic_cast<Clip*>(effect.getClip(identityClip));
      double index = std::round(identityTime - s.first);
      if (!c || c->isOutput() || index < 0 || index >= double(s.frames.size())) {
        error("is-identity named " + identityClip + " at " + jnum(identityTime) +
              ", which has no frame");
        good = false;
        break;
      }
      image->fill(s.frames[size_t(index)]);
    } else if (st != kOfxStatReplyDefault) {
      error(std::string(kOfxImageEffectActionIsIdentity) + " returned " + stat(st));
      good = false;
      break;
    } else {
      output->output = image.get();
      output->outputTime = t;
      st = effect.renderAction(t, kOfxImageFieldNone, window, scale, false, false, false);
      output->output = nullptr;
      emit("{\"kind\":\"render\"" + at + ",\"status\":" + jstr(stat(st)) + "}");
      if (image->references() != 1) {
        error("the plug-in did not release the Output image it fetched at " + jnum(t));
        good = false;
        break;
      }
      if (st != kOfxStatOK) {
        error(std::string(kOfxImageEffectActionRender) + " at " + jnum(t) + " returned " +
              stat(st));
        good = false;
        break;
      }
    }
    std::string path = args.outDir + "/" + args.depthWord + "-" + jnum(t) + ".rgba";
    if (!writeFile(path, image->rawTopDown())) {
      error("cannot write " + path);
      good = false;
      break;
    }
    emit("{\"kind\":\"output\"" + at + ",\"file\":" + jstr(path) + ",\"depth\":" +
         jstr(output->getPixelDepth()) + "}");
  }
  st = effect.endRenderAction(first, last, 1.0, false, scale, false, false);
  if (!ok(st)) {
    error(std::string(kOfxImageEffectActionEndSequenceRender) + " returned " + stat(st));
    return false;
  }
  return good;
}

int render(const std::string& dir, int argc, char** argv) {
  RenderArgs args;
  Setup setup;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(a + " needs a value");
    std::string v = argv[++i];
    if (a == "--plugin") {
      args.plugin = v;
    } else if (a == "--context") {
      if (v == "filter") args.context = kOfxImageEffectContextFilter;
      else if (v == "general") args.context = kOfxImageEffectContextGeneral;
      else usage("unknown context " + v);
    } else if (a == "--size") {
      if (sscanf(v.c_str(), "%dx%d", &setup.width, &setup.height) != 2 || setup.width <= 0 ||
          setup.height <= 0)
        usage("bad --size " + v);
    } else if (a == "--source") {
      args.sourceDir = v;
    } else if (a == "--frames") {
      size_t c = v.find(':');
      if (c == std::string::npos) usage("bad --frames " + v);
      setup.first = number(v.substr(0, c), "--frames");
      setup.last = number(v.substr(c + 1), "--frames");
    } else if (a == "--fps") {
      setup.fps = number(v, "--fps");
    } else if (a == "--depth") {
      args.depthWord = v;
      if (v == "byte") setup.depth = kOfxBitDepthByte;
      else if (v == "short") setup.depth = kOfxBitDepthShort;
      else if (v == "float") setup.depth = kOfxBitDepthFloat;
      else usage("unknown depth " + v);
    } else if (a == "--render") {
      std::stringstream ss(v);
      std::string t;
      while (std::getline(ss, t, ',')) args.times.push_back(number(t, "--render"));
    } else if (a == "--out") {
      args.outDir = v;
    } else if (a == "--set" || a == "--key") {
      Assignment as;
      size_t eq = v.find('=');
      if (eq == std::string::npos) usage("bad " + a + " " + v);
      as.name = v.substr(0, eq);
      as.value = v.substr(eq + 1);
      if (a == "--key") {
        size_t at = as.name.find('@');
        if (at == std::string::npos) usage("--key needs NAME@TIME=VALUE: " + v);
        as.keyed = true;
        as.time = number(as.name.substr(at + 1), "--key time");
        as.name = as.name.substr(0, at);
      }
      args.params.push_back(as);
    } else {
      usage("unknown argument " + a);
    }
  }
  if (args.plugin.empty() || setup.width == 0 || args.sourceDir.empty() ||
      setup.last < setup.first || setup.depth.empty() || args.times.empty() ||
      args.outDir.empty())
    usage("render needs --plugin, --size, --source, --frames, --depth, --render and --out");
  size_t values = size_t(setup.width) * setup.height * 4;
  for (double t = setup.first; t <= setup.last; t += 1) {
    std::string path = args.sourceDir + "/" + jnum(t) + ".rgba";
    std::vector<float> frame;
    if (!readFrame(path, values, frame)) {
      error("cannot read " + path + " (" + std::to_string(values * sizeof(float)) +
            " bytes of RGBA f32 expected)");
      return 1;
    }
    setup.frames.push_back(frame);
  }
  setup.time = args.times.front();

  Host host;
  OE::PluginCache effects(host);
  OE::ImageEffectPlugin* plugin = nullptr;
  for (OE::ImageEffectPlugin* p : scan(effects, dir))
    if (p->getIdentifier() == args.plugin) plugin = p;
  if (!plugin) {
    error("no plug-in " + args.plugin + " in " + dir);
    return 1;
  }
  if (plugin->getContexts().empty()) {
    error("describe failed: " + describeFailure(plugin, host));
    return 1;
  }
  // createInstance describes the plug-in in the context, builds clips and params at their
  // defaults (HostSupport's populate()).
  std::unique_ptr<OE::Instance> instance(plugin->createInstance(args.context, &setup));
  if (!instance) {
    error("cannot create an instance in " + args.context +
          " (describe in context failed, or the plug-in does not declare that context)");
    return 1;
  }
  Effect& effect = dynamic_cast<Effect&>(*instance);
  if (effect.unsupportedParam) return 1;
  OfxStatus st = effect.createInstanceAction();
  if (!ok(st)) {
    error(std::string(kOfxActionCreateInstance) + " returned " + stat(st));
    return 1;
  }
  bool good = true;
  for (const Assignment& a : args.params) good = good && assign(effect, a);
  // Clip preferences after the parameters, as a host does once an instance is wired up.
  if (good && !effect.getClipPreferences()) {
    error(std::string(kOfxImageEffectActionGetClipPreferences) + " failed");
    good = false;
  }
  if (good) {
    for (int i = 0; i < effect.getNClips(); ++i) {
      OE::ClipInstance* c = effect.getNthClip(i);
      emit("{\"kind\":\"clip_preferences\",\"clip\":" + jstr(c->getName()) + ",\"depth\":" +
           jstr(c->getPixelDepth()) + ",\"components\":" + jstr(c->getComponents()) +
           ",\"connected\":" + (c->getConnected() ? "true" : "false") + "}");
    }
    OE::ClipInstance* out = effect.getClip(kOfxImageEffectOutputClipName);
    if (!out || out->getPixelDepth() != setup.depth ||
        out->getComponents() != kOfxImageComponentRGBA) {
      error("the clip preferences did not give an RGBA Output in " + setup.depth);
      good = false;
    }
  }
  if (good) good = renderAll(effect, args);
  // kOfxActionDestroyInstance (HostSupport sends it when the instance is deleted).
  instance.reset();
  emit("{\"kind\":\"images_outstanding\",\"count\":" + std::to_string(gLiveImages) + "}");
  if (gLiveImages != 0) error(std::to_string(gLiveImages) + " images were never released");
  return good && gFailures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) usage("missing command");
  std::string command = argv[1], dir = argv[2];
  int rc = 1;
  try {
    if (command == "describe") {
      rc = describeAll(dir);
    } else if (command == "render") {
      rc = render(dir, argc - 3, argv + 3);
    } else {
      usage("unknown command " + command);
    }
  } catch (const OH::Property::Exception& e) {
    // HostSupport throws these for a property it does not know or a wrong index.
    error("HostSupport property error: " + stat(e.getStatus()));
    rc = 1;
  } catch (const std::exception& e) {
    error(std::string("exception: ") + e.what());
    rc = 1;
  }
  // Unloads the plug-ins (kOfxActionUnload).
  OH::PluginCache::clearPluginCache();
  return rc;
}
