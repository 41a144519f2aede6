//! The test host's own pixel handling, written independently of the plugin's adapter on purpose:
//! frames (RGBA f32, rows top-down) to host images in any depth / components / row layout, and
//! back.
//!
//! OFX memory order: pixel (x, y) of an image with bounds (x1, y1, x2, y2) starts at
//! `data + (y - y1) * rowBytes + (x - x1) * bytesPerPixel`, y pointing up. With positive row bytes
//! the bottom row comes first in memory; with negative row bytes `data` points at the last row of
//! the allocation (the bottom row) and memory holds the rows top-down.

use std::ffi::CStr;

use dreamfx_host_adapter::sys::*;

/// Bits per component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BitDepth {
    /// 8-bit unsigned, 0..=255 maps to 0..=1.
    Byte,
    /// 16-bit unsigned, 0..=65535 maps to 0..=1.
    Short,
    /// IEEE half.
    Half,
    /// IEEE single.
    Float,
}

impl BitDepth {
    /// Bytes per component.
    pub fn bytes(self) -> usize {
        match self {
            BitDepth::Byte => 1,
            BitDepth::Short | BitDepth::Half => 2,
            BitDepth::Float => 4,
        }
    }
    /// The OFX name.
    pub fn ofx_name(self) -> &'static CStr {
        match self {
            BitDepth::Byte => kOfxBitDepthByte,
            BitDepth::Short => kOfxBitDepthShort,
            BitDepth::Half => kOfxBitDepthHalf,
            BitDepth::Float => kOfxBitDepthFloat,
        }
    }
    /// From the OFX name.
    pub fn from_ofx(s: &str) -> Option<Self> {
        [
            BitDepth::Byte,
            BitDepth::Short,
            BitDepth::Half,
            BitDepth::Float,
        ]
        .into_iter()
        .find(|d| d.ofx_name().to_str() == Ok(s))
    }
    /// All four.
    pub const ALL: [BitDepth; 4] = [
        BitDepth::Byte,
        BitDepth::Short,
        BitDepth::Half,
        BitDepth::Float,
    ];
}

/// Pixel components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Components {
    /// R, G, B, A.
    Rgba,
    /// R, G, B.
    Rgb,
    /// A only.
    Alpha,
}

impl Components {
    /// Components per pixel.
    pub fn count(self) -> usize {
        match self {
            Components::Rgba => 4,
            Components::Rgb => 3,
            Components::Alpha => 1,
        }
    }
    /// The OFX name.
    pub fn ofx_name(self) -> &'static CStr {
        match self {
            Components::Rgba => kOfxImageComponentRGBA,
            Components::Rgb => kOfxImageComponentRGB,
            Components::Alpha => kOfxImageComponentAlpha,
        }
    }
    /// From the OFX name.
    pub fn from_ofx(s: &str) -> Option<Self> {
        [Components::Rgba, Components::Rgb, Components::Alpha]
            .into_iter()
            .find(|c| c.ofx_name().to_str() == Ok(s))
    }
    /// All three.
    pub const ALL: [Components; 3] = [Components::Rgba, Components::Rgb, Components::Alpha];
}

/// Alpha premultiplication state of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Premult {
    /// Opaque.
    Opaque,
    /// Premultiplied.
    PreMultiplied,
    /// Unpremultiplied.
    UnPreMultiplied,
}

impl Premult {
    /// The OFX name.
    pub fn ofx_name(self) -> &'static CStr {
        match self {
            Premult::Opaque => kOfxImageOpaque,
            Premult::PreMultiplied => kOfxImagePreMultiplied,
            Premult::UnPreMultiplied => kOfxImageUnPreMultiplied,
        }
    }
}

/// A frame as tests give and get it: RGBA f32, rows top-down, `width * height * 4` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// RGBA values, rows top-down.
    pub rgba: Vec<f32>,
}

impl Frame {
    /// A frame filled with one colour.
    pub fn solid(width: usize, height: usize, rgba: [f32; 4]) -> Frame {
        Frame {
            width,
            height,
            rgba: rgba.repeat(width * height),
        }
    }
    /// A frame from a function of (x, y_top_down).
    pub fn from_fn(width: usize, height: usize, f: impl Fn(usize, usize) -> [f32; 4]) -> Frame {
        let mut rgba = Vec::with_capacity(width * height * 4);
        for y in 0..height {
            for x in 0..width {
                rgba.extend_from_slice(&f(x, y));
            }
        }
        Frame {
            width,
            height,
            rgba,
        }
    }
    /// The frame a host hands over at render scale `scale`: ceil(size × scale) pixels, each
    /// the area average of the full-resolution pixels it covers.
    pub fn scaled(self, scale: f64) -> Frame {
        if scale == 1.0 {
            return self;
        }
        let (w, h) = (
            (self.width as f64 * scale).ceil().max(1.0) as usize,
            (self.height as f64 * scale).ceil().max(1.0) as usize,
        );
        let span = |i: usize, n: usize| {
            let a = ((i as f64 / scale) as usize).min(n - 1);
            let b = (((i + 1) as f64 / scale).ceil() as usize).clamp(a + 1, n);
            a..b
        };
        Frame::from_fn(w, h, |x, y| {
            let mut sum = [0f32; 4];
            let mut n = 0f32;
            for sy in span(y, self.height) {
                for sx in span(x, self.width) {
                    let p = self.pixel(sx, sy);
                    for c in 0..4 {
                        sum[c] += p[c];
                    }
                    n += 1.0;
                }
            }
            sum.map(|v| v / n)
        })
    }
    /// The pixel at column x, row y counted from the top.
    pub fn pixel(&self, x: usize, y_top_down: usize) -> [f32; 4] {
        let i = (y_top_down * self.width + x) * 4;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }
}

/// Where an image's pixels are: bounds, format and row layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageLayout {
    pub bounds: OfxRectI,
    pub depth: BitDepth,
    pub components: Components,
    /// Bytes per row in the allocation (≥ width × bytes per pixel).
    pub stride: usize,
    pub negative: bool,
}

impl ImageLayout {
    pub fn new(
        bounds: OfxRectI,
        depth: BitDepth,
        components: Components,
        padding: usize,
        negative: bool,
    ) -> Self {
        let width = (bounds.x2 - bounds.x1).max(0) as usize;
        let stride = width * depth.bytes() * components.count() + padding;
        ImageLayout {
            bounds,
            depth,
            components,
            stride,
            negative,
        }
    }
    pub fn width(&self) -> usize {
        (self.bounds.x2 - self.bounds.x1).max(0) as usize
    }
    pub fn height(&self) -> usize {
        (self.bounds.y2 - self.bounds.y1).max(0) as usize
    }
    pub fn bpp(&self) -> usize {
        self.depth.bytes() * self.components.count()
    }
    pub fn alloc_len(&self) -> usize {
        self.stride * self.height()
    }
    /// kOfxImagePropRowBytes.
    pub fn row_bytes(&self) -> isize {
        if self.negative {
            -(self.stride as isize)
        } else {
            self.stride as isize
        }
    }
    /// Offset of kOfxImagePropData in the allocation.
    pub fn data_offset(&self) -> usize {
        if self.negative && self.height() > 0 {
            (self.height() - 1) * self.stride
        } else {
            0
        }
    }
    /// Offset of pixel (x, y) (OFX coordinates, y up) in the allocation.
    pub fn offset(&self, x: i32, y: i32) -> usize {
        let off = self.data_offset() as isize
            + (y - self.bounds.y1) as isize * self.row_bytes()
            + (x - self.bounds.x1) as isize * self.bpp() as isize;
        off as usize
    }
}

fn encode(v: f32, depth: BitDepth, out: &mut [u8]) {
    match depth {
        BitDepth::Byte => out[0] = (v.clamp(0.0, 1.0) * 255.0).round() as u8,
        BitDepth::Short => {
            out.copy_from_slice(&((v.clamp(0.0, 1.0) * 65535.0).round() as u16).to_ne_bytes())
        }
        BitDepth::Half => out.copy_from_slice(&half::f16::from_f32(v).to_ne_bytes()),
        BitDepth::Float => out.copy_from_slice(&v.to_ne_bytes()),
    }
}

fn decode(b: &[u8], depth: BitDepth) -> f32 {
    match depth {
        BitDepth::Byte => b[0] as f32 / 255.0,
        BitDepth::Short => u16::from_ne_bytes([b[0], b[1]]) as f32 / 65535.0,
        BitDepth::Half => half::f16::from_ne_bytes([b[0], b[1]]).to_f32(),
        BitDepth::Float => f32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
    }
}

/// Fills `buf` (laid out as `layout`) from `frame`, whose pixel (0, 0) top-down is OFX pixel
/// (0, frame.height − 1): the frame covers (0, 0, width, height). Pixels of the bounds outside the
/// frame become transparent black; row padding is filled with 0xCD.
pub(crate) fn frame_to_image(frame: &Frame, layout: &ImageLayout, buf: &mut [u8]) {
    buf.fill(0xCD);
    let (bpc, n) = (layout.depth.bytes(), layout.components.count());
    let b = layout.bounds;
    for y in b.y1..b.y2 {
        for x in b.x1..b.x2 {
            let inside =
                x >= 0 && y >= 0 && (x as usize) < frame.width && (y as usize) < frame.height;
            let px = if inside {
                frame.pixel(x as usize, frame.height - 1 - y as usize)
            } else {
                [0.0; 4]
            };
            let vals: &[f32] = match layout.components {
                Components::Rgba => &px,
                Components::Rgb => &px[..3],
                Components::Alpha => &px[3..],
            };
            let off = layout.offset(x, y);
            for (c, v) in vals.iter().enumerate().take(n) {
                encode(
                    *v,
                    layout.depth,
                    &mut buf[off + c * bpc..off + (c + 1) * bpc],
                );
            }
        }
    }
}

/// Fills every pixel of the bounds with one colour (padding untouched).
pub(crate) fn fill_image(layout: &ImageLayout, buf: &mut [u8], rgba: [f32; 4]) {
    let bpc = layout.depth.bytes();
    let vals: &[f32] = match layout.components {
        Components::Rgba => &rgba,
        Components::Rgb => &rgba[..3],
        Components::Alpha => &rgba[3..],
    };
    let b = layout.bounds;
    for y in b.y1..b.y2 {
        for x in b.x1..b.x2 {
            let off = layout.offset(x, y);
            for (c, v) in vals.iter().enumerate() {
                encode(
                    *v,
                    layout.depth,
                    &mut buf[off + c * bpc..off + (c + 1) * bpc],
                );
            }
        }
    }
}

/// Reads an image back as a top-down RGBA f32 frame of its bounds. RGB gets alpha 1; Alpha
/// gets RGB 0.
pub(crate) fn image_to_frame(layout: &ImageLayout, buf: &[u8]) -> Frame {
    let (w, h) = (layout.width(), layout.height());
    let (bpc, n) = (layout.depth.bytes(), layout.components.count());
    let mut rgba = Vec::with_capacity(w * h * 4);
    let b = layout.bounds;
    for y in (b.y1..b.y2).rev() {
        for x in b.x1..b.x2 {
            let off = layout.offset(x, y);
            let c: Vec<f32> = (0..n)
                .map(|i| decode(&buf[off + i * bpc..off + (i + 1) * bpc], layout.depth))
                .collect();
            match layout.components {
                Components::Rgba => rgba.extend_from_slice(&c),
                Components::Rgb => rgba.extend_from_slice(&[c[0], c[1], c[2], 1.0]),
                Components::Alpha => rgba.extend_from_slice(&[0.0, 0.0, 0.0, c[0]]),
            }
        }
    }
    Frame {
        width: w,
        height: h,
        rgba,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_frame() -> Frame {
        Frame::from_fn(5, 3, |x, y| {
            [x as f32 / 4.0, y as f32 / 2.0, 0.25, 1.0 - x as f32 / 8.0]
        })
    }

    #[test]
    fn round_trip_every_format() {
        let f = test_frame();
        let bounds = OfxRectI {
            x1: 0,
            y1: 0,
            x2: 5,
            y2: 3,
        };
        for depth in BitDepth::ALL {
            for comps in Components::ALL {
                for (pad, neg) in [(0, false), (7, false), (0, true), (3, true)] {
                    let l = ImageLayout::new(bounds, depth, comps, pad, neg);
                    let mut buf = vec![0u8; l.alloc_len()];
                    frame_to_image(&f, &l, &mut buf);
                    let back = image_to_frame(&l, &buf);
                    let tol = match depth {
                        BitDepth::Byte => 0.5 / 255.0 + 1e-6,
                        BitDepth::Short => 1e-4,
                        BitDepth::Half => 1e-3,
                        BitDepth::Float => 0.0,
                    };
                    for (i, (a, b)) in f.rgba.iter().zip(&back.rgba).enumerate() {
                        let expect = match (comps, i % 4) {
                            (Components::Rgb, 3) => 1.0,
                            (Components::Alpha, 0..=2) => 0.0,
                            _ => *a,
                        };
                        assert!(
                            (expect - b).abs() <= tol,
                            "{depth:?} {comps:?} {pad} {neg} [{i}] {a} {b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn negative_row_bytes_addressing() {
        let bounds = OfxRectI {
            x1: 10,
            y1: 20,
            x2: 14,
            y2: 23,
        };
        let l = ImageLayout::new(bounds, BitDepth::Float, Components::Rgba, 4, true);
        assert_eq!(l.stride, 4 * 16 + 4);
        assert_eq!(l.row_bytes(), -(68));
        // data points at the last row of the allocation: that is the bottom row (y1).
        assert_eq!(l.data_offset(), 2 * 68);
        assert_eq!(l.offset(10, 20), 2 * 68);
        assert_eq!(l.offset(11, 22), 16);
        // The top row (y2 - 1) is first in memory.
        let f = Frame::from_fn(14, 23, |x, y| [x as f32, y as f32, 0.0, 1.0]);
        let mut buf = vec![0u8; l.alloc_len()];
        frame_to_image(&f, &l, &mut buf);
        let first = f32::from_ne_bytes(buf[4..8].try_into().unwrap());
        assert_eq!(first, (23 - 1 - 22) as f32);
        let p = l.offset(12, 21);
        assert_eq!(f32::from_ne_bytes(buf[p..p + 4].try_into().unwrap()), 12.0);
        // Positive: the bottom row is first.
        let l = ImageLayout::new(bounds, BitDepth::Float, Components::Rgba, 0, false);
        assert_eq!(l.offset(10, 20), 0);
        assert_eq!(l.offset(10, 21), 64);
    }
}
