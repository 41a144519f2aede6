//! Properties of the one pixel converter, over random depths, components, sizes, bounds
//! offsets and row strides (padded, negative): writing then reading gives the host depth's
//! quantisation of the values (exact in float), quantising twice changes nothing, and a read
//! window larger than the image is zero outside it.
use dreamfx_host_adapter::pixels::{
    read_into, write_from, BitDepth, Components, HostImageDesc, Rect,
};
use proptest::prelude::*;

fn depth() -> impl Strategy<Value = BitDepth> {
    prop_oneof![
        Just(BitDepth::U8),
        Just(BitDepth::U16),
        Just(BitDepth::F16),
        Just(BitDepth::F32)
    ]
}
fn components() -> impl Strategy<Value = Components> {
    prop_oneof![
        Just(Components::Rgba),
        Just(Components::Rgb),
        Just(Components::Alpha)
    ]
}

/// A host image over `buf`, rows `stride` bytes apart, bottom row first in memory unless
/// `negative` (then the top row is first and the row bytes are negative).
fn desc(
    buf: &mut [u8],
    bounds: Rect,
    stride: usize,
    negative: bool,
    depth: BitDepth,
    components: Components,
) -> HostImageDesc {
    let rows = (bounds.y2 - bounds.y1) as usize;
    let (data, row_bytes) = if negative {
        (buf[(rows - 1) * stride..].as_mut_ptr(), -(stride as isize))
    } else {
        (buf.as_mut_ptr(), stride as isize)
    };
    HostImageDesc {
        data,
        row_bytes,
        bounds,
        depth,
        components,
    }
}

fn step(depth: BitDepth) -> f32 {
    match depth {
        BitDepth::U8 => 0.5 / 255.0 + 1e-6,
        BitDepth::U16 => 0.5 / 65535.0 + 1e-6,
        BitDepth::F16 => 1e-3,
        BitDepth::F32 => 0.0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn write_then_read_quantises_once_and_leaves_the_outside_black(
        depth in depth(),
        components in components(),
        (w, h) in (1i32..10, 1i32..8),
        (x1, y1) in (-4i32..4, -4i32..4),
        padding in 0usize..9,
        negative in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let bounds = Rect::new(x1, y1, x1 + w, y1 + h);
        let bpp = HostImageDesc { data: std::ptr::null_mut(), row_bytes: 0, bounds, depth, components }
            .bytes_per_pixel();
        let stride = w as usize * bpp + padding;
        let mut buf = vec![0u8; stride * h as usize];
        let d = desc(&mut buf, bounds, stride, negative, depth, components);
        let n = (w * h * 4) as usize;
        // Deterministic values in 0..1 from the seed (proptest shrinks the seed).
        let src: Vec<f32> = (0..n as u64)
            .map(|i| ((seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 40) as f32 / (1u64 << 24) as f32)
            .collect();
        let mut once = vec![0f32; n];
        let mut twice = vec![0f32; n];
        unsafe {
            write_from(&d, bounds, &src).unwrap();
            read_into(&d, bounds, &mut once).unwrap();
            write_from(&d, bounds, &once).unwrap();
            read_into(&d, bounds, &mut twice).unwrap();
        }
        prop_assert_eq!(&once, &twice, "quantising twice changed the values");
        if components == Components::Rgba {
            for (a, b) in once.iter().zip(&src) {
                prop_assert!((a - b).abs() <= step(depth) * b.abs().max(1.0), "{} vs {}", a, b);
            }
        }
        let wide = Rect::new(x1 - 2, y1 - 2, x1 + w + 2, y1 + h + 2);
        let mut around = vec![1f32; ((w + 4) * (h + 4) * 4) as usize];
        unsafe { read_into(&d, wide, &mut around).unwrap() };
        for (i, px) in around.chunks_exact(4).enumerate() {
            let (col, row) = (i as i32 % (w + 4), i as i32 / (w + 4));
            let inside = (2..w + 2).contains(&col) && (2..h + 2).contains(&row);
            if inside {
                let j = (((row - 2) * w + (col - 2)) * 4) as usize;
                prop_assert_eq!(px, &once[j..j + 4]);
            } else {
                prop_assert_eq!(px, &[0.0; 4][..]);
            }
        }
    }
}
