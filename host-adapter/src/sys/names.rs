// @generated from the official OpenFX headers (openfx-sys 0.1.0, fetched into
// third_party/openfx/include by scripts/fetch-openfx.sh) by host-adapter/tests/ofx_names.rs.
// Do not edit: regenerate with
//   DREAMFX_REGENERATE_OFX_NAMES=1 cargo test -p dreamfx-host-adapter --test ofx_names
use std::ffi::{c_int, CStr};

use super::OfxStatus;

// ofxCore.h
pub const kOfxActionLoad: &CStr = c"OfxActionLoad";
pub const kOfxActionDescribe: &CStr = c"OfxActionDescribe";
pub const kOfxActionUnload: &CStr = c"OfxActionUnload";
pub const kOfxActionPurgeCaches: &CStr = c"OfxActionPurgeCaches";
pub const kOfxActionSyncPrivateData: &CStr = c"OfxActionSyncPrivateData";
pub const kOfxActionCreateInstance: &CStr = c"OfxActionCreateInstance";
pub const kOfxActionDestroyInstance: &CStr = c"OfxActionDestroyInstance";
pub const kOfxActionInstanceChanged: &CStr = c"OfxActionInstanceChanged";
pub const kOfxActionBeginInstanceChanged: &CStr = c"OfxActionBeginInstanceChanged";
pub const kOfxActionEndInstanceChanged: &CStr = c"OfxActionEndInstanceChanged";
pub const kOfxActionBeginInstanceEdit: &CStr = c"OfxActionBeginInstanceEdit";
pub const kOfxActionEndInstanceEdit: &CStr = c"OfxActionEndInstanceEdit";
pub const kOfxPropAPIVersion: &CStr = c"OfxPropAPIVersion";
pub const kOfxPropTime: &CStr = c"OfxPropTime";
pub const kOfxPropIsInteractive: &CStr = c"OfxPropIsInteractive";
pub const kOfxPluginPropFilePath: &CStr = c"OfxPluginPropFilePath";
pub const kOfxPropInstanceData: &CStr = c"OfxPropInstanceData";
pub const kOfxPropType: &CStr = c"OfxPropType";
pub const kOfxPropName: &CStr = c"OfxPropName";
pub const kOfxPropVersion: &CStr = c"OfxPropVersion";
pub const kOfxPropVersionLabel: &CStr = c"OfxPropVersionLabel";
pub const kOfxPropPluginDescription: &CStr = c"OfxPropPluginDescription";
pub const kOfxPropLabel: &CStr = c"OfxPropLabel";
pub const kOfxPropIcon: &CStr = c"OfxPropIcon";
pub const kOfxPropShortLabel: &CStr = c"OfxPropShortLabel";
pub const kOfxPropLongLabel: &CStr = c"OfxPropLongLabel";
pub const kOfxPropChangeReason: &CStr = c"OfxPropChangeReason";
pub const kOfxPropEffectInstance: &CStr = c"OfxPropEffectInstance";
pub const kOfxPropHostOSHandle: &CStr = c"OfxPropHostOSHandle";
pub const kOfxChangeUserEdited: &CStr = c"OfxChangeUserEdited";
pub const kOfxChangePluginEdited: &CStr = c"OfxChangePluginEdited";
pub const kOfxChangeTime: &CStr = c"OfxChangeTime";
pub const kOfxFlagInfiniteMax: c_int = c_int::MAX;
pub const kOfxFlagInfiniteMin: c_int = c_int::MIN;
pub const kOfxBitDepthNone: &CStr = c"OfxBitDepthNone";
pub const kOfxBitDepthByte: &CStr = c"OfxBitDepthByte";
pub const kOfxBitDepthShort: &CStr = c"OfxBitDepthShort";
pub const kOfxBitDepthHalf: &CStr = c"OfxBitDepthHalf";
pub const kOfxBitDepthFloat: &CStr = c"OfxBitDepthFloat";
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

// ofxDialog.h
pub const kOfxDialogSuite: &CStr = c"OfxDialogSuite";
pub const kOfxActionDialog: &CStr = c"OfxActionDialog";

// ofxDrawSuite.h
pub const kOfxDrawSuite: &CStr = c"OfxDrawSuite";
pub const kOfxInteractPropDrawContext: &CStr = c"OfxInteractPropDrawContext";

// ofxImageEffect.h
pub const kOfxImageEffectPluginApi: &CStr = c"OfxImageEffectPluginAPI";
pub const kOfxImageEffectPluginApiVersion: c_int = 1;
pub const kOfxImageComponentNone: &CStr = c"OfxImageComponentNone";
pub const kOfxImageComponentRGBA: &CStr = c"OfxImageComponentRGBA";
pub const kOfxImageComponentRGB: &CStr = c"OfxImageComponentRGB";
pub const kOfxImageComponentAlpha: &CStr = c"OfxImageComponentAlpha";
pub const kOfxImageEffectContextGenerator: &CStr = c"OfxImageEffectContextGenerator";
pub const kOfxImageEffectContextFilter: &CStr = c"OfxImageEffectContextFilter";
pub const kOfxImageEffectContextTransition: &CStr = c"OfxImageEffectContextTransition";
pub const kOfxImageEffectContextPaint: &CStr = c"OfxImageEffectContextPaint";
pub const kOfxImageEffectContextGeneral: &CStr = c"OfxImageEffectContextGeneral";
pub const kOfxImageEffectContextRetimer: &CStr = c"OfxImageEffectContextRetimer";
pub const kOfxTypeImageEffectHost: &CStr = c"OfxTypeImageEffectHost";
pub const kOfxTypeImageEffect: &CStr = c"OfxTypeImageEffect";
pub const kOfxTypeImageEffectInstance: &CStr = c"OfxTypeImageEffectInstance";
pub const kOfxTypeClip: &CStr = c"OfxTypeClip";
pub const kOfxTypeImage: &CStr = c"OfxTypeImage";
pub const kOfxImageEffectActionGetRegionOfDefinition: &CStr = c"OfxImageEffectActionGetRegionOfDefinition";
pub const kOfxImageEffectActionGetRegionsOfInterest: &CStr = c"OfxImageEffectActionGetRegionsOfInterest";
pub const kOfxImageEffectActionGetTimeDomain: &CStr = c"OfxImageEffectActionGetTimeDomain";
pub const kOfxImageEffectActionGetFramesNeeded: &CStr = c"OfxImageEffectActionGetFramesNeeded";
pub const kOfxImageEffectActionGetClipPreferences: &CStr = c"OfxImageEffectActionGetClipPreferences";
pub const kOfxImageEffectActionIsIdentity: &CStr = c"OfxImageEffectActionIsIdentity";
pub const kOfxImageEffectActionRender: &CStr = c"OfxImageEffectActionRender";
pub const kOfxImageEffectActionBeginSequenceRender: &CStr = c"OfxImageEffectActionBeginSequenceRender";
pub const kOfxImageEffectActionEndSequenceRender: &CStr = c"OfxImageEffectActionEndSequenceRender";
pub const kOfxImageEffectActionDescribeInContext: &CStr = c"OfxImageEffectActionDescribeInContext";
pub const kOfxImageEffectPropSupportedContexts: &CStr = c"OfxImageEffectPropSupportedContexts";
pub const kOfxImageEffectPropPluginHandle: &CStr = c"OfxImageEffectPropPluginHandle";
pub const kOfxImageEffectHostPropIsBackground: &CStr = c"OfxImageEffectHostPropIsBackground";
pub const kOfxImageEffectPluginPropSingleInstance: &CStr = c"OfxImageEffectPluginPropSingleInstance";
pub const kOfxImageEffectPluginRenderThreadSafety: &CStr = c"OfxImageEffectPluginRenderThreadSafety";
pub const kOfxImageEffectRenderUnsafe: &CStr = c"OfxImageEffectRenderUnsafe";
pub const kOfxImageEffectRenderInstanceSafe: &CStr = c"OfxImageEffectRenderInstanceSafe";
pub const kOfxImageEffectRenderFullySafe: &CStr = c"OfxImageEffectRenderFullySafe";
pub const kOfxImageEffectPluginPropHostFrameThreading: &CStr = c"OfxImageEffectPluginPropHostFrameThreading";
pub const kOfxImageEffectPropSupportsMultipleClipDepths: &CStr = c"OfxImageEffectPropMultipleClipDepths";
pub const kOfxImageEffectPropSupportsMultipleClipPARs: &CStr = c"OfxImageEffectPropSupportsMultipleClipPARs";
pub const kOfxImageEffectPropClipPreferencesSlaveParam: &CStr = c"OfxImageEffectPropClipPreferencesSlaveParam";
pub const kOfxImageEffectPropSetableFrameRate: &CStr = c"OfxImageEffectPropSetableFrameRate";
pub const kOfxImageEffectPropSetableFielding: &CStr = c"OfxImageEffectPropSetableFielding";
pub const kOfxImageEffectInstancePropSequentialRender: &CStr = c"OfxImageEffectInstancePropSequentialRender";
pub const kOfxImageEffectPropSequentialRenderStatus: &CStr = c"OfxImageEffectPropSequentialRenderStatus";
pub const kOfxHostNativeOriginBottomLeft: &CStr = c"kOfxImageEffectHostPropNativeOriginBottomLeft";
pub const kOfxHostNativeOriginTopLeft: &CStr = c"kOfxImageEffectHostPropNativeOriginTopLeft";
pub const kOfxHostNativeOriginCenter: &CStr = c"kOfxImageEffectHostPropNativeOriginCenter";
pub const kOfxImageEffectHostPropNativeOrigin: &CStr = c"OfxImageEffectHostPropNativeOrigin";
pub const kOfxImageEffectPropInteractiveRenderStatus: &CStr = c"OfxImageEffectPropInteractiveRenderStatus";
pub const kOfxImageEffectPluginPropGrouping: &CStr = c"OfxImageEffectPluginPropGrouping";
pub const kOfxImageEffectPropSupportsOverlays: &CStr = c"OfxImageEffectPropSupportsOverlays";
pub const kOfxImageEffectPluginPropOverlayInteractV1: &CStr = c"OfxImageEffectPluginPropOverlayInteractV1";
pub const kOfxImageEffectPluginPropOverlayInteractV2: &CStr = c"OfxImageEffectPluginPropOverlayInteractV2";
pub const kOfxImageEffectPropSupportsMultiResolution: &CStr = c"OfxImageEffectPropSupportsMultiResolution";
pub const kOfxImageEffectPropSupportsTiles: &CStr = c"OfxImageEffectPropSupportsTiles";
pub const kOfxImageEffectPropTemporalClipAccess: &CStr = c"OfxImageEffectPropTemporalClipAccess";
pub const kOfxImageEffectPropContext: &CStr = c"OfxImageEffectPropContext";
pub const kOfxImageEffectPropPixelDepth: &CStr = c"OfxImageEffectPropPixelDepth";
pub const kOfxImageEffectPropComponents: &CStr = c"OfxImageEffectPropComponents";
pub const kOfxImagePropUniqueIdentifier: &CStr = c"OfxImagePropUniqueIdentifier";
pub const kOfxImageClipPropContinuousSamples: &CStr = c"OfxImageClipPropContinuousSamples";
pub const kOfxImageClipPropUnmappedPixelDepth: &CStr = c"OfxImageClipPropUnmappedPixelDepth";
pub const kOfxImageClipPropUnmappedComponents: &CStr = c"OfxImageClipPropUnmappedComponents";
pub const kOfxImageEffectPropPreMultiplication: &CStr = c"OfxImageEffectPropPreMultiplication";
pub const kOfxImageOpaque: &CStr = c"OfxImageOpaque";
pub const kOfxImagePreMultiplied: &CStr = c"OfxImageAlphaPremultiplied";
pub const kOfxImageUnPreMultiplied: &CStr = c"OfxImageAlphaUnPremultiplied";
pub const kOfxImageEffectPropSupportedPixelDepths: &CStr = c"OfxImageEffectPropSupportedPixelDepths";
pub const kOfxImageEffectPropSupportedComponents: &CStr = c"OfxImageEffectPropSupportedComponents";
pub const kOfxImageClipPropOptional: &CStr = c"OfxImageClipPropOptional";
pub const kOfxImageClipPropIsMask: &CStr = c"OfxImageClipPropIsMask";
pub const kOfxImagePropPixelAspectRatio: &CStr = c"OfxImagePropPixelAspectRatio";
pub const kOfxImageEffectPropFrameRate: &CStr = c"OfxImageEffectPropFrameRate";
pub const kOfxImageEffectPropUnmappedFrameRate: &CStr = c"OfxImageEffectPropUnmappedFrameRate";
pub const kOfxImageEffectPropFrameStep: &CStr = c"OfxImageEffectPropFrameStep";
pub const kOfxImageEffectPropFrameRange: &CStr = c"OfxImageEffectPropFrameRange";
pub const kOfxImageEffectPropUnmappedFrameRange: &CStr = c"OfxImageEffectPropUnmappedFrameRange";
pub const kOfxImageClipPropConnected: &CStr = c"OfxImageClipPropConnected";
pub const kOfxImageEffectFrameVarying: &CStr = c"OfxImageEffectFrameVarying";
pub const kOfxImageEffectPropRenderScale: &CStr = c"OfxImageEffectPropRenderScale";
pub const kOfxImageEffectPropRenderQualityDraft: &CStr = c"OfxImageEffectPropRenderQualityDraft";
pub const kOfxImageEffectPropProjectExtent: &CStr = c"OfxImageEffectPropProjectExtent";
pub const kOfxImageEffectPropProjectSize: &CStr = c"OfxImageEffectPropProjectSize";
pub const kOfxImageEffectPropProjectOffset: &CStr = c"OfxImageEffectPropProjectOffset";
pub const kOfxImageEffectPropProjectPixelAspectRatio: &CStr = c"OfxImageEffectPropPixelAspectRatio";
pub const kOfxImageEffectInstancePropEffectDuration: &CStr = c"OfxImageEffectInstancePropEffectDuration";
pub const kOfxImageClipPropFieldOrder: &CStr = c"OfxImageClipPropFieldOrder";
pub const kOfxImagePropData: &CStr = c"OfxImagePropData";
pub const kOfxImagePropBounds: &CStr = c"OfxImagePropBounds";
pub const kOfxImagePropRegionOfDefinition: &CStr = c"OfxImagePropRegionOfDefinition";
pub const kOfxImagePropRowBytes: &CStr = c"OfxImagePropRowBytes";
pub const kOfxImagePropField: &CStr = c"OfxImagePropField";
pub const kOfxImageEffectPluginPropFieldRenderTwiceAlways: &CStr = c"OfxImageEffectPluginPropFieldRenderTwiceAlways";
pub const kOfxImageClipPropFieldExtraction: &CStr = c"OfxImageClipPropFieldExtraction";
pub const kOfxImageEffectPropFieldToRender: &CStr = c"OfxImageEffectPropFieldToRender";
pub const kOfxImageEffectPropRegionOfDefinition: &CStr = c"OfxImageEffectPropRegionOfDefinition";
pub const kOfxImageEffectPropRegionOfInterest: &CStr = c"OfxImageEffectPropRegionOfInterest";
pub const kOfxImageEffectPropRenderWindow: &CStr = c"OfxImageEffectPropRenderWindow";
pub const kOfxImageEffectPropCudaRenderSupported: &CStr = c"OfxImageEffectPropCudaRenderSupported";
pub const kOfxImageEffectPropCudaEnabled: &CStr = c"OfxImageEffectPropCudaEnabled";
pub const kOfxImageEffectPropCudaStreamSupported: &CStr = c"OfxImageEffectPropCudaStreamSupported";
pub const kOfxImageEffectPropCudaStream: &CStr = c"OfxImageEffectPropCudaStream";
pub const kOfxImageEffectPropMetalRenderSupported: &CStr = c"OfxImageEffectPropMetalRenderSupported";
pub const kOfxImageEffectPropMetalEnabled: &CStr = c"OfxImageEffectPropMetalEnabled";
pub const kOfxImageEffectPropMetalCommandQueue: &CStr = c"OfxImageEffectPropMetalCommandQueue";
pub const kOfxImageEffectPropOpenCLRenderSupported: &CStr = c"OfxImageEffectPropOpenCLRenderSupported";
pub const kOfxImageEffectPropOpenCLEnabled: &CStr = c"OfxImageEffectPropOpenCLEnabled";
pub const kOfxImageEffectPropOpenCLCommandQueue: &CStr = c"OfxImageEffectPropOpenCLCommandQueue";
pub const kOfxImageFieldNone: &CStr = c"OfxFieldNone";
pub const kOfxImageFieldLower: &CStr = c"OfxFieldLower";
pub const kOfxImageFieldUpper: &CStr = c"OfxFieldUpper";
pub const kOfxImageFieldBoth: &CStr = c"OfxFieldBoth";
pub const kOfxImageFieldSingle: &CStr = c"OfxFieldSingle";
pub const kOfxImageFieldDoubled: &CStr = c"OfxFieldDoubled";
pub const kOfxImageEffectOutputClipName: &CStr = c"Output";
pub const kOfxImageEffectSimpleSourceClipName: &CStr = c"Source";
pub const kOfxImageEffectTransitionSourceFromClipName: &CStr = c"SourceFrom";
pub const kOfxImageEffectTransitionSourceToClipName: &CStr = c"SourceTo";
pub const kOfxImageEffectTransitionParamName: &CStr = c"Transition";
pub const kOfxImageEffectRetimerParamName: &CStr = c"SourceTime";
pub const kOfxImageEffectSuite: &CStr = c"OfxImageEffectSuite";
pub const kOfxStatErrImageFormat: OfxStatus = 1000;

// ofxInteract.h
pub const kOfxInteractSuite: &CStr = c"OfxInteractSuite";
pub const kOfxInteractPropSlaveToParam: &CStr = c"OfxInteractPropSlaveToParam";
pub const kOfxInteractPropPixelScale: &CStr = c"OfxInteractPropPixelScale";
pub const kOfxInteractPropBackgroundColour: &CStr = c"OfxInteractPropBackgroundColour";
pub const kOfxInteractPropSuggestedColour: &CStr = c"OfxInteractPropSuggestedColour";
pub const kOfxInteractPropPenPosition: &CStr = c"OfxInteractPropPenPosition";
pub const kOfxInteractPropPenViewportPosition: &CStr = c"OfxInteractPropPenViewportPosition";
pub const kOfxInteractPropPenPressure: &CStr = c"OfxInteractPropPenPressure";
pub const kOfxInteractPropBitDepth: &CStr = c"OfxInteractPropBitDepth";
pub const kOfxInteractPropHasAlpha: &CStr = c"OfxInteractPropHasAlpha";
pub const kOfxActionDescribeInteract: &CStr = kOfxActionDescribe;
pub const kOfxActionCreateInstanceInteract: &CStr = kOfxActionCreateInstance;
pub const kOfxActionDestroyInstanceInteract: &CStr = kOfxActionDestroyInstance;
pub const kOfxInteractActionDraw: &CStr = c"OfxInteractActionDraw";
pub const kOfxInteractActionPenMotion: &CStr = c"OfxInteractActionPenMotion";
pub const kOfxInteractActionPenDown: &CStr = c"OfxInteractActionPenDown";
pub const kOfxInteractActionPenUp: &CStr = c"OfxInteractActionPenUp";
pub const kOfxInteractActionKeyDown: &CStr = c"OfxInteractActionKeyDown";
pub const kOfxInteractActionKeyUp: &CStr = c"OfxInteractActionKeyUp";
pub const kOfxInteractActionKeyRepeat: &CStr = c"OfxInteractActionKeyRepeat";
pub const kOfxInteractActionGainFocus: &CStr = c"OfxInteractActionGainFocus";
pub const kOfxInteractActionLoseFocus: &CStr = c"OfxInteractActionLoseFocus";

// ofxKeySyms.h
pub const kOfxPropKeySym: &CStr = c"kOfxPropKeySym";
pub const kOfxPropKeyString: &CStr = c"kOfxPropKeyString";
pub const kOfxKey_Unknown: c_int = 0x0;
pub const kOfxKey_BackSpace: c_int = 0xFF08;
pub const kOfxKey_Tab: c_int = 0xFF09;
pub const kOfxKey_Linefeed: c_int = 0xFF0A;
pub const kOfxKey_Clear: c_int = 0xFF0B;
pub const kOfxKey_Return: c_int = 0xFF0D;
pub const kOfxKey_Pause: c_int = 0xFF13;
pub const kOfxKey_Scroll_Lock: c_int = 0xFF14;
pub const kOfxKey_Sys_Req: c_int = 0xFF15;
pub const kOfxKey_Escape: c_int = 0xFF1B;
pub const kOfxKey_Delete: c_int = 0xFFFF;
pub const kOfxKey_Multi_key: c_int = 0xFF20;
pub const kOfxKey_SingleCandidate: c_int = 0xFF3C;
pub const kOfxKey_MultipleCandidate: c_int = 0xFF3D;
pub const kOfxKey_PreviousCandidate: c_int = 0xFF3E;
pub const kOfxKey_Kanji: c_int = 0xFF21;
pub const kOfxKey_Muhenkan: c_int = 0xFF22;
pub const kOfxKey_Henkan_Mode: c_int = 0xFF23;
pub const kOfxKey_Henkan: c_int = 0xFF23;
pub const kOfxKey_Romaji: c_int = 0xFF24;
pub const kOfxKey_Hiragana: c_int = 0xFF25;
pub const kOfxKey_Katakana: c_int = 0xFF26;
pub const kOfxKey_Hiragana_Katakana: c_int = 0xFF27;
pub const kOfxKey_Zenkaku: c_int = 0xFF28;
pub const kOfxKey_Hankaku: c_int = 0xFF29;
pub const kOfxKey_Zenkaku_Hankaku: c_int = 0xFF2A;
pub const kOfxKey_Touroku: c_int = 0xFF2B;
pub const kOfxKey_Massyo: c_int = 0xFF2C;
pub const kOfxKey_Kana_Lock: c_int = 0xFF2D;
pub const kOfxKey_Kana_Shift: c_int = 0xFF2E;
pub const kOfxKey_Eisu_Shift: c_int = 0xFF2F;
pub const kOfxKey_Eisu_toggle: c_int = 0xFF30;
pub const kOfxKey_Zen_Koho: c_int = 0xFF3D;
pub const kOfxKey_Mae_Koho: c_int = 0xFF3E;
pub const kOfxKey_Home: c_int = 0xFF50;
pub const kOfxKey_Left: c_int = 0xFF51;
pub const kOfxKey_Up: c_int = 0xFF52;
pub const kOfxKey_Right: c_int = 0xFF53;
pub const kOfxKey_Down: c_int = 0xFF54;
pub const kOfxKey_Prior: c_int = 0xFF55;
pub const kOfxKey_Page_Up: c_int = 0xFF55;
pub const kOfxKey_Next: c_int = 0xFF56;
pub const kOfxKey_Page_Down: c_int = 0xFF56;
pub const kOfxKey_End: c_int = 0xFF57;
pub const kOfxKey_Begin: c_int = 0xFF58;
pub const kOfxKey_Select: c_int = 0xFF60;
pub const kOfxKey_Print: c_int = 0xFF61;
pub const kOfxKey_Execute: c_int = 0xFF62;
pub const kOfxKey_Insert: c_int = 0xFF63;
pub const kOfxKey_Undo: c_int = 0xFF65;
pub const kOfxKey_Redo: c_int = 0xFF66;
pub const kOfxKey_Menu: c_int = 0xFF67;
pub const kOfxKey_Find: c_int = 0xFF68;
pub const kOfxKey_Cancel: c_int = 0xFF69;
pub const kOfxKey_Help: c_int = 0xFF6A;
pub const kOfxKey_Break: c_int = 0xFF6B;
pub const kOfxKey_Mode_switch: c_int = 0xFF7E;
pub const kOfxKey_script_switch: c_int = 0xFF7E;
pub const kOfxKey_Num_Lock: c_int = 0xFF7F;
pub const kOfxKey_KP_Space: c_int = 0xFF80;
pub const kOfxKey_KP_Tab: c_int = 0xFF89;
pub const kOfxKey_KP_Enter: c_int = 0xFF8D;
pub const kOfxKey_KP_F1: c_int = 0xFF91;
pub const kOfxKey_KP_F2: c_int = 0xFF92;
pub const kOfxKey_KP_F3: c_int = 0xFF93;
pub const kOfxKey_KP_F4: c_int = 0xFF94;
pub const kOfxKey_KP_Home: c_int = 0xFF95;
pub const kOfxKey_KP_Left: c_int = 0xFF96;
pub const kOfxKey_KP_Up: c_int = 0xFF97;
pub const kOfxKey_KP_Right: c_int = 0xFF98;
pub const kOfxKey_KP_Down: c_int = 0xFF99;
pub const kOfxKey_KP_Prior: c_int = 0xFF9A;
pub const kOfxKey_KP_Page_Up: c_int = 0xFF9A;
pub const kOfxKey_KP_Next: c_int = 0xFF9B;
pub const kOfxKey_KP_Page_Down: c_int = 0xFF9B;
pub const kOfxKey_KP_End: c_int = 0xFF9C;
pub const kOfxKey_KP_Begin: c_int = 0xFF9D;
pub const kOfxKey_KP_Insert: c_int = 0xFF9E;
pub const kOfxKey_KP_Delete: c_int = 0xFF9F;
pub const kOfxKey_KP_Equal: c_int = 0xFFBD;
pub const kOfxKey_KP_Multiply: c_int = 0xFFAA;
pub const kOfxKey_KP_Add: c_int = 0xFFAB;
pub const kOfxKey_KP_Separator: c_int = 0xFFAC;
pub const kOfxKey_KP_Subtract: c_int = 0xFFAD;
pub const kOfxKey_KP_Decimal: c_int = 0xFFAE;
pub const kOfxKey_KP_Divide: c_int = 0xFFAF;
pub const kOfxKey_KP_0: c_int = 0xFFB0;
pub const kOfxKey_KP_1: c_int = 0xFFB1;
pub const kOfxKey_KP_2: c_int = 0xFFB2;
pub const kOfxKey_KP_3: c_int = 0xFFB3;
pub const kOfxKey_KP_4: c_int = 0xFFB4;
pub const kOfxKey_KP_5: c_int = 0xFFB5;
pub const kOfxKey_KP_6: c_int = 0xFFB6;
pub const kOfxKey_KP_7: c_int = 0xFFB7;
pub const kOfxKey_KP_8: c_int = 0xFFB8;
pub const kOfxKey_KP_9: c_int = 0xFFB9;
pub const kOfxKey_F1: c_int = 0xFFBE;
pub const kOfxKey_F2: c_int = 0xFFBF;
pub const kOfxKey_F3: c_int = 0xFFC0;
pub const kOfxKey_F4: c_int = 0xFFC1;
pub const kOfxKey_F5: c_int = 0xFFC2;
pub const kOfxKey_F6: c_int = 0xFFC3;
pub const kOfxKey_F7: c_int = 0xFFC4;
pub const kOfxKey_F8: c_int = 0xFFC5;
pub const kOfxKey_F9: c_int = 0xFFC6;
pub const kOfxKey_F10: c_int = 0xFFC7;
pub const kOfxKey_F11: c_int = 0xFFC8;
pub const kOfxKey_L1: c_int = 0xFFC8;
pub const kOfxKey_F12: c_int = 0xFFC9;
pub const kOfxKey_L2: c_int = 0xFFC9;
pub const kOfxKey_F13: c_int = 0xFFCA;
pub const kOfxKey_L3: c_int = 0xFFCA;
pub const kOfxKey_F14: c_int = 0xFFCB;
pub const kOfxKey_L4: c_int = 0xFFCB;
pub const kOfxKey_F15: c_int = 0xFFCC;
pub const kOfxKey_L5: c_int = 0xFFCC;
pub const kOfxKey_F16: c_int = 0xFFCD;
pub const kOfxKey_L6: c_int = 0xFFCD;
pub const kOfxKey_F17: c_int = 0xFFCE;
pub const kOfxKey_L7: c_int = 0xFFCE;
pub const kOfxKey_F18: c_int = 0xFFCF;
pub const kOfxKey_L8: c_int = 0xFFCF;
pub const kOfxKey_F19: c_int = 0xFFD0;
pub const kOfxKey_L9: c_int = 0xFFD0;
pub const kOfxKey_F20: c_int = 0xFFD1;
pub const kOfxKey_L10: c_int = 0xFFD1;
pub const kOfxKey_F21: c_int = 0xFFD2;
pub const kOfxKey_R1: c_int = 0xFFD2;
pub const kOfxKey_F22: c_int = 0xFFD3;
pub const kOfxKey_R2: c_int = 0xFFD3;
pub const kOfxKey_F23: c_int = 0xFFD4;
pub const kOfxKey_R3: c_int = 0xFFD4;
pub const kOfxKey_F24: c_int = 0xFFD5;
pub const kOfxKey_R4: c_int = 0xFFD5;
pub const kOfxKey_F25: c_int = 0xFFD6;
pub const kOfxKey_R5: c_int = 0xFFD6;
pub const kOfxKey_F26: c_int = 0xFFD7;
pub const kOfxKey_R6: c_int = 0xFFD7;
pub const kOfxKey_F27: c_int = 0xFFD8;
pub const kOfxKey_R7: c_int = 0xFFD8;
pub const kOfxKey_F28: c_int = 0xFFD9;
pub const kOfxKey_R8: c_int = 0xFFD9;
pub const kOfxKey_F29: c_int = 0xFFDA;
pub const kOfxKey_R9: c_int = 0xFFDA;
pub const kOfxKey_F30: c_int = 0xFFDB;
pub const kOfxKey_R10: c_int = 0xFFDB;
pub const kOfxKey_F31: c_int = 0xFFDC;
pub const kOfxKey_R11: c_int = 0xFFDC;
pub const kOfxKey_F32: c_int = 0xFFDD;
pub const kOfxKey_R12: c_int = 0xFFDD;
pub const kOfxKey_F33: c_int = 0xFFDE;
pub const kOfxKey_R13: c_int = 0xFFDE;
pub const kOfxKey_F34: c_int = 0xFFDF;
pub const kOfxKey_R14: c_int = 0xFFDF;
pub const kOfxKey_F35: c_int = 0xFFE0;
pub const kOfxKey_R15: c_int = 0xFFE0;
pub const kOfxKey_Shift_L: c_int = 0xFFE1;
pub const kOfxKey_Shift_R: c_int = 0xFFE2;
pub const kOfxKey_Control_L: c_int = 0xFFE3;
pub const kOfxKey_Control_R: c_int = 0xFFE4;
pub const kOfxKey_Caps_Lock: c_int = 0xFFE5;
pub const kOfxKey_Shift_Lock: c_int = 0xFFE6;
pub const kOfxKey_Meta_L: c_int = 0xFFE7;
pub const kOfxKey_Meta_R: c_int = 0xFFE8;
pub const kOfxKey_Alt_L: c_int = 0xFFE9;
pub const kOfxKey_Alt_R: c_int = 0xFFEA;
pub const kOfxKey_Super_L: c_int = 0xFFEB;
pub const kOfxKey_Super_R: c_int = 0xFFEC;
pub const kOfxKey_Hyper_L: c_int = 0xFFED;
pub const kOfxKey_Hyper_R: c_int = 0xFFEE;
pub const kOfxKey_space: c_int = 0x020;
pub const kOfxKey_exclam: c_int = 0x021;
pub const kOfxKey_quotedbl: c_int = 0x022;
pub const kOfxKey_numbersign: c_int = 0x023;
pub const kOfxKey_dollar: c_int = 0x024;
pub const kOfxKey_percent: c_int = 0x025;
pub const kOfxKey_ampersand: c_int = 0x026;
pub const kOfxKey_apostrophe: c_int = 0x027;
pub const kOfxKey_quoteright: c_int = 0x027;
pub const kOfxKey_parenleft: c_int = 0x028;
pub const kOfxKey_parenright: c_int = 0x029;
pub const kOfxKey_asterisk: c_int = 0x02a;
pub const kOfxKey_plus: c_int = 0x02b;
pub const kOfxKey_comma: c_int = 0x02c;
pub const kOfxKey_minus: c_int = 0x02d;
pub const kOfxKey_period: c_int = 0x02e;
pub const kOfxKey_slash: c_int = 0x02f;
pub const kOfxKey_0: c_int = 0x030;
pub const kOfxKey_1: c_int = 0x031;
pub const kOfxKey_2: c_int = 0x032;
pub const kOfxKey_3: c_int = 0x033;
pub const kOfxKey_4: c_int = 0x034;
pub const kOfxKey_5: c_int = 0x035;
pub const kOfxKey_6: c_int = 0x036;
pub const kOfxKey_7: c_int = 0x037;
pub const kOfxKey_8: c_int = 0x038;
pub const kOfxKey_9: c_int = 0x039;
pub const kOfxKey_colon: c_int = 0x03a;
pub const kOfxKey_semicolon: c_int = 0x03b;
pub const kOfxKey_less: c_int = 0x03c;
pub const kOfxKey_equal: c_int = 0x03d;
pub const kOfxKey_greater: c_int = 0x03e;
pub const kOfxKey_question: c_int = 0x03f;
pub const kOfxKey_at: c_int = 0x040;
pub const kOfxKey_A: c_int = 0x041;
pub const kOfxKey_B: c_int = 0x042;
pub const kOfxKey_C: c_int = 0x043;
pub const kOfxKey_D: c_int = 0x044;
pub const kOfxKey_E: c_int = 0x045;
pub const kOfxKey_F: c_int = 0x046;
pub const kOfxKey_G: c_int = 0x047;
pub const kOfxKey_H: c_int = 0x048;
pub const kOfxKey_I: c_int = 0x049;
pub const kOfxKey_J: c_int = 0x04a;
pub const kOfxKey_K: c_int = 0x04b;
pub const kOfxKey_L: c_int = 0x04c;
pub const kOfxKey_M: c_int = 0x04d;
pub const kOfxKey_N: c_int = 0x04e;
pub const kOfxKey_O: c_int = 0x04f;
pub const kOfxKey_P: c_int = 0x050;
pub const kOfxKey_Q: c_int = 0x051;
pub const kOfxKey_R: c_int = 0x052;
pub const kOfxKey_S: c_int = 0x053;
pub const kOfxKey_T: c_int = 0x054;
pub const kOfxKey_U: c_int = 0x055;
pub const kOfxKey_V: c_int = 0x056;
pub const kOfxKey_W: c_int = 0x057;
pub const kOfxKey_X: c_int = 0x058;
pub const kOfxKey_Y: c_int = 0x059;
pub const kOfxKey_Z: c_int = 0x05a;
pub const kOfxKey_bracketleft: c_int = 0x05b;
pub const kOfxKey_backslash: c_int = 0x05c;
pub const kOfxKey_bracketright: c_int = 0x05d;
pub const kOfxKey_asciicircum: c_int = 0x05e;
pub const kOfxKey_underscore: c_int = 0x05f;
pub const kOfxKey_grave: c_int = 0x060;
pub const kOfxKey_quoteleft: c_int = 0x060;
pub const kOfxKey_a: c_int = 0x061;
pub const kOfxKey_b: c_int = 0x062;
pub const kOfxKey_c: c_int = 0x063;
pub const kOfxKey_d: c_int = 0x064;
pub const kOfxKey_e: c_int = 0x065;
pub const kOfxKey_f: c_int = 0x066;
pub const kOfxKey_g: c_int = 0x067;
pub const kOfxKey_h: c_int = 0x068;
pub const kOfxKey_i: c_int = 0x069;
pub const kOfxKey_j: c_int = 0x06a;
pub const kOfxKey_k: c_int = 0x06b;
pub const kOfxKey_l: c_int = 0x06c;
pub const kOfxKey_m: c_int = 0x06d;
pub const kOfxKey_n: c_int = 0x06e;
pub const kOfxKey_o: c_int = 0x06f;
pub const kOfxKey_p: c_int = 0x070;
pub const kOfxKey_q: c_int = 0x071;
pub const kOfxKey_r: c_int = 0x072;
pub const kOfxKey_s: c_int = 0x073;
pub const kOfxKey_t: c_int = 0x074;
pub const kOfxKey_u: c_int = 0x075;
pub const kOfxKey_v: c_int = 0x076;
pub const kOfxKey_w: c_int = 0x077;
pub const kOfxKey_x: c_int = 0x078;
pub const kOfxKey_y: c_int = 0x079;
pub const kOfxKey_z: c_int = 0x07a;
pub const kOfxKey_braceleft: c_int = 0x07b;
pub const kOfxKey_bar: c_int = 0x07c;
pub const kOfxKey_braceright: c_int = 0x07d;
pub const kOfxKey_asciitilde: c_int = 0x07e;
pub const kOfxKey_nobreakspace: c_int = 0x0a0;
pub const kOfxKey_exclamdown: c_int = 0x0a1;
pub const kOfxKey_cent: c_int = 0x0a2;
pub const kOfxKey_sterling: c_int = 0x0a3;
pub const kOfxKey_currency: c_int = 0x0a4;
pub const kOfxKey_yen: c_int = 0x0a5;
pub const kOfxKey_brokenbar: c_int = 0x0a6;
pub const kOfxKey_section: c_int = 0x0a7;
pub const kOfxKey_diaeresis: c_int = 0x0a8;
pub const kOfxKey_copyright: c_int = 0x0a9;
pub const kOfxKey_ordfeminine: c_int = 0x0aa;
pub const kOfxKey_guillemotleft: c_int = 0x0ab;
pub const kOfxKey_notsign: c_int = 0x0ac;
pub const kOfxKey_hyphen: c_int = 0x0ad;
pub const kOfxKey_registered: c_int = 0x0ae;
pub const kOfxKey_macron: c_int = 0x0af;
pub const kOfxKey_degree: c_int = 0x0b0;
pub const kOfxKey_plusminus: c_int = 0x0b1;
pub const kOfxKey_twosuperior: c_int = 0x0b2;
pub const kOfxKey_threesuperior: c_int = 0x0b3;
pub const kOfxKey_acute: c_int = 0x0b4;
pub const kOfxKey_mu: c_int = 0x0b5;
pub const kOfxKey_paragraph: c_int = 0x0b6;
pub const kOfxKey_periodcentered: c_int = 0x0b7;
pub const kOfxKey_cedilla: c_int = 0x0b8;
pub const kOfxKey_onesuperior: c_int = 0x0b9;
pub const kOfxKey_masculine: c_int = 0x0ba;
pub const kOfxKey_guillemotright: c_int = 0x0bb;
pub const kOfxKey_onequarter: c_int = 0x0bc;
pub const kOfxKey_onehalf: c_int = 0x0bd;
pub const kOfxKey_threequarters: c_int = 0x0be;
pub const kOfxKey_questiondown: c_int = 0x0bf;
pub const kOfxKey_Agrave: c_int = 0x0c0;
pub const kOfxKey_Aacute: c_int = 0x0c1;
pub const kOfxKey_Acircumflex: c_int = 0x0c2;
pub const kOfxKey_Atilde: c_int = 0x0c3;
pub const kOfxKey_Adiaeresis: c_int = 0x0c4;
pub const kOfxKey_Aring: c_int = 0x0c5;
pub const kOfxKey_AE: c_int = 0x0c6;
pub const kOfxKey_Ccedilla: c_int = 0x0c7;
pub const kOfxKey_Egrave: c_int = 0x0c8;
pub const kOfxKey_Eacute: c_int = 0x0c9;
pub const kOfxKey_Ecircumflex: c_int = 0x0ca;
pub const kOfxKey_Ediaeresis: c_int = 0x0cb;
pub const kOfxKey_Igrave: c_int = 0x0cc;
pub const kOfxKey_Iacute: c_int = 0x0cd;
pub const kOfxKey_Icircumflex: c_int = 0x0ce;
pub const kOfxKey_Idiaeresis: c_int = 0x0cf;
pub const kOfxKey_ETH: c_int = 0x0d0;
pub const kOfxKey_Eth: c_int = 0x0d0;
pub const kOfxKey_Ntilde: c_int = 0x0d1;
pub const kOfxKey_Ograve: c_int = 0x0d2;
pub const kOfxKey_Oacute: c_int = 0x0d3;
pub const kOfxKey_Ocircumflex: c_int = 0x0d4;
pub const kOfxKey_Otilde: c_int = 0x0d5;
pub const kOfxKey_Odiaeresis: c_int = 0x0d6;
pub const kOfxKey_multiply: c_int = 0x0d7;
pub const kOfxKey_Ooblique: c_int = 0x0d8;
pub const kOfxKey_Ugrave: c_int = 0x0d9;
pub const kOfxKey_Uacute: c_int = 0x0da;
pub const kOfxKey_Ucircumflex: c_int = 0x0db;
pub const kOfxKey_Udiaeresis: c_int = 0x0dc;
pub const kOfxKey_Yacute: c_int = 0x0dd;
pub const kOfxKey_THORN: c_int = 0x0de;
pub const kOfxKey_ssharp: c_int = 0x0df;
pub const kOfxKey_agrave: c_int = 0x0e0;
pub const kOfxKey_aacute: c_int = 0x0e1;
pub const kOfxKey_acircumflex: c_int = 0x0e2;
pub const kOfxKey_atilde: c_int = 0x0e3;
pub const kOfxKey_adiaeresis: c_int = 0x0e4;
pub const kOfxKey_aring: c_int = 0x0e5;
pub const kOfxKey_ae: c_int = 0x0e6;
pub const kOfxKey_ccedilla: c_int = 0x0e7;
pub const kOfxKey_egrave: c_int = 0x0e8;
pub const kOfxKey_eacute: c_int = 0x0e9;
pub const kOfxKey_ecircumflex: c_int = 0x0ea;
pub const kOfxKey_ediaeresis: c_int = 0x0eb;
pub const kOfxKey_igrave: c_int = 0x0ec;
pub const kOfxKey_iacute: c_int = 0x0ed;
pub const kOfxKey_icircumflex: c_int = 0x0ee;
pub const kOfxKey_idiaeresis: c_int = 0x0ef;
pub const kOfxKey_eth: c_int = 0x0f0;
pub const kOfxKey_ntilde: c_int = 0x0f1;
pub const kOfxKey_ograve: c_int = 0x0f2;
pub const kOfxKey_oacute: c_int = 0x0f3;
pub const kOfxKey_ocircumflex: c_int = 0x0f4;
pub const kOfxKey_otilde: c_int = 0x0f5;
pub const kOfxKey_odiaeresis: c_int = 0x0f6;
pub const kOfxKey_division: c_int = 0x0f7;
pub const kOfxKey_oslash: c_int = 0x0f8;
pub const kOfxKey_ugrave: c_int = 0x0f9;
pub const kOfxKey_uacute: c_int = 0x0fa;
pub const kOfxKey_ucircumflex: c_int = 0x0fb;
pub const kOfxKey_udiaeresis: c_int = 0x0fc;
pub const kOfxKey_yacute: c_int = 0x0fd;
pub const kOfxKey_thorn: c_int = 0x0fe;
pub const kOfxKey_ydiaeresis: c_int = 0x0ff;

// ofxMemory.h
pub const kOfxMemorySuite: &CStr = c"OfxMemorySuite";

// ofxMessage.h
pub const kOfxMessageSuite: &CStr = c"OfxMessageSuite";
pub const kOfxMessageFatal: &CStr = c"OfxMessageFatal";
pub const kOfxMessageError: &CStr = c"OfxMessageError";
pub const kOfxMessageWarning: &CStr = c"OfxMessageWarning";
pub const kOfxMessageMessage: &CStr = c"OfxMessageMessage";
pub const kOfxMessageLog: &CStr = c"OfxMessageLog";
pub const kOfxMessageQuestion: &CStr = c"OfxMessageQuestion";

// ofxMultiThread.h
pub const kOfxMultiThreadSuite: &CStr = c"OfxMultiThreadSuite";

// ofxOld.h
pub const kOfxImageComponentYUVA: &CStr = c"OfxImageComponentYUVA";
pub const kOfxImageEffectPropInAnalysis: &CStr = c"OfxImageEffectPropInAnalysis";
pub const kOfxInteractPropViewportSize: &CStr = c"OfxInteractPropViewport";
pub const kOfxParamDoubleTypeNormalisedX: &CStr = c"OfxParamDoubleTypeNormalisedX";
pub const kOfxParamDoubleTypeNormalisedY: &CStr = c"OfxParamDoubleTypeNormalisedY";
pub const kOfxParamDoubleTypeNormalisedXAbsolute: &CStr = c"OfxParamDoubleTypeNormalisedXAbsolute";
pub const kOfxParamDoubleTypeNormalisedYAbsolute: &CStr = c"OfxParamDoubleTypeNormalisedYAbsolute";
pub const kOfxParamDoubleTypeNormalisedXY: &CStr = c"OfxParamDoubleTypeNormalisedXY";
pub const kOfxParamDoubleTypeNormalisedXYAbsolute: &CStr = c"OfxParamDoubleTypeNormalisedXYAbsolute";

// ofxOpenGLRender.h
pub const kOfxOpenGLRenderSuite: &CStr = c"OfxImageEffectOpenGLRenderSuite";
pub const kOfxImageEffectPropOpenGLRenderSupported: &CStr = c"OfxImageEffectPropOpenGLRenderSupported";
pub const kOfxOpenGLPropPixelDepth: &CStr = c"OfxOpenGLPropPixelDepth";
pub const kOfxImageEffectPropOpenGLEnabled: &CStr = c"OfxImageEffectPropOpenGLEnabled";
pub const kOfxImageEffectPropOpenGLTextureIndex: &CStr = c"OfxImageEffectPropOpenGLTextureIndex";
pub const kOfxImageEffectPropOpenGLTextureTarget: &CStr = c"OfxImageEffectPropOpenGLTextureTarget";
pub const kOfxStatGLOutOfMemory: OfxStatus = 1001;
pub const kOfxStatGLRenderFailed: OfxStatus = 1002;
pub const kOfxActionOpenGLContextAttached: &CStr = c"OfxActionOpenGLContextAttached";
pub const kOfxActionOpenGLContextDetached: &CStr = c"kOfxActionOpenGLContextDetached";

// ofxParam.h
pub const kOfxParameterSuite: &CStr = c"OfxParameterSuite";
pub const kOfxTypeParameter: &CStr = c"OfxTypeParameter";
pub const kOfxTypeParameterInstance: &CStr = c"OfxTypeParameterInstance";
pub const kOfxParamTypeInteger: &CStr = c"OfxParamTypeInteger";
pub const kOfxParamTypeDouble: &CStr = c"OfxParamTypeDouble";
pub const kOfxParamTypeBoolean: &CStr = c"OfxParamTypeBoolean";
pub const kOfxParamTypeChoice: &CStr = c"OfxParamTypeChoice";
pub const kOfxParamTypeRGBA: &CStr = c"OfxParamTypeRGBA";
pub const kOfxParamTypeRGB: &CStr = c"OfxParamTypeRGB";
pub const kOfxParamTypeDouble2D: &CStr = c"OfxParamTypeDouble2D";
pub const kOfxParamTypeInteger2D: &CStr = c"OfxParamTypeInteger2D";
pub const kOfxParamTypeDouble3D: &CStr = c"OfxParamTypeDouble3D";
pub const kOfxParamTypeInteger3D: &CStr = c"OfxParamTypeInteger3D";
pub const kOfxParamTypeString: &CStr = c"OfxParamTypeString";
pub const kOfxParamTypeCustom: &CStr = c"OfxParamTypeCustom";
pub const kOfxParamTypeGroup: &CStr = c"OfxParamTypeGroup";
pub const kOfxParamTypePage: &CStr = c"OfxParamTypePage";
pub const kOfxParamTypePushButton: &CStr = c"OfxParamTypePushButton";
pub const kOfxParamHostPropSupportsCustomAnimation: &CStr = c"OfxParamHostPropSupportsCustomAnimation";
pub const kOfxParamHostPropSupportsStringAnimation: &CStr = c"OfxParamHostPropSupportsStringAnimation";
pub const kOfxParamHostPropSupportsBooleanAnimation: &CStr = c"OfxParamHostPropSupportsBooleanAnimation";
pub const kOfxParamHostPropSupportsChoiceAnimation: &CStr = c"OfxParamHostPropSupportsChoiceAnimation";
pub const kOfxParamHostPropSupportsCustomInteract: &CStr = c"OfxParamHostPropSupportsCustomInteract";
pub const kOfxParamHostPropMaxParameters: &CStr = c"OfxParamHostPropMaxParameters";
pub const kOfxParamHostPropMaxPages: &CStr = c"OfxParamHostPropMaxPages";
pub const kOfxParamHostPropPageRowColumnCount: &CStr = c"OfxParamHostPropPageRowColumnCount";
pub const kOfxParamPageSkipRow: &CStr = c"OfxParamPageSkipRow";
pub const kOfxParamPageSkipColumn: &CStr = c"OfxParamPageSkipColumn";
pub const kOfxParamPropInteractV1: &CStr = c"OfxParamPropInteractV1";
pub const kOfxParamPropInteractSize: &CStr = c"OfxParamPropInteractSize";
pub const kOfxParamPropInteractSizeAspect: &CStr = c"OfxParamPropInteractSizeAspect";
pub const kOfxParamPropInteractMinimumSize: &CStr = c"OfxParamPropInteractMinimumSize";
pub const kOfxParamPropInteractPreferedSize: &CStr = c"OfxParamPropInteractPreferedSize";
pub const kOfxParamPropType: &CStr = c"OfxParamPropType";
pub const kOfxParamPropAnimates: &CStr = c"OfxParamPropAnimates";
pub const kOfxParamPropCanUndo: &CStr = c"OfxParamPropCanUndo";
pub const kOfxPropParamSetNeedsSyncing: &CStr = c"OfxPropParamSetNeedsSyncing";
pub const kOfxParamPropIsAnimating: &CStr = c"OfxParamPropIsAnimating";
pub const kOfxParamPropPluginMayWrite: &CStr = c"OfxParamPropPluginMayWrite";
pub const kOfxParamPropPersistant: &CStr = c"OfxParamPropPersistant";
pub const kOfxParamPropEvaluateOnChange: &CStr = c"OfxParamPropEvaluateOnChange";
pub const kOfxParamPropSecret: &CStr = c"OfxParamPropSecret";
pub const kOfxParamPropScriptName: &CStr = c"OfxParamPropScriptName";
pub const kOfxParamPropCacheInvalidation: &CStr = c"OfxParamPropCacheInvalidation";
pub const kOfxParamInvalidateValueChange: &CStr = c"OfxParamInvalidateValueChange";
pub const kOfxParamInvalidateValueChangeToEnd: &CStr = c"OfxParamInvalidateValueChangeToEnd";
pub const kOfxParamInvalidateAll: &CStr = c"OfxParamInvalidateAll";
pub const kOfxParamPropHint: &CStr = c"OfxParamPropHint";
pub const kOfxParamPropDefault: &CStr = c"OfxParamPropDefault";
pub const kOfxParamPropDoubleType: &CStr = c"OfxParamPropDoubleType";
pub const kOfxParamDoubleTypePlain: &CStr = c"OfxParamDoubleTypePlain";
pub const kOfxParamDoubleTypeScale: &CStr = c"OfxParamDoubleTypeScale";
pub const kOfxParamDoubleTypeAngle: &CStr = c"OfxParamDoubleTypeAngle";
pub const kOfxParamDoubleTypeTime: &CStr = c"OfxParamDoubleTypeTime";
pub const kOfxParamDoubleTypeAbsoluteTime: &CStr = c"OfxParamDoubleTypeAbsoluteTime";
pub const kOfxParamDoubleTypeX: &CStr = c"OfxParamDoubleTypeX";
pub const kOfxParamDoubleTypeY: &CStr = c"OfxParamDoubleTypeY";
pub const kOfxParamDoubleTypeXAbsolute: &CStr = c"OfxParamDoubleTypeXAbsolute";
pub const kOfxParamDoubleTypeYAbsolute: &CStr = c"OfxParamDoubleTypeYAbsolute";
pub const kOfxParamDoubleTypeXY: &CStr = c"OfxParamDoubleTypeXY";
pub const kOfxParamDoubleTypeXYAbsolute: &CStr = c"OfxParamDoubleTypeXYAbsolute";
pub const kOfxParamPropDefaultCoordinateSystem: &CStr = c"OfxParamPropDefaultCoordinateSystem";
pub const kOfxParamCoordinatesCanonical: &CStr = c"OfxParamCoordinatesCanonical";
pub const kOfxParamCoordinatesNormalised: &CStr = c"OfxParamCoordinatesNormalised";
pub const kOfxParamPropHasHostOverlayHandle: &CStr = c"OfxParamPropHasHostOverlayHandle";
pub const kOfxParamPropUseHostOverlayHandle: &CStr = c"kOfxParamPropUseHostOverlayHandle";
pub const kOfxParamPropShowTimeMarker: &CStr = c"OfxParamPropShowTimeMarker";
pub const kOfxPluginPropParamPageOrder: &CStr = c"OfxPluginPropParamPageOrder";
pub const kOfxParamPropPageChild: &CStr = c"OfxParamPropPageChild";
pub const kOfxParamPropParent: &CStr = c"OfxParamPropParent";
pub const kOfxParamPropGroupOpen: &CStr = c"OfxParamPropGroupOpen";
pub const kOfxParamPropEnabled: &CStr = c"OfxParamPropEnabled";
pub const kOfxParamPropDataPtr: &CStr = c"OfxParamPropDataPtr";
pub const kOfxParamPropChoiceOption: &CStr = c"OfxParamPropChoiceOption";
pub const kOfxParamPropMin: &CStr = c"OfxParamPropMin";
pub const kOfxParamPropMax: &CStr = c"OfxParamPropMax";
pub const kOfxParamPropDisplayMin: &CStr = c"OfxParamPropDisplayMin";
pub const kOfxParamPropDisplayMax: &CStr = c"OfxParamPropDisplayMax";
pub const kOfxParamPropIncrement: &CStr = c"OfxParamPropIncrement";
pub const kOfxParamPropDigits: &CStr = c"OfxParamPropDigits";
pub const kOfxParamPropDimensionLabel: &CStr = c"OfxParamPropDimensionLabel";
pub const kOfxParamPropIsAutoKeying: &CStr = c"OfxParamPropIsAutoKeying";
pub const kOfxParamPropCustomInterpCallbackV1: &CStr = c"OfxParamPropCustomCallbackV1";
pub const kOfxParamPropStringMode: &CStr = c"OfxParamPropStringMode";
pub const kOfxParamPropStringFilePathExists: &CStr = c"OfxParamPropStringFilePathExists";
pub const kOfxParamStringIsSingleLine: &CStr = c"OfxParamStringIsSingleLine";
pub const kOfxParamStringIsMultiLine: &CStr = c"OfxParamStringIsMultiLine";
pub const kOfxParamStringIsFilePath: &CStr = c"OfxParamStringIsFilePath";
pub const kOfxParamStringIsDirectoryPath: &CStr = c"OfxParamStringIsDirectoryPath";
pub const kOfxParamStringIsLabel: &CStr = c"OfxParamStringIsLabel";
pub const kOfxParamStringIsRichTextFormat: &CStr = c"OfxParamStringIsRichTextFormat";
pub const kOfxParamPropCustomValue: &CStr = c"OfxParamPropCustomValue";
pub const kOfxParamPropInterpolationTime: &CStr = c"OfxParamPropInterpolationTime";
pub const kOfxParamPropInterpolationAmount: &CStr = c"OfxParamPropInterpolationAmount";

// ofxParametricParam.h
pub const kOfxParametricParameterSuite: &CStr = c"OfxParametricParameterSuite";
pub const kOfxParamTypeParametric: &CStr = c"OfxParamTypeParametric";
pub const kOfxParamPropParametricDimension: &CStr = c"OfxParamPropParametricDimension";
pub const kOfxParamPropParametricUIColour: &CStr = c"OfxParamPropParametricUIColour";
pub const kOfxParamPropParametricInteractBackground: &CStr = c"OfxParamPropParametricInteractBackground";
pub const kOfxParamHostPropSupportsParametricAnimation: &CStr = c"OfxParamHostPropSupportsParametricAnimation";
pub const kOfxParamPropParametricRange: &CStr = c"OfxParamPropParametricRange";

// ofxProgress.h
pub const kOfxProgressSuite: &CStr = c"OfxProgressSuite";

// ofxProperty.h
pub const kOfxPropertySuite: &CStr = c"OfxPropertySuite";

// ofxTimeLine.h
pub const kOfxTimeLineSuite: &CStr = c"OfxTimeLineSuite";

/// Every string the headers #define, in header order.
pub const ALL_STRING_DEFINES: &[&CStr] = &[
    kOfxActionLoad,
    kOfxActionDescribe,
    kOfxActionUnload,
    kOfxActionPurgeCaches,
    kOfxActionSyncPrivateData,
    kOfxActionCreateInstance,
    kOfxActionDestroyInstance,
    kOfxActionInstanceChanged,
    kOfxActionBeginInstanceChanged,
    kOfxActionEndInstanceChanged,
    kOfxActionBeginInstanceEdit,
    kOfxActionEndInstanceEdit,
    kOfxPropAPIVersion,
    kOfxPropTime,
    kOfxPropIsInteractive,
    kOfxPluginPropFilePath,
    kOfxPropInstanceData,
    kOfxPropType,
    kOfxPropName,
    kOfxPropVersion,
    kOfxPropVersionLabel,
    kOfxPropPluginDescription,
    kOfxPropLabel,
    kOfxPropIcon,
    kOfxPropShortLabel,
    kOfxPropLongLabel,
    kOfxPropChangeReason,
    kOfxPropEffectInstance,
    kOfxPropHostOSHandle,
    kOfxChangeUserEdited,
    kOfxChangePluginEdited,
    kOfxChangeTime,
    kOfxBitDepthNone,
    kOfxBitDepthByte,
    kOfxBitDepthShort,
    kOfxBitDepthHalf,
    kOfxBitDepthFloat,
    kOfxDialogSuite,
    kOfxActionDialog,
    kOfxDrawSuite,
    kOfxInteractPropDrawContext,
    kOfxImageEffectPluginApi,
    kOfxImageComponentNone,
    kOfxImageComponentRGBA,
    kOfxImageComponentRGB,
    kOfxImageComponentAlpha,
    kOfxImageEffectContextGenerator,
    kOfxImageEffectContextFilter,
    kOfxImageEffectContextTransition,
    kOfxImageEffectContextPaint,
    kOfxImageEffectContextGeneral,
    kOfxImageEffectContextRetimer,
    kOfxTypeImageEffectHost,
    kOfxTypeImageEffect,
    kOfxTypeImageEffectInstance,
    kOfxTypeClip,
    kOfxTypeImage,
    kOfxImageEffectActionGetRegionOfDefinition,
    kOfxImageEffectActionGetRegionsOfInterest,
    kOfxImageEffectActionGetTimeDomain,
    kOfxImageEffectActionGetFramesNeeded,
    kOfxImageEffectActionGetClipPreferences,
    kOfxImageEffectActionIsIdentity,
    kOfxImageEffectActionRender,
    kOfxImageEffectActionBeginSequenceRender,
    kOfxImageEffectActionEndSequenceRender,
    kOfxImageEffectActionDescribeInContext,
    kOfxImageEffectPropSupportedContexts,
    kOfxImageEffectPropPluginHandle,
    kOfxImageEffectHostPropIsBackground,
    kOfxImageEffectPluginPropSingleInstance,
    kOfxImageEffectPluginRenderThreadSafety,
    kOfxImageEffectRenderUnsafe,
    kOfxImageEffectRenderInstanceSafe,
    kOfxImageEffectRenderFullySafe,
    kOfxImageEffectPluginPropHostFrameThreading,
    kOfxImageEffectPropSupportsMultipleClipDepths,
    kOfxImageEffectPropSupportsMultipleClipPARs,
    kOfxImageEffectPropClipPreferencesSlaveParam,
    kOfxImageEffectPropSetableFrameRate,
    kOfxImageEffectPropSetableFielding,
    kOfxImageEffectInstancePropSequentialRender,
    kOfxImageEffectPropSequentialRenderStatus,
    kOfxHostNativeOriginBottomLeft,
    kOfxHostNativeOriginTopLeft,
    kOfxHostNativeOriginCenter,
    kOfxImageEffectHostPropNativeOrigin,
    kOfxImageEffectPropInteractiveRenderStatus,
    kOfxImageEffectPluginPropGrouping,
    kOfxImageEffectPropSupportsOverlays,
    kOfxImageEffectPluginPropOverlayInteractV1,
    kOfxImageEffectPluginPropOverlayInteractV2,
    kOfxImageEffectPropSupportsMultiResolution,
    kOfxImageEffectPropSupportsTiles,
    kOfxImageEffectPropTemporalClipAccess,
    kOfxImageEffectPropContext,
    kOfxImageEffectPropPixelDepth,
    kOfxImageEffectPropComponents,
    kOfxImagePropUniqueIdentifier,
    kOfxImageClipPropContinuousSamples,
    kOfxImageClipPropUnmappedPixelDepth,
    kOfxImageClipPropUnmappedComponents,
    kOfxImageEffectPropPreMultiplication,
    kOfxImageOpaque,
    kOfxImagePreMultiplied,
    kOfxImageUnPreMultiplied,
    kOfxImageEffectPropSupportedPixelDepths,
    kOfxImageEffectPropSupportedComponents,
    kOfxImageClipPropOptional,
    kOfxImageClipPropIsMask,
    kOfxImagePropPixelAspectRatio,
    kOfxImageEffectPropFrameRate,
    kOfxImageEffectPropUnmappedFrameRate,
    kOfxImageEffectPropFrameStep,
    kOfxImageEffectPropFrameRange,
    kOfxImageEffectPropUnmappedFrameRange,
    kOfxImageClipPropConnected,
    kOfxImageEffectFrameVarying,
    kOfxImageEffectPropRenderScale,
    kOfxImageEffectPropRenderQualityDraft,
    kOfxImageEffectPropProjectExtent,
    kOfxImageEffectPropProjectSize,
    kOfxImageEffectPropProjectOffset,
    kOfxImageEffectPropProjectPixelAspectRatio,
    kOfxImageEffectInstancePropEffectDuration,
    kOfxImageClipPropFieldOrder,
    kOfxImagePropData,
    kOfxImagePropBounds,
    kOfxImagePropRegionOfDefinition,
    kOfxImagePropRowBytes,
    kOfxImagePropField,
    kOfxImageEffectPluginPropFieldRenderTwiceAlways,
    kOfxImageClipPropFieldExtraction,
    kOfxImageEffectPropFieldToRender,
    kOfxImageEffectPropRegionOfDefinition,
    kOfxImageEffectPropRegionOfInterest,
    kOfxImageEffectPropRenderWindow,
    kOfxImageEffectPropCudaRenderSupported,
    kOfxImageEffectPropCudaEnabled,
    kOfxImageEffectPropCudaStreamSupported,
    kOfxImageEffectPropCudaStream,
    kOfxImageEffectPropMetalRenderSupported,
    kOfxImageEffectPropMetalEnabled,
    kOfxImageEffectPropMetalCommandQueue,
    kOfxImageEffectPropOpenCLRenderSupported,
    kOfxImageEffectPropOpenCLEnabled,
    kOfxImageEffectPropOpenCLCommandQueue,
    kOfxImageFieldNone,
    kOfxImageFieldLower,
    kOfxImageFieldUpper,
    kOfxImageFieldBoth,
    kOfxImageFieldSingle,
    kOfxImageFieldDoubled,
    kOfxImageEffectOutputClipName,
    kOfxImageEffectSimpleSourceClipName,
    kOfxImageEffectTransitionSourceFromClipName,
    kOfxImageEffectTransitionSourceToClipName,
    kOfxImageEffectTransitionParamName,
    kOfxImageEffectRetimerParamName,
    kOfxImageEffectSuite,
    kOfxInteractSuite,
    kOfxInteractPropSlaveToParam,
    kOfxInteractPropPixelScale,
    kOfxInteractPropBackgroundColour,
    kOfxInteractPropSuggestedColour,
    kOfxInteractPropPenPosition,
    kOfxInteractPropPenViewportPosition,
    kOfxInteractPropPenPressure,
    kOfxInteractPropBitDepth,
    kOfxInteractPropHasAlpha,
    kOfxInteractActionDraw,
    kOfxInteractActionPenMotion,
    kOfxInteractActionPenDown,
    kOfxInteractActionPenUp,
    kOfxInteractActionKeyDown,
    kOfxInteractActionKeyUp,
    kOfxInteractActionKeyRepeat,
    kOfxInteractActionGainFocus,
    kOfxInteractActionLoseFocus,
    kOfxPropKeySym,
    kOfxPropKeyString,
    kOfxMemorySuite,
    kOfxMessageSuite,
    kOfxMessageFatal,
    kOfxMessageError,
    kOfxMessageWarning,
    kOfxMessageMessage,
    kOfxMessageLog,
    kOfxMessageQuestion,
    kOfxMultiThreadSuite,
    kOfxImageComponentYUVA,
    kOfxImageEffectPropInAnalysis,
    kOfxInteractPropViewportSize,
    kOfxParamDoubleTypeNormalisedX,
    kOfxParamDoubleTypeNormalisedY,
    kOfxParamDoubleTypeNormalisedXAbsolute,
    kOfxParamDoubleTypeNormalisedYAbsolute,
    kOfxParamDoubleTypeNormalisedXY,
    kOfxParamDoubleTypeNormalisedXYAbsolute,
    kOfxOpenGLRenderSuite,
    kOfxImageEffectPropOpenGLRenderSupported,
    kOfxOpenGLPropPixelDepth,
    kOfxImageEffectPropOpenGLEnabled,
    kOfxImageEffectPropOpenGLTextureIndex,
    kOfxImageEffectPropOpenGLTextureTarget,
    kOfxActionOpenGLContextAttached,
    kOfxActionOpenGLContextDetached,
    kOfxParameterSuite,
    kOfxTypeParameter,
    kOfxTypeParameterInstance,
    kOfxParamTypeInteger,
    kOfxParamTypeDouble,
    kOfxParamTypeBoolean,
    kOfxParamTypeChoice,
    kOfxParamTypeRGBA,
    kOfxParamTypeRGB,
    kOfxParamTypeDouble2D,
    kOfxParamTypeInteger2D,
    kOfxParamTypeDouble3D,
    kOfxParamTypeInteger3D,
    kOfxParamTypeString,
    kOfxParamTypeCustom,
    kOfxParamTypeGroup,
    kOfxParamTypePage,
    kOfxParamTypePushButton,
    kOfxParamHostPropSupportsCustomAnimation,
    kOfxParamHostPropSupportsStringAnimation,
    kOfxParamHostPropSupportsBooleanAnimation,
    kOfxParamHostPropSupportsChoiceAnimation,
    kOfxParamHostPropSupportsCustomInteract,
    kOfxParamHostPropMaxParameters,
    kOfxParamHostPropMaxPages,
    kOfxParamHostPropPageRowColumnCount,
    kOfxParamPageSkipRow,
    kOfxParamPageSkipColumn,
    kOfxParamPropInteractV1,
    kOfxParamPropInteractSize,
    kOfxParamPropInteractSizeAspect,
    kOfxParamPropInteractMinimumSize,
    kOfxParamPropInteractPreferedSize,
    kOfxParamPropType,
    kOfxParamPropAnimates,
    kOfxParamPropCanUndo,
    kOfxPropParamSetNeedsSyncing,
    kOfxParamPropIsAnimating,
    kOfxParamPropPluginMayWrite,
    kOfxParamPropPersistant,
    kOfxParamPropEvaluateOnChange,
    kOfxParamPropSecret,
    kOfxParamPropScriptName,
    kOfxParamPropCacheInvalidation,
    kOfxParamInvalidateValueChange,
    kOfxParamInvalidateValueChangeToEnd,
    kOfxParamInvalidateAll,
    kOfxParamPropHint,
    kOfxParamPropDefault,
    kOfxParamPropDoubleType,
    kOfxParamDoubleTypePlain,
    kOfxParamDoubleTypeScale,
    kOfxParamDoubleTypeAngle,
    kOfxParamDoubleTypeTime,
    kOfxParamDoubleTypeAbsoluteTime,
    kOfxParamDoubleTypeX,
    kOfxParamDoubleTypeY,
    kOfxParamDoubleTypeXAbsolute,
    kOfxParamDoubleTypeYAbsolute,
    kOfxParamDoubleTypeXY,
    kOfxParamDoubleTypeXYAbsolute,
    kOfxParamPropDefaultCoordinateSystem,
    kOfxParamCoordinatesCanonical,
    kOfxParamCoordinatesNormalised,
    kOfxParamPropHasHostOverlayHandle,
    kOfxParamPropUseHostOverlayHandle,
    kOfxParamPropShowTimeMarker,
    kOfxPluginPropParamPageOrder,
    kOfxParamPropPageChild,
    kOfxParamPropParent,
    kOfxParamPropGroupOpen,
    kOfxParamPropEnabled,
    kOfxParamPropDataPtr,
    kOfxParamPropChoiceOption,
    kOfxParamPropMin,
    kOfxParamPropMax,
    kOfxParamPropDisplayMin,
    kOfxParamPropDisplayMax,
    kOfxParamPropIncrement,
    kOfxParamPropDigits,
    kOfxParamPropDimensionLabel,
    kOfxParamPropIsAutoKeying,
    kOfxParamPropCustomInterpCallbackV1,
    kOfxParamPropStringMode,
    kOfxParamPropStringFilePathExists,
    kOfxParamStringIsSingleLine,
    kOfxParamStringIsMultiLine,
    kOfxParamStringIsFilePath,
    kOfxParamStringIsDirectoryPath,
    kOfxParamStringIsLabel,
    kOfxParamStringIsRichTextFormat,
    kOfxParamPropCustomValue,
    kOfxParamPropInterpolationTime,
    kOfxParamPropInterpolationAmount,
    kOfxParametricParameterSuite,
    kOfxParamTypeParametric,
    kOfxParamPropParametricDimension,
    kOfxParamPropParametricUIColour,
    kOfxParamPropParametricInteractBackground,
    kOfxParamHostPropSupportsParametricAnimation,
    kOfxParamPropParametricRange,
    kOfxProgressSuite,
    kOfxPropertySuite,
    kOfxTimeLineSuite,
];
