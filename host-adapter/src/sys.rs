//! Raw OFX 1.4 C ABI, written from the official headers (ofxCore.h, ofxProperty.h,
//! ofxImageEffect.h, ofxParam.h, ofxMessage.h, ofxProgress.h). Only what dreamfx and its test
//! host use. Both sides of the ABI (the plugin and `dreamfx-test-host`) share these definitions.
#![allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    missing_docs
)]

use std::ffi::{c_char, c_double, c_int, c_uint, c_void, CStr};

pub type OfxStatus = c_int;
pub type OfxTime = c_double;

#[repr(C)]
pub struct OfxPropertySetStruct {
    _opaque: [u8; 0],
}
pub type OfxPropertySetHandle = *mut OfxPropertySetStruct;
pub type OfxImageEffectHandle = *mut c_void;
pub type OfxImageClipHandle = *mut c_void;
pub type OfxParamSetHandle = *mut c_void;
pub type OfxParamHandle = *mut c_void;
pub type OfxImageMemoryHandle = *mut c_void;

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OfxRectD {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OfxRectI {
    pub x1: c_int,
    pub y1: c_int,
    pub x2: c_int,
    pub y2: c_int,
}
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OfxRangeD {
    pub min: f64,
    pub max: f64,
}

#[repr(C)]
pub struct OfxHost {
    pub host: OfxPropertySetHandle,
    pub fetchSuite:
        Option<unsafe extern "C" fn(OfxPropertySetHandle, *const c_char, c_int) -> *const c_void>,
}

pub type OfxPluginEntryPoint = unsafe extern "C" fn(
    action: *const c_char,
    handle: *const c_void,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> OfxStatus;

#[repr(C)]
pub struct OfxPlugin {
    pub pluginApi: *const c_char,
    pub apiVersion: c_int,
    pub pluginIdentifier: *const c_char,
    pub pluginVersionMajor: c_uint,
    pub pluginVersionMinor: c_uint,
    pub setHost: Option<unsafe extern "C" fn(*mut OfxHost)>,
    pub mainEntry: Option<OfxPluginEntryPoint>,
}

pub type OfxGetNumberOfPluginsFn = unsafe extern "C" fn() -> c_int;
pub type OfxGetPluginFn = unsafe extern "C" fn(c_int) -> *mut OfxPlugin;

type P = OfxPropertySetHandle;
type S = *const c_char;

#[repr(C)]
pub struct OfxPropertySuiteV1 {
    pub propSetPointer: unsafe extern "C" fn(P, S, c_int, *mut c_void) -> OfxStatus,
    pub propSetString: unsafe extern "C" fn(P, S, c_int, S) -> OfxStatus,
    pub propSetDouble: unsafe extern "C" fn(P, S, c_int, f64) -> OfxStatus,
    pub propSetInt: unsafe extern "C" fn(P, S, c_int, c_int) -> OfxStatus,
    pub propSetPointerN: unsafe extern "C" fn(P, S, c_int, *const *mut c_void) -> OfxStatus,
    pub propSetStringN: unsafe extern "C" fn(P, S, c_int, *const S) -> OfxStatus,
    pub propSetDoubleN: unsafe extern "C" fn(P, S, c_int, *const f64) -> OfxStatus,
    pub propSetIntN: unsafe extern "C" fn(P, S, c_int, *const c_int) -> OfxStatus,
    pub propGetPointer: unsafe extern "C" fn(P, S, c_int, *mut *mut c_void) -> OfxStatus,
    pub propGetString: unsafe extern "C" fn(P, S, c_int, *mut *mut c_char) -> OfxStatus,
    pub propGetDouble: unsafe extern "C" fn(P, S, c_int, *mut f64) -> OfxStatus,
    pub propGetInt: unsafe extern "C" fn(P, S, c_int, *mut c_int) -> OfxStatus,
    pub propGetPointerN: unsafe extern "C" fn(P, S, c_int, *mut *mut c_void) -> OfxStatus,
    pub propGetStringN: unsafe extern "C" fn(P, S, c_int, *mut *mut c_char) -> OfxStatus,
    pub propGetDoubleN: unsafe extern "C" fn(P, S, c_int, *mut f64) -> OfxStatus,
    pub propGetIntN: unsafe extern "C" fn(P, S, c_int, *mut c_int) -> OfxStatus,
    pub propReset: unsafe extern "C" fn(P, S) -> OfxStatus,
    pub propGetDimension: unsafe extern "C" fn(P, S, *mut c_int) -> OfxStatus,
}

#[repr(C)]
pub struct OfxImageEffectSuiteV1 {
    pub getPropertySet: unsafe extern "C" fn(OfxImageEffectHandle, *mut P) -> OfxStatus,
    pub getParamSet:
        unsafe extern "C" fn(OfxImageEffectHandle, *mut OfxParamSetHandle) -> OfxStatus,
    pub clipDefine: unsafe extern "C" fn(OfxImageEffectHandle, S, *mut P) -> OfxStatus,
    pub clipGetHandle:
        unsafe extern "C" fn(OfxImageEffectHandle, S, *mut OfxImageClipHandle, *mut P) -> OfxStatus,
    pub clipGetPropertySet: unsafe extern "C" fn(OfxImageClipHandle, *mut P) -> OfxStatus,
    pub clipGetImage:
        unsafe extern "C" fn(OfxImageClipHandle, OfxTime, *const OfxRectD, *mut P) -> OfxStatus,
    pub clipReleaseImage: unsafe extern "C" fn(P) -> OfxStatus,
    pub clipGetRegionOfDefinition:
        unsafe extern "C" fn(OfxImageClipHandle, OfxTime, *mut OfxRectD) -> OfxStatus,
    pub abort: unsafe extern "C" fn(OfxImageEffectHandle) -> c_int,
    pub imageMemoryAlloc:
        unsafe extern "C" fn(OfxImageEffectHandle, usize, *mut OfxImageMemoryHandle) -> OfxStatus,
    pub imageMemoryFree: unsafe extern "C" fn(OfxImageMemoryHandle) -> OfxStatus,
    pub imageMemoryLock: unsafe extern "C" fn(OfxImageMemoryHandle, *mut *mut c_void) -> OfxStatus,
    pub imageMemoryUnlock: unsafe extern "C" fn(OfxImageMemoryHandle) -> OfxStatus,
}

/// The parameter suite. Value getters and setters are C variadic functions: the plugin calls
/// them through these variadic pointer types. (A Rust host cannot define variadic functions on
/// stable Rust; see `dreamfx-test-host` for how it implements them on the x86-64 System V ABI.)
#[repr(C)]
pub struct OfxParameterSuiteV1 {
    pub paramDefine: unsafe extern "C" fn(OfxParamSetHandle, S, S, *mut P) -> OfxStatus,
    pub paramGetHandle:
        unsafe extern "C" fn(OfxParamSetHandle, S, *mut OfxParamHandle, *mut P) -> OfxStatus,
    pub paramSetGetPropertySet: unsafe extern "C" fn(OfxParamSetHandle, *mut P) -> OfxStatus,
    pub paramGetPropertySet: unsafe extern "C" fn(OfxParamHandle, *mut P) -> OfxStatus,
    pub paramGetValue: unsafe extern "C" fn(OfxParamHandle, ...) -> OfxStatus,
    pub paramGetValueAtTime: unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
    pub paramGetDerivative: unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
    pub paramGetIntegral: unsafe extern "C" fn(OfxParamHandle, OfxTime, OfxTime, ...) -> OfxStatus,
    pub paramSetValue: unsafe extern "C" fn(OfxParamHandle, ...) -> OfxStatus,
    pub paramSetValueAtTime: unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
    pub paramGetNumKeys: unsafe extern "C" fn(OfxParamHandle, *mut c_uint) -> OfxStatus,
    pub paramGetKeyTime: unsafe extern "C" fn(OfxParamHandle, c_uint, *mut OfxTime) -> OfxStatus,
    pub paramGetKeyIndex:
        unsafe extern "C" fn(OfxParamHandle, OfxTime, c_int, *mut c_int) -> OfxStatus,
    pub paramDeleteKey: unsafe extern "C" fn(OfxParamHandle, OfxTime) -> OfxStatus,
    pub paramDeleteAllKeys: unsafe extern "C" fn(OfxParamHandle) -> OfxStatus,
    pub paramCopy: unsafe extern "C" fn(
        OfxParamHandle,
        OfxParamHandle,
        OfxTime,
        *const OfxRangeD,
    ) -> OfxStatus,
    pub paramEditBegin: unsafe extern "C" fn(OfxParamSetHandle, S) -> OfxStatus,
    pub paramEditEnd: unsafe extern "C" fn(OfxParamSetHandle) -> OfxStatus,
}

/// Message suites: `format` is printf-like and variadic; dreamfx always passes "%s" and one
/// string argument.
#[repr(C)]
pub struct OfxMessageSuiteV1 {
    pub message: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
}
#[repr(C)]
pub struct OfxMessageSuiteV2 {
    pub message: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
    pub setPersistentMessage: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
    pub clearPersistentMessage: Option<unsafe extern "C" fn(*mut c_void) -> OfxStatus>,
}

#[repr(C)]
pub struct OfxProgressSuiteV1 {
    pub progressStart: Option<unsafe extern "C" fn(*mut c_void, S) -> OfxStatus>,
    pub progressUpdate: Option<unsafe extern "C" fn(*mut c_void, f64) -> OfxStatus>,
    pub progressEnd: Option<unsafe extern "C" fn(*mut c_void) -> OfxStatus>,
}
#[repr(C)]
pub struct OfxProgressSuiteV2 {
    pub progressStart: Option<unsafe extern "C" fn(*mut c_void, S, S) -> OfxStatus>,
    pub progressUpdate: Option<unsafe extern "C" fn(*mut c_void, f64) -> OfxStatus>,
    pub progressEnd: Option<unsafe extern "C" fn(*mut c_void) -> OfxStatus>,
}

// Status codes.
pub const kOfxStatOK: OfxStatus = 0;
pub const kOfxStatFailed: OfxStatus = 1;
pub const kOfxStatErrFatal: OfxStatus = 2;
pub const kOfxStatErrUnknown: OfxStatus = 3;
pub const kOfxStatErrMissingHostFeature: OfxStatus = 4;
pub const kOfxStatErrUnsupported: OfxStatus = 5;
pub const kOfxStatErrExists: OfxStatus = 6;
pub const kOfxStatErrFormat: OfxStatus = 7;
pub const kOfxStatErrMemory: OfxStatus = 8;
pub const kOfxStatErrBadHandle: OfxStatus = 9;
pub const kOfxStatErrBadIndex: OfxStatus = 10;
pub const kOfxStatErrValue: OfxStatus = 11;
pub const kOfxStatReplyYes: OfxStatus = 12;
pub const kOfxStatReplyNo: OfxStatus = 13;
pub const kOfxStatReplyDefault: OfxStatus = 14;

macro_rules! cstrs {
    ($($name:ident = $value:literal;)*) => { $(pub const $name: &CStr = $value;)* };
}

cstrs! {
    kOfxImageEffectPluginApi = c"OfxImageEffectPluginAPI";
    // Suites.
    kOfxPropertySuite = c"OfxPropertySuite";
    kOfxImageEffectSuite = c"OfxImageEffectSuite";
    kOfxParameterSuite = c"OfxParameterSuite";
    kOfxMessageSuite = c"OfxMessageSuite";
    kOfxProgressSuite = c"OfxProgressSuite";
    kOfxMemorySuite = c"OfxMemorySuite";
    kOfxMultiThreadSuite = c"OfxMultiThreadSuite";
    // Actions.
    kOfxActionLoad = c"OfxActionLoad";
    kOfxActionUnload = c"OfxActionUnload";
    kOfxActionDescribe = c"OfxActionDescribe";
    kOfxActionPurgeCaches = c"OfxActionPurgeCaches";
    kOfxActionSyncPrivateData = c"OfxActionSyncPrivateData";
    kOfxActionCreateInstance = c"OfxActionCreateInstance";
    kOfxActionDestroyInstance = c"OfxActionDestroyInstance";
    kOfxActionInstanceChanged = c"OfxActionInstanceChanged";
    kOfxActionBeginInstanceChanged = c"OfxActionBeginInstanceChanged";
    kOfxActionEndInstanceChanged = c"OfxActionEndInstanceChanged";
    kOfxActionBeginInstanceEdit = c"OfxActionBeginInstanceEdit";
    kOfxActionEndInstanceEdit = c"OfxActionEndInstanceEdit";
    kOfxImageEffectActionDescribeInContext = c"OfxImageEffectActionDescribeInContext";
    kOfxImageEffectActionGetRegionOfDefinition = c"OfxImageEffectActionGetRegionOfDefinition";
    kOfxImageEffectActionGetRegionsOfInterest = c"OfxImageEffectActionGetRegionsOfInterest";
    kOfxImageEffectActionGetTimeDomain = c"OfxImageEffectActionGetTimeDomain";
    kOfxImageEffectActionGetFramesNeeded = c"OfxImageEffectActionGetFramesNeeded";
    kOfxImageEffectActionGetClipPreferences = c"OfxImageEffectActionGetClipPreferences";
    kOfxImageEffectActionIsIdentity = c"OfxImageEffectActionIsIdentity";
    kOfxImageEffectActionRender = c"OfxImageEffectActionRender";
    kOfxImageEffectActionBeginSequenceRender = c"OfxImageEffectActionBeginSequenceRender";
    kOfxImageEffectActionEndSequenceRender = c"OfxImageEffectActionEndSequenceRender";
    // Generic properties.
    kOfxPropAPIVersion = c"OfxPropAPIVersion";
    kOfxPropType = c"OfxPropType";
    kOfxPropName = c"OfxPropName";
    kOfxPropLabel = c"OfxPropLabel";
    kOfxPropShortLabel = c"OfxPropShortLabel";
    kOfxPropLongLabel = c"OfxPropLongLabel";
    kOfxPropTime = c"OfxPropTime";
    kOfxPropChangeReason = c"OfxPropChangeReason";
    kOfxPropPluginDescription = c"OfxPropPluginDescription";
    kOfxPropVersion = c"OfxPropVersion";
    kOfxPropVersionLabel = c"OfxPropVersionLabel";
    kOfxPropInstanceData = c"OfxPropInstanceData";
    kOfxPropIsInteractive = c"OfxPropIsInteractive";
    kOfxPluginPropFilePath = c"OfxPluginPropFilePath";
    kOfxChangeUserEdited = c"OfxChangeUserEdited";
    kOfxChangePluginEdited = c"OfxChangePluginEdited";
    kOfxChangeTime = c"OfxChangeTime";
    kOfxTypeImageEffectHost = c"OfxTypeImageEffectHost";
    kOfxTypeImageEffect = c"OfxTypeImageEffect";
    kOfxTypeImageEffectInstance = c"OfxTypeImageEffectInstance";
    kOfxTypeParameter = c"OfxTypeParameter";
    kOfxTypeClip = c"OfxTypeClip";
    kOfxTypeImage = c"OfxTypeImage";
    // Image effect properties.
    kOfxImageEffectPropSupportedContexts = c"OfxImageEffectPropSupportedContexts";
    kOfxImageEffectPropContext = c"OfxImageEffectPropContext";
    kOfxImageEffectContextFilter = c"OfxImageEffectContextFilter";
    kOfxImageEffectContextGenerator = c"OfxImageEffectContextGenerator";
    kOfxImageEffectContextGeneral = c"OfxImageEffectContextGeneral";
    kOfxImageEffectPluginPropGrouping = c"OfxImageEffectPluginPropGrouping";
    kOfxImageEffectPluginPropSingleInstance = c"OfxImageEffectPluginPropSingleInstance";
    kOfxImageEffectPluginRenderThreadSafety = c"OfxImageEffectPluginRenderThreadSafety";
    kOfxImageEffectRenderFullySafe = c"OfxImageEffectRenderFullySafe";
    kOfxImageEffectRenderInstanceSafe = c"OfxImageEffectRenderInstanceSafe";
    kOfxImageEffectPluginPropHostFrameThreading = c"OfxImageEffectPluginPropHostFrameThreading";
    kOfxImageEffectPropSupportsMultiResolution = c"OfxImageEffectPropSupportsMultiResolution";
    kOfxImageEffectPropSupportsTiles = c"OfxImageEffectPropSupportsTiles";
    kOfxImageEffectPropTemporalClipAccess = c"OfxImageEffectPropTemporalClipAccess";
    kOfxImageEffectPropSupportsMultipleClipDepths = c"OfxImageEffectPropSupportsMultipleClipDepths";
    kOfxImageEffectPropSupportsMultipleClipPARs = c"OfxImageEffectPropSupportsMultipleClipPARs";
    kOfxImageEffectPropSupportedPixelDepths = c"OfxImageEffectPropSupportedPixelDepths";
    kOfxImageEffectPropSupportedComponents = c"OfxImageEffectPropSupportedComponents";
    kOfxImageEffectPropPixelDepth = c"OfxImageEffectPropPixelDepth";
    kOfxImageEffectPropComponents = c"OfxImageEffectPropComponents";
    kOfxImageEffectPropPreMultiplication = c"OfxImageEffectPropPreMultiplication";
    kOfxImageEffectPropFrameRange = c"OfxImageEffectPropFrameRange";
    kOfxImageEffectPropUnmappedFrameRange = c"OfxImageEffectPropUnmappedFrameRange";
    kOfxImageEffectPropFrameRate = c"OfxImageEffectPropFrameRate";
    kOfxImageEffectPropRenderScale = c"OfxImageEffectPropRenderScale";
    kOfxImageEffectPropRenderWindow = c"OfxImageEffectPropRenderWindow";
    kOfxImageEffectPropFieldToRender = c"OfxImageEffectPropFieldToRender";
    kOfxImageEffectPropSequentialRenderStatus = c"OfxImageEffectPropSequentialRenderStatus";
    kOfxImageEffectPropInteractiveRenderStatus = c"OfxImageEffectPropInteractiveRenderStatus";
    kOfxImageEffectPropRegionOfDefinition = c"OfxImageEffectPropRegionOfDefinition";
    kOfxImageEffectFrameVarying = c"OfxImageEffectFrameVarying";
    kOfxImageEffectInstancePropSequentialRender = c"OfxImageEffectInstancePropSequentialRender";
    kOfxImageEffectHostPropIsBackground = c"OfxImageEffectHostPropIsBackground";
    kOfxImageEffectOutputClipName = c"Output";
    kOfxImageEffectSimpleSourceClipName = c"Source";
    kOfxBitDepthNone = c"OfxBitDepthNone";
    kOfxBitDepthByte = c"OfxBitDepthByte";
    kOfxBitDepthShort = c"OfxBitDepthShort";
    kOfxBitDepthHalf = c"OfxBitDepthHalf";
    kOfxBitDepthFloat = c"OfxBitDepthFloat";
    kOfxImageComponentNone = c"OfxImageComponentNone";
    kOfxImageComponentRGBA = c"OfxImageComponentRGBA";
    kOfxImageComponentRGB = c"OfxImageComponentRGB";
    kOfxImageComponentAlpha = c"OfxImageComponentAlpha";
    kOfxImageOpaque = c"OfxImageOpaque";
    kOfxImagePreMultiplied = c"OfxImageAlphaPremultiplied";
    kOfxImageUnPreMultiplied = c"OfxImageAlphaUnPremultiplied";
    // Clips and images.
    kOfxImageClipPropConnected = c"OfxImageClipPropConnected";
    kOfxImageClipPropOptional = c"OfxImageClipPropOptional";
    kOfxImageClipPropIsMask = c"OfxImageClipPropIsMask";
    kOfxImageClipPropUnmappedComponents = c"OfxImageClipPropUnmappedComponents";
    kOfxImageClipPropUnmappedPixelDepth = c"OfxImageClipPropUnmappedPixelDepth";
    kOfxImageClipPropContinuousSamples = c"OfxImageClipPropContinuousSamples";
    kOfxImagePropData = c"OfxImagePropData";
    kOfxImagePropBounds = c"OfxImagePropBounds";
    kOfxImagePropRegionOfDefinition = c"OfxImagePropRegionOfDefinition";
    kOfxImagePropRowBytes = c"OfxImagePropRowBytes";
    kOfxImagePropPixelAspectRatio = c"OfxImagePropPixelAspectRatio";
    kOfxImagePropField = c"OfxImagePropField";
    kOfxImagePropUniqueIdentifier = c"OfxImagePropUniqueIdentifier";
    kOfxImageFieldNone = c"OfxImageFieldNone";
    // Per-clip out-arg prefixes: the clip name is appended.
    kOfxImageClipPropFrameRange_ = c"OfxImageClipPropFrameRange_";
    kOfxImageClipPropRoI_ = c"OfxImageClipPropRoI_";
    kOfxImageClipPropComponents_ = c"OfxImageClipPropComponents_";
    kOfxImageClipPropDepth_ = c"OfxImageClipPropDepth_";
    kOfxImageClipPropPAR_ = c"OfxImageClipPropPAR_";
    // Parameters.
    kOfxParamTypeInteger = c"OfxParamTypeInteger";
    kOfxParamTypeDouble = c"OfxParamTypeDouble";
    kOfxParamTypeBoolean = c"OfxParamTypeBoolean";
    kOfxParamTypeChoice = c"OfxParamTypeChoice";
    kOfxParamTypeString = c"OfxParamTypeString";
    kOfxParamTypePushButton = c"OfxParamTypePushButton";
    kOfxParamTypeGroup = c"OfxParamTypeGroup";
    kOfxParamTypePage = c"OfxParamTypePage";
    kOfxParamPropDefault = c"OfxParamPropDefault";
    kOfxParamPropMin = c"OfxParamPropMin";
    kOfxParamPropMax = c"OfxParamPropMax";
    kOfxParamPropDisplayMin = c"OfxParamPropDisplayMin";
    kOfxParamPropDisplayMax = c"OfxParamPropDisplayMax";
    kOfxParamPropHint = c"OfxParamPropHint";
    kOfxParamPropScriptName = c"OfxParamPropScriptName";
    kOfxParamPropAnimates = c"OfxParamPropAnimates";
    kOfxParamPropParent = c"OfxParamPropParent";
    kOfxParamPropPageChild = c"OfxParamPropPageChild";
    kOfxParamPropChoiceOption = c"OfxParamPropChoiceOption";
    kOfxParamPropDoubleType = c"OfxParamPropDoubleType";
    kOfxParamDoubleTypePlain = c"OfxParamDoubleTypePlain";
    kOfxParamPropIncrement = c"OfxParamPropIncrement";
    kOfxParamPropDigits = c"OfxParamPropDigits";
    kOfxParamPropEvaluateOnChange = c"OfxParamPropEvaluateOnChange";
    kOfxParamPropStringMode = c"OfxParamPropStringMode";
    kOfxParamStringIsSingleLine = c"OfxParamStringIsSingleLine";
    kOfxParamStringIsMultiLine = c"OfxParamStringIsMultiLine";
    // Messages.
    kOfxMessageError = c"OfxMessageError";
    kOfxMessageWarning = c"OfxMessageWarning";
    kOfxMessageMessage = c"OfxMessageMessage";
    kOfxMessageLog = c"OfxMessageLog";
}
