// A headless OFX host built on the official ASWF HostSupport library (the host code Natron is
// built on): it scans OFX_PLUGIN_PATH, loads every plug-in, describes it and describes it in
// every context it declares, and prints what HostSupport saw, one fact per line:
//   plugin ID
//   context ID CONTEXT
//   clip ID CONTEXT NAME
//   param ID CONTEXT NAME TYPE
//   error ID WHAT
// It exits 1 when any plug-in fails to describe. HostSupport, not dreamfx, decides what is
// valid: it refuses property names the standard does not define (kOfxStatErrUnknown). Every
// OFX name below comes from the official headers' macros. (Instances and renders through
// HostSupport are the next step; see tests/tests/hostsupport.rs.)
#include <cstdarg>
#include <cstdio>
#include <iostream>
#include <string>

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

namespace {

class DescribeHost : public OFX::Host::ImageEffect::Host {
 public:
  DescribeHost() {
    _properties.setStringProperty(kOfxPropName, "dreamfx.hostsupport");
    _properties.setStringProperty(kOfxPropLabel, "dreamfx HostSupport test host");
    _properties.setStringProperty(kOfxImageEffectPropSupportedContexts,
                                  kOfxImageEffectContextFilter, 0);
    _properties.setStringProperty(kOfxImageEffectPropSupportedContexts,
                                  kOfxImageEffectContextGeneral, 1);
    _properties.setStringProperty(kOfxImageEffectPropSupportedContexts,
                                  kOfxImageEffectContextGenerator, 2);
    _properties.setStringProperty(kOfxImageEffectPropSupportedPixelDepths, kOfxBitDepthByte, 0);
    _properties.setStringProperty(kOfxImageEffectPropSupportedPixelDepths, kOfxBitDepthFloat, 1);
    _properties.setIntProperty(kOfxImageEffectPropTemporalClipAccess, 1);
  }

  // Only descriptors are made here: no instance is created by this host yet.
  OFX::Host::ImageEffect::Instance* newInstance(void*, OFX::Host::ImageEffect::ImageEffectPlugin*,
                                                OFX::Host::ImageEffect::Descriptor&,
                                                const std::string&) override {
    return nullptr;
  }
  OFX::Host::ImageEffect::Descriptor* makeDescriptor(
      OFX::Host::ImageEffect::ImageEffectPlugin* plugin) override {
    return new OFX::Host::ImageEffect::Descriptor(plugin);
  }
  OFX::Host::ImageEffect::Descriptor* makeDescriptor(
      const OFX::Host::ImageEffect::Descriptor& root,
      OFX::Host::ImageEffect::ImageEffectPlugin* plugin) override {
    return new OFX::Host::ImageEffect::Descriptor(root, plugin);
  }
  OFX::Host::ImageEffect::Descriptor* makeDescriptor(
      const std::string& bundlePath, OFX::Host::ImageEffect::ImageEffectPlugin* plugin) override {
    return new OFX::Host::ImageEffect::Descriptor(bundlePath, plugin);
  }
  OfxStatus vmessage(const char* type, const char*, const char* format, va_list args) override {
    char text[2048];
    vsnprintf(text, sizeof text, format, args);
    std::cout << "message " << (type ? type : "?") << " " << text << std::endl;
    return kOfxStatOK;
  }
  OfxStatus setPersistentMessage(const char* type, const char* id, const char* format,
                                 va_list args) override {
    return vmessage(type, id, format, args);
  }
  OfxStatus clearPersistentMessage() override { return kOfxStatOK; }
};

}  // namespace

int main() {
  OFX::Host::PluginCache::getPluginCache()->setCacheVersion("dreamfxHostSupportV1");
  DescribeHost host;
  OFX::Host::ImageEffect::PluginCache effects(host);
  effects.registerInCache(*OFX::Host::PluginCache::getPluginCache());
  OFX::Host::PluginCache::getPluginCache()->scanPluginFiles();

  int failures = 0;
  for (OFX::Host::ImageEffect::ImageEffectPlugin* plugin : effects.getPlugins()) {
    const std::string id = plugin->getIdentifier();
    std::cout << "plugin " << id << std::endl;
    // getContexts() loads the binary and runs kOfxActionLoad and kOfxActionDescribe.
    const std::set<std::string>& contexts = plugin->getContexts();
    if (contexts.empty()) {
      std::cout << "error " << id << " describe failed or declared no context" << std::endl;
      ++failures;
      continue;
    }
    for (const std::string& context : contexts) {
      OFX::Host::ImageEffect::Descriptor* d = plugin->getContext(context);
      if (!d) {
        std::cout << "error " << id << " describe in context " << context << " failed"
                  << std::endl;
        ++failures;
        continue;
      }
      std::cout << "context " << id << " " << context << std::endl;
      for (const auto& clip : d->getClips())
        std::cout << "clip " << id << " " << context << " " << clip.first << std::endl;
      for (OFX::Host::Param::Descriptor* p : d->getParamList())
        std::cout << "param " << id << " " << context << " " << p->getName() << " "
                  << p->getType() << std::endl;
    }
  }
  OFX::Host::PluginCache::clearPluginCache();
  return failures == 0 ? 0 : 1;
}
