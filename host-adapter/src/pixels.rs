//! The one place where host (OFX) images are converted to and from dreamfx's
//! canonical pixels.
//!
//! # Canonical pixels
//!
//! A [`CanonicalImage`] is RGBA `f32`, four floats per pixel, tightly packed
//! (`width * 4` floats per row), rows **top-down**, covering a rectangle
//! `bounds` in OFX pixel coordinates (`x2`/`y2` exclusive). Because OFX's y
//! axis points up, canonical row 0 is the host row `y = bounds.y2 - 1` and the
//! last canonical row is `y = bounds.y1`.
//!
//! # Host images
//!
//! A [`HostImageDesc`] describes an OFX image exactly as a host hands it over:
//! `data` points at pixel `(bounds.x1, bounds.y1)` (the bottom-left pixel), and
//! pixel `(x, y)` lives at
//! `data + (y - y1) * row_bytes + (x - x1) * bytes_per_pixel`.
//! `row_bytes` may be negative (rows go *down* in memory as y increases, i.e.
//! the buffer is top-down in memory order) and may exceed
//! `width * bytes_per_pixel` (row padding). Samples are native-endian; no
//! alignment is required of `data` or `row_bytes`.
//!
//! # Conversions
//!
//! | depth | host → canonical | canonical → host                        |
//! |-------|------------------|-----------------------------------------|
//! | `U8`  | `v / 255`        | `clamp(round(v * 255), 0, 255)`, NaN → 0 |
//! | `U16` | `v / 65535`      | `clamp(round(v * 65535), 0, 65535)`, NaN → 0 |
//! | `F16` | exact widening   | nearest `f16` (no clamping)             |
//! | `F32` | as is            | as is (no clamping)                     |
//!
//! Rounding is half-up, so an integer image read and written back is
//! bit-identical (as is an `F16` or `F32` one).
//!
//! Component layouts:
//!
//! * `Rgba`: one to one.
//! * `Rgb`: read with alpha = 1.0 (an RGB image is opaque); writing drops alpha.
//! * `Alpha`: the single channel is alpha. It is read as `R = G = B = A = value`
//!   so that effects which only process colour still see the matte (a
//!   colour-processing effect applied to a matte then processes the matte, as
//!   the user expects) and alpha-aware effects see the right alpha; writing
//!   stores canonical `A` only.
//!
//! Pixels of a read window that fall outside the host bounds read as
//! transparent black `(0, 0, 0, 0)`; writes are clipped to the host bounds.
//!
//! # Safety contract
//!
//! [`read_host_image`], [`read_into`], [`write_host_image`] and [`write_from`]
//! are `unsafe` because they dereference the host's raw pointer. Everything
//! that can be checked without dereferencing it is checked first (see
//! [`HostImageDesc::validate`]) and reported as a [`PixelError`]. The caller
//! must guarantee, for every row `y` in `bounds.y1..bounds.y2`, that the
//! `width * bytes_per_pixel` bytes starting at `data + (y - y1) * row_bytes`
//! lie inside one live allocation, are initialised, are valid for reads (and
//! for writes, when writing), are not written by anyone else for the duration
//! of the call (nor read by anyone else, when writing), and do not overlap the
//! canonical buffer.

#![warn(unsafe_op_in_unsafe_fn)]

use std::fmt;
use std::slice;

use half::f16;
use thiserror::Error;

/// Bit depth of one component of a host image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BitDepth {
    /// `kOfxBitDepthByte`: 0..=255.
    U8,
    /// `kOfxBitDepthShort`: 0..=65535.
    U16,
    /// `kOfxBitDepthHalf`: IEEE 754 binary16.
    F16,
    /// `kOfxBitDepthFloat`: IEEE 754 binary32.
    F32,
}

impl BitDepth {
    /// All depths, for iteration.
    pub const ALL: [BitDepth; 4] = [BitDepth::U8, BitDepth::U16, BitDepth::F16, BitDepth::F32];

    /// Bytes of one component.
    pub const fn bytes_per_component(self) -> usize {
        match self {
            BitDepth::U8 => 1,
            BitDepth::U16 | BitDepth::F16 => 2,
            BitDepth::F32 => 4,
        }
    }
}

/// Component layout of a host image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Components {
    /// `kOfxImageComponentRGBA`.
    Rgba,
    /// `kOfxImageComponentRGB`.
    Rgb,
    /// `kOfxImageComponentAlpha`.
    Alpha,
}

impl Components {
    /// All layouts, for iteration.
    pub const ALL: [Components; 3] = [Components::Rgba, Components::Rgb, Components::Alpha];

    /// Number of components per pixel.
    pub const fn count(self) -> usize {
        match self {
            Components::Rgba => 4,
            Components::Rgb => 3,
            Components::Alpha => 1,
        }
    }
}

/// Bytes of one host pixel with the given depth and layout.
pub const fn bytes_per_pixel(depth: BitDepth, components: Components) -> usize {
    depth.bytes_per_component() * components.count()
}

/// A pixel rectangle in OFX coordinates; `x2` and `y2` are exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
}

impl Rect {
    pub const fn new(x1: i32, y1: i32, x2: i32, y2: i32) -> Self {
        Rect { x1, y1, x2, y2 }
    }

    /// `x2 < x1` or `y2 < y1`.
    pub const fn is_inverted(self) -> bool {
        self.x2 < self.x1 || self.y2 < self.y1
    }

    /// Covers no pixel (zero width or height, or inverted).
    pub const fn is_empty(self) -> bool {
        self.x2 <= self.x1 || self.y2 <= self.y1
    }

    /// Width in pixels; 0 when inverted.
    pub fn width(self) -> usize {
        span(self.x1, self.x2)
    }

    /// Height in pixels; 0 when inverted.
    pub fn height(self) -> usize {
        span(self.y1, self.y2)
    }

    /// Number of pixels (exact: cannot overflow).
    pub fn area(self) -> u64 {
        self.width() as u64 * self.height() as u64
    }

    /// Whether pixel `(x, y)` is inside.
    pub const fn contains(self, x: i32, y: i32) -> bool {
        x >= self.x1 && x < self.x2 && y >= self.y1 && y < self.y2
    }

    /// The overlap of two rectangles. When they do not overlap the result is
    /// empty (zero width and/or height) but never inverted.
    pub fn intersect(self, other: Rect) -> Rect {
        let x1 = self.x1.max(other.x1);
        let y1 = self.y1.max(other.y1);
        Rect {
            x1,
            y1,
            x2: self.x2.min(other.x2).max(x1),
            y2: self.y2.min(other.y2).max(y1),
        }
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})..({}, {})", self.x1, self.y1, self.x2, self.y2)
    }
}

/// `b - a` as a count, 0 when `b < a`; cannot overflow.
fn span(a: i32, b: i32) -> usize {
    (i64::from(b) - i64::from(a)).max(0) as usize
}

/// Why a conversion was refused. Nothing is read or written when one is
/// returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PixelError {
    #[error("host image data pointer is null")]
    NullData,
    #[error("host image bounds {0} are empty or inverted")]
    EmptyBounds(Rect),
    #[error("rectangle {0} is inverted (x2 < x1 or y2 < y1)")]
    InvertedRect(Rect),
    #[error(
        "|row_bytes| = |{row_bytes}| is smaller than one row of pixels ({min_row_bytes} bytes)"
    )]
    RowBytesTooSmall {
        row_bytes: isize,
        min_row_bytes: usize,
    },
    #[error("canonical buffer holds {actual} floats but its rectangle needs {expected}")]
    LengthMismatch { expected: usize, actual: usize },
    #[error("image covering {0} is too large to address")]
    TooLarge(Rect),
}

/// An image as the host describes it. See the module docs for the layout and
/// the safety contract.
#[derive(Debug, Clone, Copy)]
pub struct HostImageDesc {
    /// Address of pixel `(bounds.x1, bounds.y1)`.
    pub data: *mut u8,
    /// Byte distance from row `y` to row `y + 1`; may be negative.
    pub row_bytes: isize,
    pub bounds: Rect,
    pub depth: BitDepth,
    pub components: Components,
}

impl HostImageDesc {
    pub const fn bytes_per_pixel(&self) -> usize {
        bytes_per_pixel(self.depth, self.components)
    }

    /// Checks everything that can be checked without touching the memory:
    /// non-null data, non-empty bounds, `|row_bytes|` at least one row of
    /// pixels (so rows cannot overlap), and every pixel offset representable.
    pub fn validate(&self) -> Result<(), PixelError> {
        if self.data.is_null() {
            return Err(PixelError::NullData);
        }
        if self.bounds.is_empty() {
            return Err(PixelError::EmptyBounds(self.bounds));
        }
        let too_large = PixelError::TooLarge(self.bounds);
        let min_row_bytes = self
            .bounds
            .width()
            .checked_mul(self.bytes_per_pixel())
            .ok_or_else(|| too_large.clone())?;
        let stride = self.row_bytes.unsigned_abs();
        if stride < min_row_bytes {
            return Err(PixelError::RowBytesTooSmall {
                row_bytes: self.row_bytes,
                min_row_bytes,
            });
        }
        // Extent of the image in memory; keeping it within isize makes every
        // pointer offset computed below exact.
        (self.bounds.height() - 1)
            .checked_mul(stride)
            .and_then(|v| v.checked_add(min_row_bytes))
            .filter(|&v| v <= isize::MAX.unsigned_abs())
            .map(|_| ())
            .ok_or(too_large)
    }

    /// Address of pixel `(x, y)`.
    ///
    /// # Safety
    /// `self` has passed [`validate`](Self::validate), `(x, y)` is inside
    /// `bounds`, and the module's memory contract holds.
    unsafe fn pixel_ptr(&self, x: i32, y: i32) -> *mut u8 {
        let row = span(self.bounds.y1, y) as isize * self.row_bytes;
        let col = (span(self.bounds.x1, x) * self.bytes_per_pixel()) as isize;
        // SAFETY: validate() bounds the extent by isize::MAX so neither the
        // products nor the sum overflow, and the caller guarantees the
        // address is inside the host's allocation.
        unsafe { self.data.offset(row + col) }
    }
}

/// Top-down RGBA `f32` pixels covering `bounds` (see the module docs).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CanonicalImage {
    pub bounds: Rect,
    /// `bounds.width() * bounds.height() * 4` floats; row 0 is `y = bounds.y2 - 1`.
    pub pixels: Vec<f32>,
}

impl CanonicalImage {
    /// A transparent-black image. An inverted `bounds` gives an empty image.
    ///
    /// # Panics
    /// If the image cannot be addressed in memory.
    pub fn new(bounds: Rect) -> Self {
        let len = canonical_len(bounds).expect("canonical image too large");
        CanonicalImage {
            bounds,
            pixels: vec![0.0; len],
        }
    }

    pub fn width(&self) -> usize {
        self.bounds.width()
    }

    pub fn height(&self) -> usize {
        self.bounds.height()
    }

    /// Index of pixel `(x, y)` (OFX coordinates) in units of pixels.
    fn pixel_index(&self, x: i32, y: i32) -> Option<usize> {
        self.bounds
            .contains(x, y)
            .then(|| (span(y, self.bounds.y2) - 1) * self.width() + span(self.bounds.x1, x))
    }

    /// Pixel `(x, y)` in OFX coordinates, or `None` outside `bounds`.
    pub fn pixel(&self, x: i32, y: i32) -> Option<[f32; 4]> {
        let i = self.pixel_index(x, y)?;
        self.pixels.as_chunks::<4>().0.get(i).copied()
    }

    /// Mutable pixel `(x, y)` in OFX coordinates, or `None` outside `bounds`.
    pub fn pixel_mut(&mut self, x: i32, y: i32) -> Option<&mut [f32; 4]> {
        let i = self.pixel_index(x, y)?;
        self.pixels.as_chunks_mut::<4>().0.get_mut(i)
    }

    /// The canonical row holding OFX row `y`, or `None` outside `bounds`.
    pub fn row(&self, y: i32) -> Option<&[f32]> {
        if y < self.bounds.y1 || y >= self.bounds.y2 {
            return None;
        }
        let n = self.width() * 4;
        let start = (span(y, self.bounds.y2) - 1) * n;
        self.pixels.get(start..start + n)
    }
}

/// Number of floats a canonical buffer for `rect` holds.
fn canonical_len(rect: Rect) -> Result<usize, PixelError> {
    rect.width()
        .checked_mul(rect.height())
        .and_then(|p| p.checked_mul(4))
        .filter(|&n| n <= isize::MAX.unsigned_abs() / size_of::<f32>())
        .ok_or(PixelError::TooLarge(rect))
}

fn check_not_inverted(rect: Rect) -> Result<(), PixelError> {
    if rect.is_inverted() {
        Err(PixelError::InvertedRect(rect))
    } else {
        Ok(())
    }
}

/// Reads `window` of the host image into a new canonical image. Pixels of
/// `window` outside the host bounds are transparent black. An empty `window`
/// gives an empty image.
///
/// # Safety
/// The module's memory contract must hold for `src` (reads only).
pub unsafe fn read_host_image(
    src: &HostImageDesc,
    window: Rect,
) -> Result<CanonicalImage, PixelError> {
    src.validate()?;
    check_not_inverted(window)?;
    let mut pixels = vec![0.0; canonical_len(window)?];
    // SAFETY: forwarded contract.
    unsafe { read_into(src, window, &mut pixels)? };
    Ok(CanonicalImage {
        bounds: window,
        pixels,
    })
}

/// Like [`read_host_image`] but fills a caller-provided canonical buffer of
/// exactly `window.width() * window.height() * 4` floats (top-down rows).
///
/// # Safety
/// The module's memory contract must hold for `src` (reads only).
pub unsafe fn read_into(
    src: &HostImageDesc,
    window: Rect,
    dst: &mut [f32],
) -> Result<(), PixelError> {
    src.validate()?;
    check_not_inverted(window)?;
    let expected = canonical_len(window)?;
    if dst.len() != expected {
        return Err(PixelError::LengthMismatch {
            expected,
            actual: dst.len(),
        });
    }
    if expected == 0 {
        return Ok(());
    }

    let host = src.bounds;
    let bpp = src.bytes_per_pixel();
    let row_floats = window.width() * 4;
    // Columns of `window` that the host covers: [left, left + mid) pixels.
    let cols = window.intersect(host);
    let left = span(window.x1, cols.x1) * 4;
    let mid = cols.width();

    for (r, row) in dst.chunks_exact_mut(row_floats).enumerate() {
        // Canonical row r is OFX row y2 - 1 - r (no overflow in i64).
        let y = i64::from(window.y2) - 1 - r as i64;
        if mid == 0 || y < i64::from(host.y1) || y >= i64::from(host.y2) {
            row.fill(0.0);
            continue;
        }
        let (outside_left, rest) = row.split_at_mut(left);
        let (inside, outside_right) = rest.split_at_mut(mid * 4);
        outside_left.fill(0.0);
        outside_right.fill(0.0);
        // SAFETY: (cols.x1, y) is inside the validated host bounds and the
        // `mid` pixels from it are within the row; the caller guarantees the
        // row is readable, initialised and not mutated meanwhile.
        let bytes = unsafe { slice::from_raw_parts(src.pixel_ptr(cols.x1, y as i32), mid * bpp) };
        read_row(src.depth, src.components, bytes, inside);
    }
    Ok(())
}

/// Writes a canonical image into the host image, within
/// `src.bounds ∩ dst.bounds`; host pixels outside that region (and row
/// padding) are left untouched.
///
/// # Safety
/// The module's memory contract must hold for `dst` (reads and writes).
pub unsafe fn write_host_image(
    dst: &HostImageDesc,
    src: &CanonicalImage,
) -> Result<(), PixelError> {
    // SAFETY: forwarded contract.
    unsafe { write_from(dst, src.bounds, &src.pixels) }
}

/// Like [`write_host_image`] but from a canonical buffer (top-down rows of
/// exactly `src_bounds.width() * src_bounds.height() * 4` floats).
///
/// # Safety
/// The module's memory contract must hold for `dst` (reads and writes).
pub unsafe fn write_from(
    dst: &HostImageDesc,
    src_bounds: Rect,
    src: &[f32],
) -> Result<(), PixelError> {
    dst.validate()?;
    check_not_inverted(src_bounds)?;
    let expected = canonical_len(src_bounds)?;
    if src.len() != expected {
        return Err(PixelError::LengthMismatch {
            expected,
            actual: src.len(),
        });
    }
    let region = src_bounds.intersect(dst.bounds);
    if region.is_empty() {
        return Ok(());
    }

    let bpp = dst.bytes_per_pixel();
    let row_floats = src_bounds.width() * 4;
    let col = span(src_bounds.x1, region.x1) * 4;
    let n = region.width();
    for y in region.y1..region.y2 {
        let r = span(y, src_bounds.y2) - 1;
        let start = r * row_floats + col;
        let pixels = &src[start..start + n * 4];
        // SAFETY: (region.x1, y) is inside the validated host bounds and the
        // `n` pixels from it are within the row; the caller guarantees the row
        // is writable and not otherwise accessed meanwhile. Rows never overlap
        // since |row_bytes| >= width * bpp.
        let bytes = unsafe { slice::from_raw_parts_mut(dst.pixel_ptr(region.x1, y), n * bpp) };
        write_row(dst.depth, dst.components, pixels, bytes);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Row kernels. `src`/`dst` hold exactly the same number of pixels; chunked
// iteration keeps the inner loops free of bounds checks.

fn read_row(depth: BitDepth, components: Components, src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(
        src.len() / bytes_per_pixel(depth, components),
        dst.len() / 4
    );
    match depth {
        BitDepth::U8 => expand::<1>(components, src, dst, |b| f32::from(b[0]) / 255.0),
        BitDepth::U16 => expand::<2>(components, src, dst, |b| {
            f32::from(u16::from_ne_bytes(b)) / 65535.0
        }),
        BitDepth::F16 => expand::<2>(components, src, dst, |b| {
            f16::from_bits(u16::from_ne_bytes(b)).to_f32()
        }),
        BitDepth::F32 if components == Components::Rgba => {
            // The common case: a straight copy (host memory may be unaligned,
            // so copy bytes rather than reinterpret it as f32).
            f32s_as_bytes_mut(dst).copy_from_slice(src);
        }
        BitDepth::F32 => expand::<4>(components, src, dst, f32::from_ne_bytes),
    }
}

fn write_row(depth: BitDepth, components: Components, src: &[f32], dst: &mut [u8]) {
    debug_assert_eq!(
        dst.len() / bytes_per_pixel(depth, components),
        src.len() / 4
    );
    match depth {
        // `as` saturates and maps NaN to 0; adding 0.5 before truncating
        // rounds half-up, so this is clamp(round(v * max)).
        BitDepth::U8 => pack::<1>(components, src, dst, |v| [(v * 255.0 + 0.5) as u8]),
        BitDepth::U16 => pack::<2>(components, src, dst, |v| {
            ((v * 65535.0 + 0.5) as u16).to_ne_bytes()
        }),
        BitDepth::F16 => pack::<2>(components, src, dst, |v| {
            f16::from_f32(v).to_bits().to_ne_bytes()
        }),
        BitDepth::F32 if components == Components::Rgba => {
            dst.copy_from_slice(f32s_as_bytes(src));
        }
        BitDepth::F32 => pack::<4>(components, src, dst, f32::to_ne_bytes),
    }
}

/// Host samples of `N` bytes → canonical RGBA.
#[inline]
fn expand<const N: usize>(
    components: Components,
    src: &[u8],
    dst: &mut [f32],
    load: impl Fn([u8; N]) -> f32,
) {
    let samples = src.as_chunks::<N>().0;
    match components {
        Components::Rgba => {
            for (d, s) in dst.iter_mut().zip(samples) {
                *d = load(*s);
            }
        }
        Components::Rgb => {
            let out = dst.as_chunks_mut::<4>().0;
            for (d, s) in out.iter_mut().zip(samples.as_chunks::<3>().0) {
                *d = [load(s[0]), load(s[1]), load(s[2]), 1.0];
            }
        }
        Components::Alpha => {
            let out = dst.as_chunks_mut::<4>().0;
            for (d, s) in out.iter_mut().zip(samples) {
                *d = [load(*s); 4];
            }
        }
    }
}

/// Canonical RGBA → host samples of `N` bytes.
#[inline]
fn pack<const N: usize>(
    components: Components,
    src: &[f32],
    dst: &mut [u8],
    store: impl Fn(f32) -> [u8; N],
) {
    let samples = dst.as_chunks_mut::<N>().0;
    match components {
        Components::Rgba => {
            for (d, s) in samples.iter_mut().zip(src) {
                *d = store(*s);
            }
        }
        Components::Rgb => {
            let pixels = src.as_chunks::<4>().0;
            for (d, s) in samples.as_chunks_mut::<3>().0.iter_mut().zip(pixels) {
                *d = [store(s[0]), store(s[1]), store(s[2])];
            }
        }
        Components::Alpha => {
            for (d, s) in samples.iter_mut().zip(src.as_chunks::<4>().0) {
                *d = store(s[3]);
            }
        }
    }
}

fn f32s_as_bytes(s: &[f32]) -> &[u8] {
    // SAFETY: same memory, u8 has alignment 1 and every byte of an f32 is
    // initialised.
    unsafe { slice::from_raw_parts(s.as_ptr().cast::<u8>(), size_of_val(s)) }
}

fn f32s_as_bytes_mut(s: &mut [f32]) -> &mut [u8] {
    // SAFETY: as above, and every bit pattern is a valid f32.
    unsafe { slice::from_raw_parts_mut(s.as_mut_ptr().cast::<u8>(), size_of_val(s)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::{self, NonNull};

    const SENTINEL: u8 = 0xA5;

    /// A host image in a real buffer. Pixel addresses are computed here with
    /// the OFX formula, independently of the code under test.
    struct HostBuf {
        mem: Vec<u8>,
        /// Byte offset in `mem` of pixel (x1, y1).
        base: usize,
        row_bytes: isize,
        bounds: Rect,
        depth: BitDepth,
        components: Components,
    }

    impl HostBuf {
        /// `pad` extra bytes per row; `top_down_memory` gives a negative
        /// row_bytes; `misalign` leading bytes before the image.
        fn new(
            bounds: Rect,
            depth: BitDepth,
            components: Components,
            pad: usize,
            top_down_memory: bool,
            misalign: usize,
        ) -> Self {
            let stride = bounds.width() * bytes_per_pixel(depth, components) + pad;
            let h = bounds.height();
            let mem = vec![SENTINEL; misalign + h * stride + 3];
            let base = if top_down_memory {
                misalign + (h - 1) * stride
            } else {
                misalign
            };
            let row_bytes = if top_down_memory {
                -(stride as isize)
            } else {
                stride as isize
            };
            HostBuf {
                mem,
                base,
                row_bytes,
                bounds,
                depth,
                components,
            }
        }

        fn simple(bounds: Rect, depth: BitDepth, components: Components) -> Self {
            Self::new(bounds, depth, components, 0, false, 0)
        }

        fn desc(&mut self) -> HostImageDesc {
            HostImageDesc {
                // Derived from the whole buffer: negative strides reach
                // bytes before `base`.
                data: self.mem.as_mut_ptr().wrapping_add(self.base),
                row_bytes: self.row_bytes,
                bounds: self.bounds,
                depth: self.depth,
                components: self.components,
            }
        }

        fn offset(&self, x: i32, y: i32, c: usize) -> usize {
            assert!(self.bounds.contains(x, y));
            let bpc = self.depth.bytes_per_component();
            let bpp = bytes_per_pixel(self.depth, self.components) as isize;
            (self.base as isize
                + (y - self.bounds.y1) as isize * self.row_bytes
                + (x - self.bounds.x1) as isize * bpp
                + (c * bpc) as isize) as usize
        }

        fn set_raw(&mut self, x: i32, y: i32, c: usize, raw: u32) {
            let o = self.offset(x, y, c);
            match self.depth.bytes_per_component() {
                1 => self.mem[o] = raw as u8,
                2 => self.mem[o..o + 2].copy_from_slice(&(raw as u16).to_ne_bytes()),
                _ => self.mem[o..o + 4].copy_from_slice(&raw.to_ne_bytes()),
            }
        }

        fn get_raw(&self, x: i32, y: i32, c: usize) -> u32 {
            let o = self.offset(x, y, c);
            match self.depth.bytes_per_component() {
                1 => u32::from(self.mem[o]),
                2 => u32::from(u16::from_ne_bytes([self.mem[o], self.mem[o + 1]])),
                _ => u32::from_ne_bytes(self.mem[o..o + 4].try_into().unwrap()),
            }
        }

        /// Sets every sample to a pseudo-random valid raw value.
        fn fill_pattern(&mut self, seed: u32) {
            let b = self.bounds;
            for y in b.y1..b.y2 {
                for x in b.x1..b.x2 {
                    for c in 0..self.components.count() {
                        let h = hash(seed, x, y, c);
                        let raw = match self.depth {
                            BitDepth::U8 => h & 0xFF,
                            BitDepth::U16 => h & 0xFFFF,
                            BitDepth::F16 => {
                                u32::from(f16::from_f32(unit(h) * 4.0 - 2.0).to_bits())
                            }
                            BitDepth::F32 => (unit(h) * 4.0 - 2.0).to_bits(),
                        };
                        self.set_raw(x, y, c, raw);
                    }
                }
            }
        }

        /// Expected canonical value of a raw sample.
        fn decode(&self, raw: u32) -> f32 {
            match self.depth {
                BitDepth::U8 => raw as f32 / 255.0,
                BitDepth::U16 => raw as f32 / 65535.0,
                BitDepth::F16 => f16::from_bits(raw as u16).to_f32(),
                BitDepth::F32 => f32::from_bits(raw),
            }
        }

        /// Expected canonical pixel at (x, y).
        fn expected(&self, x: i32, y: i32) -> [f32; 4] {
            let v = |c| self.decode(self.get_raw(x, y, c));
            match self.components {
                Components::Rgba => [v(0), v(1), v(2), v(3)],
                Components::Rgb => [v(0), v(1), v(2), 1.0],
                Components::Alpha => [v(0); 4],
            }
        }

        /// Whether `mem[i]` belongs to a pixel.
        fn pixel_byte_mask(&self) -> Vec<bool> {
            let mut mask = vec![false; self.mem.len()];
            let row = self.bounds.width() * bytes_per_pixel(self.depth, self.components);
            for y in self.bounds.y1..self.bounds.y2 {
                let o = self.offset(self.bounds.x1, y, 0);
                mask[o..o + row].fill(true);
            }
            mask
        }

        /// Pixel bytes only, in (y, x) order.
        fn payload(&self) -> Vec<u8> {
            let row = self.bounds.width() * bytes_per_pixel(self.depth, self.components);
            (self.bounds.y1..self.bounds.y2)
                .flat_map(|y| {
                    let o = self.offset(self.bounds.x1, y, 0);
                    self.mem[o..o + row].to_vec()
                })
                .collect()
        }

        /// Every byte that is not a pixel (padding, misalignment, tail) still
        /// holds the sentinel.
        fn non_pixel_bytes_intact(&self) -> bool {
            self.pixel_byte_mask()
                .iter()
                .zip(&self.mem)
                .all(|(&is_pixel, &b)| is_pixel || b == SENTINEL)
        }
    }

    fn hash(seed: u32, x: i32, y: i32, c: usize) -> u32 {
        let mut h = seed
            .wrapping_mul(0x9E37_79B9)
            .wrapping_add((x as u32).wrapping_mul(0x85EB_CA6B))
            .wrapping_add((y as u32).wrapping_mul(0xC2B2_AE35))
            .wrapping_add((c as u32).wrapping_mul(0x27D4_EB2F));
        h ^= h >> 15;
        h = h.wrapping_mul(0x2C1B_3C6D);
        h ^= h >> 12;
        h
    }

    fn unit(h: u32) -> f32 {
        (h >> 8) as f32 / (1u32 << 24) as f32
    }

    fn read(buf: &mut HostBuf, window: Rect) -> CanonicalImage {
        let desc = buf.desc();
        unsafe { read_host_image(&desc, window) }.expect("read")
    }

    fn write(buf: &mut HostBuf, img: &CanonicalImage) {
        let desc = buf.desc();
        unsafe { write_host_image(&desc, img) }.expect("write");
    }

    fn dangling_desc(bounds: Rect, row_bytes: isize) -> HostImageDesc {
        HostImageDesc {
            data: NonNull::<u8>::dangling().as_ptr(),
            row_bytes,
            bounds,
            depth: BitDepth::F32,
            components: Components::Rgba,
        }
    }

    #[test]
    fn bytes_per_pixel_table() {
        use BitDepth::*;
        use Components::*;
        let table = [
            (U8, Rgba, 4),
            (U8, Rgb, 3),
            (U8, Alpha, 1),
            (U16, Rgba, 8),
            (U16, Rgb, 6),
            (U16, Alpha, 2),
            (F16, Rgba, 8),
            (F16, Rgb, 6),
            (F16, Alpha, 2),
            (F32, Rgba, 16),
            (F32, Rgb, 12),
            (F32, Alpha, 4),
        ];
        for (d, c, n) in table {
            assert_eq!(bytes_per_pixel(d, c), n, "{d:?} {c:?}");
        }
    }

    #[test]
    fn rect_geometry() {
        let r = Rect::new(-2, -3, 4, 5);
        assert_eq!((r.width(), r.height(), r.area()), (6, 8, 48));
        assert!(r.contains(-2, -3) && r.contains(3, 4));
        assert!(!r.contains(4, 0) && !r.contains(0, 5) && !r.contains(-3, 0));
        assert_eq!(r.intersect(Rect::new(0, 0, 10, 10)), Rect::new(0, 0, 4, 5));
        let disjoint = r.intersect(Rect::new(10, 10, 20, 20));
        assert!(disjoint.is_empty() && !disjoint.is_inverted());
        assert_eq!(disjoint.width(), 0);
        let inverted = Rect::new(3, 0, 1, 2);
        assert!(inverted.is_inverted() && inverted.is_empty());
        assert_eq!((inverted.width(), inverted.area()), (0, 0));
        let huge = Rect::new(i32::MIN, i32::MIN, i32::MAX, i32::MAX);
        assert_eq!(huge.width(), u32::MAX as usize);
        assert_eq!(huge.area(), u64::from(u32::MAX) * u64::from(u32::MAX));
    }

    /// Every depth × layout × memory layout: the canonical values are the
    /// documented conversions of the raw samples, and writing them back
    /// reproduces the host bytes exactly (f16 → f32 → f16 is lossless too),
    /// without touching padding.
    #[test]
    fn round_trip_every_depth_and_layout() {
        let bounds = Rect::new(-3, -2, 5, 4);
        for depth in BitDepth::ALL {
            for components in Components::ALL {
                for (pad, top_down, misalign) in
                    [(0, false, 0), (0, true, 0), (7, false, 1), (5, true, 3)]
                {
                    let what = format!("{depth:?} {components:?} pad={pad} top_down={top_down}");
                    let mut a = HostBuf::new(bounds, depth, components, pad, top_down, misalign);
                    a.fill_pattern(17);
                    let img = read(&mut a, bounds);
                    assert_eq!(img.pixels.len(), 8 * 6 * 4, "{what}");
                    for y in bounds.y1..bounds.y2 {
                        for x in bounds.x1..bounds.x2 {
                            assert_eq!(img.pixel(x, y), Some(a.expected(x, y)), "{what} ({x},{y})");
                        }
                    }
                    let mut b = HostBuf::new(bounds, depth, components, pad, top_down, misalign);
                    write(&mut b, &img);
                    assert_eq!(b.payload(), a.payload(), "{what}");
                    assert!(b.non_pixel_bytes_intact(), "{what}");
                }
            }
        }
    }

    #[test]
    fn u8_every_value_round_trips_exactly() {
        let bounds = Rect::new(0, 0, 256, 1);
        let mut a = HostBuf::simple(bounds, BitDepth::U8, Components::Alpha);
        for v in 0..256 {
            a.set_raw(v, 0, 0, v as u32);
        }
        let img = read(&mut a, bounds);
        for v in 0..256 {
            assert_eq!(img.pixel(v, 0), Some([v as f32 / 255.0; 4]));
        }
        assert_eq!(img.pixel(255, 0), Some([1.0; 4]));
        let mut b = HostBuf::simple(bounds, BitDepth::U8, Components::Alpha);
        write(&mut b, &img);
        assert_eq!(a.payload(), b.payload());
    }

    #[test]
    fn u16_every_value_round_trips_exactly() {
        let bounds = Rect::new(0, 0, 256, 256);
        let mut a = HostBuf::simple(bounds, BitDepth::U16, Components::Alpha);
        for y in 0..256 {
            for x in 0..256 {
                a.set_raw(x, y, 0, (y * 256 + x) as u32);
            }
        }
        let img = read(&mut a, bounds);
        assert_eq!(img.pixel(255, 255), Some([1.0; 4]));
        assert_eq!(img.pixel(0, 0), Some([0.0; 4]));
        let mut b = HostBuf::simple(bounds, BitDepth::U16, Components::Alpha);
        write(&mut b, &img);
        assert_eq!(a.payload(), b.payload());
    }

    #[test]
    fn integer_writes_round_and_clamp() {
        let values = [
            -0.25,
            0.0,
            0.2,
            127.4 / 255.0,
            127.6 / 255.0,
            0.5,
            1.0,
            2.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        let expect_u8 = [0, 0, 51, 127, 128, 128, 255, 255, 0, 255, 0];
        let expect_u16 = [0, 0, 13107, 32742, 32793, 32768, 65535, 65535, 0, 65535, 0];
        let bounds = Rect::new(0, 0, values.len() as i32, 1);
        let mut img = CanonicalImage::new(bounds);
        for (x, v) in values.iter().enumerate() {
            *img.pixel_mut(x as i32, 0).unwrap() = [*v; 4];
        }
        for (depth, expect) in [(BitDepth::U8, &expect_u8), (BitDepth::U16, &expect_u16)] {
            let mut host = HostBuf::simple(bounds, depth, Components::Rgba);
            write(&mut host, &img);
            for (x, e) in expect.iter().enumerate() {
                for c in 0..4 {
                    assert_eq!(
                        host.get_raw(x as i32, 0, c),
                        *e,
                        "{depth:?} value {}",
                        values[x]
                    );
                }
            }
        }
    }

    #[test]
    fn f16_write_is_within_half_precision() {
        let bounds = Rect::new(0, 0, 64, 3);
        let mut img = CanonicalImage::new(bounds);
        for (i, v) in img.pixels.iter_mut().enumerate() {
            let mag = 1e-3 * 1.1f32.powi(i as i32 % 97);
            *v = if i % 3 == 0 { -mag } else { mag };
        }
        img.pixels[0] = 0.0;
        for components in Components::ALL {
            let mut host = HostBuf::simple(bounds, BitDepth::F16, components);
            write(&mut host, &img);
            let back = read(&mut host, bounds);
            for y in bounds.y1..bounds.y2 {
                for x in bounds.x1..bounds.x2 {
                    let want = img.pixel(x, y).unwrap();
                    let got = back.pixel(x, y).unwrap();
                    let channels: &[(usize, usize)] = match components {
                        Components::Rgba => &[(0, 0), (1, 1), (2, 2), (3, 3)],
                        Components::Rgb => &[(0, 0), (1, 1), (2, 2)],
                        Components::Alpha => &[(3, 0), (3, 1), (3, 2), (3, 3)],
                    };
                    for &(w, g) in channels {
                        let tol = want[w].abs() * 2f32.powi(-11);
                        assert!(
                            (got[g] - want[w]).abs() <= tol,
                            "{components:?} ({x},{y}) {} vs {}",
                            got[g],
                            want[w]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn rgb_reads_opaque_and_write_drops_alpha() {
        let bounds = Rect::new(0, 0, 2, 1);
        let mut host = HostBuf::simple(bounds, BitDepth::U8, Components::Rgb);
        for (c, v) in [10, 20, 30].into_iter().enumerate() {
            host.set_raw(0, 0, c, v);
        }
        let img = read(&mut host, bounds);
        assert_eq!(
            img.pixel(0, 0),
            Some([10.0 / 255.0, 20.0 / 255.0, 30.0 / 255.0, 1.0])
        );

        let mut out = CanonicalImage::new(bounds);
        *out.pixel_mut(1, 0).unwrap() = [1.0, 0.0, 1.0, 0.0];
        let mut dst = HostBuf::simple(bounds, BitDepth::F32, Components::Rgb);
        write(&mut dst, &out);
        let raw: Vec<f32> = (0..3)
            .map(|c| f32::from_bits(dst.get_raw(1, 0, c)))
            .collect();
        assert_eq!(raw, [1.0, 0.0, 1.0]);
        assert!(dst.non_pixel_bytes_intact());
    }

    #[test]
    fn alpha_only_replicates_on_read_and_writes_alpha() {
        let bounds = Rect::new(0, 0, 2, 1);
        let mut host = HostBuf::simple(bounds, BitDepth::F32, Components::Alpha);
        host.set_raw(0, 0, 0, 0.25f32.to_bits());
        host.set_raw(1, 0, 0, 0.75f32.to_bits());
        let img = read(&mut host, bounds);
        assert_eq!(
            img.pixels,
            [0.25; 4].into_iter().chain([0.75; 4]).collect::<Vec<_>>()
        );

        let mut out = CanonicalImage::new(bounds);
        *out.pixel_mut(0, 0).unwrap() = [1.0, 1.0, 1.0, 0.5];
        *out.pixel_mut(1, 0).unwrap() = [0.0, 0.0, 0.0, 1.0];
        let mut dst = HostBuf::simple(bounds, BitDepth::U16, Components::Alpha);
        write(&mut dst, &out);
        assert_eq!((dst.get_raw(0, 0, 0), dst.get_raw(1, 0, 0)), (32768, 65535));
    }

    /// OFX rows go up; canonical rows go down. A pixel at y = y2 - 1 is in
    /// canonical row 0, one at y = y1 in the last row, for both strides.
    #[test]
    fn orientation_top_row_is_y2_minus_1() {
        let bounds = Rect::new(0, 0, 3, 2);
        for top_down in [false, true] {
            let mut host = HostBuf::new(bounds, BitDepth::U8, Components::Rgba, 0, top_down, 0);
            host.mem.fill(0);
            host.set_raw(0, 1, 0, 255); // top-left: red
            host.set_raw(2, 0, 1, 255); // bottom-right: green
            let img = read(&mut host, bounds);
            assert_eq!(
                &img.pixels[0..4],
                &[1.0, 0.0, 0.0, 0.0],
                "top_down={top_down}"
            );
            assert_eq!(
                &img.pixels[(3 + 2) * 4..],
                &[0.0, 1.0, 0.0, 0.0],
                "top_down={top_down}"
            );
            assert_eq!(img.row(1).unwrap(), &img.pixels[..12]);

            // And back: canonical row 0 lands on y = y2 - 1.
            let mut out = CanonicalImage::new(bounds);
            out.pixels[4..8].copy_from_slice(&[0.0, 0.0, 1.0, 1.0]); // row 0, x = 1
            let mut dst = HostBuf::new(bounds, BitDepth::U8, Components::Rgba, 0, top_down, 0);
            write(&mut dst, &out);
            assert_eq!(dst.get_raw(1, 1, 2), 255);
            assert_eq!(dst.get_raw(1, 0, 2), 0);
        }
    }

    /// With a negative row_bytes the memory is top-down: the lowest address
    /// holds row y2 - 1, and `data` points at the last row in memory.
    #[test]
    fn negative_row_bytes() {
        let bounds = Rect::new(0, 0, 2, 3);
        let rows = [[1u8, 2], [3, 4], [5, 6]]; // memory order: y = 2, 1, 0
        let mut mem: Vec<u8> = rows.iter().flatten().copied().collect();
        let desc = HostImageDesc {
            data: mem.as_mut_ptr().wrapping_add(4),
            row_bytes: -2,
            bounds,
            depth: BitDepth::U8,
            components: Components::Alpha,
        };
        let img = unsafe { read_host_image(&desc, bounds) }.unwrap();
        let alphas: Vec<f32> = img
            .pixels
            .iter()
            .skip(3)
            .step_by(4)
            .map(|a| a * 255.0)
            .collect();
        assert_eq!(alphas, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(img.pixel(0, 2), Some([1.0 / 255.0; 4]));
        assert_eq!(img.pixel(1, 0), Some([6.0 / 255.0; 4]));

        let mut out = img.clone();
        for v in &mut out.pixels {
            *v = 1.0 - *v;
        }
        unsafe { write_host_image(&desc, &out) }.unwrap();
        assert_eq!(mem, [254, 253, 252, 251, 250, 249]);
    }

    #[test]
    fn row_padding_is_skipped_and_preserved() {
        let bounds = Rect::new(0, 0, 3, 4);
        let mut host = HostBuf::new(bounds, BitDepth::F32, Components::Rgba, 13, false, 0);
        assert_eq!(host.row_bytes, 3 * 16 + 13);
        host.fill_pattern(3);
        let img = read(&mut host, bounds);
        for y in 0..4 {
            for x in 0..3 {
                assert_eq!(img.pixel(x, y), Some(host.expected(x, y)));
            }
        }
        let mut dst = HostBuf::new(bounds, BitDepth::F32, Components::Rgba, 13, false, 0);
        write(&mut dst, &img);
        assert_eq!(dst.payload(), host.payload());
        assert!(dst.non_pixel_bytes_intact());
    }

    #[test]
    fn bounds_with_negative_origin() {
        let bounds = Rect::new(-4, -3, 0, 0);
        let mut host = HostBuf::simple(bounds, BitDepth::U16, Components::Rgba);
        host.mem.fill(0);
        host.set_raw(-4, -3, 0, 65535); // bottom-left, at `data`
        host.set_raw(-1, -1, 3, 65535); // top-right
        assert_eq!(host.offset(-4, -3, 0), 0);
        let img = read(&mut host, bounds);
        assert_eq!(img.pixel(-4, -3), Some([1.0, 0.0, 0.0, 0.0]));
        assert_eq!(&img.pixels[(2 * 4) * 4..][..4], &[1.0, 0.0, 0.0, 0.0]);
        assert_eq!(&img.pixels[3 * 4..][..4], &[0.0, 0.0, 0.0, 1.0]);

        // A window with a negative origin inside the host.
        let window = Rect::new(-2, -2, 0, 0);
        let sub = read(&mut host, window);
        assert_eq!(sub.pixel(-1, -1), Some([0.0, 0.0, 0.0, 1.0]));
        assert_eq!(sub.pixels.iter().filter(|v| **v != 0.0).count(), 1);
    }

    #[test]
    fn window_partly_outside_reads_transparent_black() {
        let host_bounds = Rect::new(0, 0, 4, 4);
        let mut host = HostBuf::new(host_bounds, BitDepth::U8, Components::Rgb, 2, true, 0);
        host.fill_pattern(9);
        let window = Rect::new(-2, 2, 3, 7);
        let img = read(&mut host, window);
        assert_eq!(img.pixels.len(), 5 * 5 * 4);
        let mut inside = 0;
        for y in window.y1..window.y2 {
            for x in window.x1..window.x2 {
                let want = if host_bounds.contains(x, y) {
                    inside += 1;
                    host.expected(x, y)
                } else {
                    [0.0; 4]
                };
                assert_eq!(img.pixel(x, y), Some(want), "({x},{y})");
            }
        }
        assert_eq!(inside, 3 * 2);

        // read_into agrees and overwrites stale contents.
        let mut buf = vec![f32::NAN; img.pixels.len()];
        unsafe { read_into(&host.desc(), window, &mut buf) }.unwrap();
        assert_eq!(buf, img.pixels);
    }

    #[test]
    fn window_fully_outside_or_empty() {
        let bounds = Rect::new(0, 0, 4, 4);
        let mut host = HostBuf::simple(bounds, BitDepth::F16, Components::Rgba);
        host.fill_pattern(1);
        for window in [
            Rect::new(10, 0, 12, 2),
            Rect::new(0, -5, 4, 0),
            Rect::new(-3, -3, -1, -1),
        ] {
            let img = read(&mut host, window);
            assert_eq!(img.pixels.len(), window.width() * window.height() * 4);
            assert!(img.pixels.iter().all(|v| *v == 0.0), "{window}");
        }
        let img = read(&mut host, Rect::new(2, 2, 2, 3));
        assert!(img.pixels.is_empty());
    }

    #[test]
    fn write_clips_to_host_bounds() {
        let host_bounds = Rect::new(0, 0, 4, 3);
        let mut host = HostBuf::new(host_bounds, BitDepth::U8, Components::Rgba, 3, true, 2);
        let mut img = CanonicalImage::new(Rect::new(-2, -2, 10, 10));
        img.pixels.fill(1.0);
        write(&mut host, &img);
        assert!(host.payload().iter().all(|b| *b == 255));
        assert!(host.non_pixel_bytes_intact());

        // A canonical image smaller than the host writes only its region.
        let mut host = HostBuf::simple(host_bounds, BitDepth::U8, Components::Alpha);
        host.mem.fill(0);
        let mut small = CanonicalImage::new(Rect::new(1, 1, 3, 5));
        small.pixels.fill(1.0);
        write(&mut host, &small);
        for y in 0..3 {
            for x in 0..4 {
                let want = if (1..3).contains(&x) && y >= 1 {
                    255
                } else {
                    0
                };
                assert_eq!(host.get_raw(x, y, 0), want, "({x},{y})");
            }
        }

        // Disjoint: nothing written.
        let mut far = CanonicalImage::new(Rect::new(100, 100, 101, 101));
        far.pixels.fill(1.0);
        let before = host.mem.clone();
        write(&mut host, &far);
        assert_eq!(host.mem, before);
    }

    #[test]
    fn unaligned_host_memory() {
        let bounds = Rect::new(0, 0, 5, 3);
        for depth in [BitDepth::U16, BitDepth::F16, BitDepth::F32] {
            for components in Components::ALL {
                let mut a = HostBuf::new(bounds, depth, components, 1, false, 1);
                a.fill_pattern(5);
                let img = read(&mut a, bounds);
                assert_eq!(img.pixel(4, 2), Some(a.expected(4, 2)));
                let mut b = HostBuf::new(bounds, depth, components, 1, false, 1);
                write(&mut b, &img);
                assert_eq!(a.payload(), b.payload(), "{depth:?} {components:?}");
            }
        }
    }

    #[test]
    fn canonical_image_accessors() {
        let mut img = CanonicalImage::new(Rect::new(-1, -1, 2, 1));
        assert_eq!((img.width(), img.height(), img.pixels.len()), (3, 2, 24));
        *img.pixel_mut(-1, 0).unwrap() = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(&img.pixels[..4], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(img.pixel(2, 0), None);
        assert!(img.pixel_mut(0, 1).is_none());
        assert_eq!(img.row(0).unwrap()[..4], [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(img.row(-1).unwrap(), &img.pixels[12..]);
        assert!(img.row(1).is_none());
        assert!(CanonicalImage::new(Rect::new(2, 2, 1, 1)).pixels.is_empty());
    }

    #[test]
    fn error_null_data() {
        let mut desc = dangling_desc(Rect::new(0, 0, 1, 1), 16);
        desc.data = ptr::null_mut();
        assert_eq!(desc.validate(), Err(PixelError::NullData));
        let r = unsafe { read_host_image(&desc, desc.bounds) };
        assert_eq!(r, Err(PixelError::NullData));
        let img = CanonicalImage::new(desc.bounds);
        assert_eq!(
            unsafe { write_host_image(&desc, &img) },
            Err(PixelError::NullData)
        );
    }

    #[test]
    fn error_empty_or_inverted_bounds() {
        for bounds in [
            Rect::new(0, 0, 0, 4),
            Rect::new(0, 0, 4, 0),
            Rect::new(5, 0, 4, 4),
            Rect::new(0, 5, 4, 4),
        ] {
            let desc = dangling_desc(bounds, 64);
            assert_eq!(desc.validate(), Err(PixelError::EmptyBounds(bounds)));
            let r = unsafe { read_host_image(&desc, Rect::new(0, 0, 1, 1)) };
            assert_eq!(r, Err(PixelError::EmptyBounds(bounds)));
        }
    }

    #[test]
    fn error_row_bytes_too_small() {
        let bounds = Rect::new(0, 0, 4, 2);
        for row_bytes in [0, 63, -63, 1, -1] {
            let desc = dangling_desc(bounds, row_bytes);
            let want = PixelError::RowBytesTooSmall {
                row_bytes,
                min_row_bytes: 64,
            };
            assert_eq!(desc.validate(), Err(want.clone()));
            assert_eq!(unsafe { read_host_image(&desc, bounds) }, Err(want.clone()));
            let img = CanonicalImage::new(bounds);
            assert_eq!(unsafe { write_host_image(&desc, &img) }, Err(want));
        }
        assert_eq!(dangling_desc(bounds, 64).validate(), Ok(()));
        assert_eq!(dangling_desc(bounds, -64).validate(), Ok(()));
    }

    #[test]
    fn error_inverted_window_and_length_mismatch() {
        let bounds = Rect::new(0, 0, 2, 2);
        let mut host = HostBuf::simple(bounds, BitDepth::F32, Components::Rgba);
        let desc = host.desc();
        let inverted = Rect::new(1, 0, 0, 2);
        assert_eq!(
            unsafe { read_host_image(&desc, inverted) },
            Err(PixelError::InvertedRect(inverted))
        );
        let bad = CanonicalImage {
            bounds: inverted,
            pixels: vec![],
        };
        assert_eq!(
            unsafe { write_host_image(&desc, &bad) },
            Err(PixelError::InvertedRect(inverted))
        );

        let mut short = vec![0.0; 15];
        assert_eq!(
            unsafe { read_into(&desc, bounds, &mut short) },
            Err(PixelError::LengthMismatch {
                expected: 16,
                actual: 15
            })
        );
        let bad = CanonicalImage {
            bounds,
            pixels: vec![0.5; 17],
        };
        assert_eq!(
            unsafe { write_host_image(&desc, &bad) },
            Err(PixelError::LengthMismatch {
                expected: 16,
                actual: 17
            })
        );
        assert!(
            host.mem.iter().all(|b| *b == SENTINEL),
            "nothing written on error"
        );
    }

    #[test]
    fn error_too_large() {
        let huge = Rect::new(i32::MIN, i32::MIN, i32::MAX, i32::MAX);
        let desc = dangling_desc(huge, isize::MAX);
        assert_eq!(desc.validate(), Err(PixelError::TooLarge(huge)));
        let mut small = vec![0.0; 4];
        let ok = dangling_desc(Rect::new(0, 0, 1, 1), 16);
        assert_eq!(
            unsafe { read_into(&ok, huge, &mut small) },
            Err(PixelError::TooLarge(huge))
        );
        assert_eq!(
            unsafe { read_host_image(&ok, huge) },
            Err(PixelError::TooLarge(huge))
        );
    }

    #[test]
    fn errors_display() {
        let e = PixelError::RowBytesTooSmall {
            row_bytes: -3,
            min_row_bytes: 16,
        };
        assert!(e.to_string().contains("16 bytes"));
        assert!(PixelError::EmptyBounds(Rect::new(0, 0, 0, 1))
            .to_string()
            .contains("(0, 0)..(0, 1)"));
    }
}
