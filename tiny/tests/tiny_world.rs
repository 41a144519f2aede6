//! The dreamfx-tiny shape world and its checkers: determinism, captions, the held-out split,
//! and checker accuracy on clean and softened renders.
use dreamfx_tiny::checkers::{detect, frame0_psnr, psnr, score, ClipRef};
use dreamfx_tiny::world::{
    add_gaussian_noise, caption, gaussian_blur, is_held_out, is_train, is_valid, parse_caption,
    render, render_into, sample_spec, spec_from_caption, triples, Clip, Colour, Motion, Shape,
    Split, WorldConfig,
};
use std::collections::BTreeMap;
use std::time::Instant;

fn cfg(split: Split) -> WorldConfig {
    WorldConfig {
        split,
        ..WorldConfig::default()
    }
}

fn bytes(c: &Clip) -> Vec<u8> {
    c.frames.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn same_seed_same_clip_different_seed_different_clip() {
    for split in [Split::Train, Split::HeldOut] {
        for seed in 0..20u64 {
            let a = sample_spec(seed, &cfg(split));
            let b = sample_spec(seed, &cfg(split));
            assert_eq!(a, b);
            let (ra, rb) = (render(&a), render(&b));
            assert_eq!(bytes(&ra), bytes(&rb), "seed {seed}");
            assert_eq!(ra.masks, rb.masks);
            let c = sample_spec(seed + 1000, &cfg(split));
            assert_ne!(a, c);
            assert_ne!(bytes(&ra), bytes(&render(&c)));
            // Reusing buffers gives the same bytes.
            let mut reuse = render(&c);
            render_into(&a, &mut reuse);
            assert_eq!(bytes(&ra), bytes(&reuse));
            assert_eq!(reuse.masks.len(), a.objects.len());
        }
    }
    // A fixed seed pins spec and bytes across machines and versions (only +, −, ×, ÷ and sqrt
    // enter them): change these only on purpose, it changes the training data.
    let spec = sample_spec(7, &WorldConfig::default());
    assert_eq!(
        caption(&spec),
        "a white ring moves up on a brown background"
    );
    let hash = blake3::hash(&bytes(&render(&spec)));
    assert_eq!(
        hash.to_hex().as_str(),
        "7e2f5c360a0f5bf3051d887d8cb3c7562f0c51f36753bc0a2628697807c93f94"
    );
}

#[test]
fn clip_shape_range_and_ground_truth() {
    let spec = sample_spec(3, &WorldConfig::default());
    let clip = render(&spec);
    assert_eq!((clip.num_frames, clip.height, clip.width), (17, 64, 64));
    assert_eq!(clip.frames.len(), 17 * 64 * 64 * 3);
    assert!(clip.frames.iter().all(|v| (0.0..=1.0).contains(v)));
    // The dominant object's coverage centroid is its centre, and flow steps match centres.
    for seed in 0..40u64 {
        let spec = sample_spec(seed, &WorldConfig::default());
        let clip = render(&spec);
        let (h, w) = (clip.height, clip.width);
        for t in 0..clip.num_frames {
            let m = &clip.masks[0][t * h * w..(t + 1) * h * w];
            let (mut s, mut sx, mut sy) = (0.0f32, 0.0f32, 0.0f32);
            for (i, a) in m.iter().enumerate() {
                s += a;
                sx += a * ((i % w) as f32 + 0.5);
                sy += a * ((i / w) as f32 + 0.5);
            }
            let c = clip.centroids[0][t];
            assert!(
                (sx / s - c[0]).abs() < 0.1 && (sy / s - c[1]).abs() < 0.1,
                "seed {seed} t {t}: mask centroid ({}, {}) vs {:?}",
                sx / s,
                sy / s,
                c
            );
            if t + 1 < clip.num_frames {
                let f = clip.flow[t];
                let c1 = clip.centroids[0][t + 1];
                assert!((c[0] + f.dx - c1[0]).abs() < 1e-4 && (c[1] + f.dy - c1[1]).abs() < 1e-4);
            }
        }
        assert_eq!(clip.flow.len(), clip.num_frames);
        // Dense flow carries interior pixels of frame t into the object at frame t + 1.
        for t in [0, clip.num_frames / 2] {
            let dense = clip.dense_flow(t);
            assert_eq!(dense.len(), h * w * 2);
            let next = &clip.masks[0][(t + 1) * h * w..(t + 2) * h * w];
            for i in 0..h * w {
                if clip.masks[0][t * h * w + i] >= 1.0 {
                    let x = (i % w) as f32 + 0.5 + dense[i * 2];
                    let y = (i / w) as f32 + 0.5 + dense[i * 2 + 1];
                    let (xi, yi) = (x.floor() as usize, y.floor() as usize);
                    assert!(
                        next[yi.min(h - 1) * w + xi.min(w - 1)] > 0.0,
                        "seed {seed} t {t}: flow leaves the object"
                    );
                }
            }
        }
    }
    // Other sizes work.
    let small = WorldConfig {
        frames: 9,
        height: 48,
        width: 80,
        ..WorldConfig::default()
    };
    for seed in 0..20 {
        let clip = render(&sample_spec(seed, &small));
        assert_eq!(clip.frames.len(), 9 * 48 * 80 * 3);
    }
}

#[test]
fn captions_round_trip() {
    let mut seen_counts = BTreeMap::new();
    for split in [Split::Train, Split::HeldOut, Split::Any] {
        for seed in 0..1500u64 {
            let spec = sample_spec(seed, &cfg(split));
            let cap = caption(&spec);
            let facts = parse_caption(&cap).unwrap_or_else(|| panic!("unparsed: {cap}"));
            let d = &spec.objects[0];
            assert_eq!(
                (facts.colour, facts.shape, facts.motion),
                (d.colour, d.shape, d.motion)
            );
            assert_eq!(facts.background, Some(spec.background));
            let others: Vec<(Colour, Shape)> = spec.objects[1..]
                .iter()
                .map(|o| (o.colour, o.shape))
                .collect();
            assert_eq!(facts.others, others, "{cap}");
            *seen_counts.entry(spec.objects.len()).or_insert(0) += 1;
            if seed % 10 == 0 {
                let again = spec_from_caption(&cap, seed).unwrap_or_else(|| panic!("{cap}"));
                assert_eq!(caption(&again), cap);
                // Also case, full stop and a missing background.
                let upper = format!("{}.", cap.to_uppercase());
                assert_eq!(parse_caption(&upper).as_ref(), Some(&facts));
                let short = cap.split(" on a ").next().unwrap();
                let f2 = parse_caption(short).unwrap();
                assert_eq!(
                    (f2.colour, f2.shape, f2.motion),
                    (d.colour, d.shape, d.motion)
                );
                assert!(spec_from_caption(short, seed).is_some(), "{short}");
            }
        }
    }
    println!("object counts: {seen_counts:?}");
    let examples: Vec<String> = (0..6u64)
        .map(|s| caption(&sample_spec(s, &WorldConfig::default())))
        .collect();
    println!("example captions:\n  {}", examples.join("\n  "));
    assert!(spec_from_caption("a red circle spins", 0).is_none());
    assert!(spec_from_caption("a red circle and a red star move up", 0).is_none());
}

/// `shape_weights` shifts how often each shape is drawn (dominant objects: per motion, a
/// train (colour, shape) in proportion to its shape's weight) and never leaves the split.
#[test]
fn shape_weights_set_how_often_each_shape_is_drawn() {
    for (i, s) in Shape::ALL.iter().enumerate() {
        assert_eq!(s.index(), i, "{s:?}");
    }
    let weights = [1.0f32, 4.0, 2.0, 3.0, 0.5];
    let weighted = WorldConfig {
        shape_weights: Some(weights),
        ..cfg(Split::Train)
    };
    let train = triples(Split::Train);
    let weight = |s: Shape| weights[s.index()] as f64;
    // The expected share of each shape among dominant objects.
    let mut expected = [0.0f64; 5];
    for m in Motion::ALL {
        let cands: Vec<_> = train.iter().filter(|t| t.2 == m).collect();
        let total: f64 = cands.iter().map(|t| weight(t.1)).sum();
        for t in cands {
            expected[t.1.index()] += weight(t.1) / total / Motion::ALL.len() as f64;
        }
    }
    let n = 20_000u64;
    let (mut counts, mut uniform_counts) = ([0u64; 5], [0u64; 5]);
    for seed in 0..n {
        let spec = sample_spec(seed, &weighted);
        for o in &spec.objects {
            assert!(
                is_train(o.colour, o.shape, o.motion),
                "{o:?} left the split"
            );
        }
        let d = &spec.objects[0];
        counts[d.shape.index()] += 1;
        let u = &sample_spec(seed, &cfg(Split::Train)).objects[0];
        uniform_counts[u.shape.index()] += 1;
    }
    for i in 0..5 {
        let share = counts[i] as f64 / n as f64;
        assert!(
            (share - expected[i]).abs() < 0.015,
            "{:?}: drawn {share:.3}, expected {:.3}",
            Shape::ALL[i],
            expected[i]
        );
    }
    // Squares (weight 4) far more often than rings (weight 0.5), and than without weights.
    assert!(counts[1] > 5 * counts[4], "{counts:?}");
    assert!(
        counts[1] as f64 > 1.5 * uniform_counts[1] as f64,
        "{counts:?} {uniform_counts:?}"
    );
}

#[test]
fn held_out_split() {
    let train = triples(Split::Train);
    let held = triples(Split::HeldOut);
    let all = triples(Split::Any);
    let frac = held.len() as f64 / all.len() as f64;
    println!(
        "valid triples {}, train {}, held out {} ({:.1} %)",
        all.len(),
        train.len(),
        held.len(),
        100.0 * frac
    );
    assert!((0.10..0.20).contains(&frac));
    for c in Colour::ALL {
        assert!(train.iter().any(|t| t.0 == c), "{c:?} never trained");
        assert!(held.iter().any(|t| t.0 == c), "{c:?} never held out");
        for s in Shape::ALL {
            assert!(train.iter().any(|t| t.0 == c && t.1 == s), "{c:?} {s:?}");
        }
        for m in Motion::ALL {
            assert!(train.iter().any(|t| t.0 == c && t.2 == m), "{c:?} {m:?}");
        }
    }
    for s in Shape::ALL {
        assert!(train.iter().any(|t| t.1 == s), "{s:?} never trained");
        for m in Motion::ALL {
            if is_valid(s, m) {
                assert!(train.iter().any(|t| t.1 == s && t.2 == m), "{s:?} {m:?}");
            }
        }
    }
    for m in Motion::ALL {
        assert!(train.iter().any(|t| t.2 == m), "{m:?} never trained");
        assert!(held.iter().any(|t| t.2 == m), "{m:?} never held out");
    }
    println!(
        "held out: {}",
        held.iter()
            .map(|(c, s, m)| format!("{}/{}/{}", c.name(), s.name(), m.name()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    // The samplers respect the split.
    for seed in 0..3000u64 {
        let spec = sample_spec(seed, &cfg(Split::Train));
        for o in &spec.objects {
            assert!(is_train(o.colour, o.shape, o.motion), "seed {seed}");
        }
        let spec = sample_spec(seed, &cfg(Split::HeldOut));
        let d = &spec.objects[0];
        assert!(is_held_out(d.colour, d.shape, d.motion), "seed {seed}");
        for o in &spec.objects[1..] {
            assert!(is_train(o.colour, o.shape, o.motion), "seed {seed}");
        }
    }
}

#[derive(Default)]
struct Tally {
    n: usize,
    colour: usize,
    shape: usize,
    motion: usize,
    shape_errs: BTreeMap<String, usize>,
    motion_errs: BTreeMap<String, usize>,
}

impl Tally {
    fn pct(&self, k: usize) -> f64 {
        100.0 * k as f64 / self.n as f64
    }
}

/// How hard [`measure`] degrades the renders.
#[derive(Clone, Copy, Debug)]
enum Degrade {
    Clean,
    /// Blur σ ∈ [0.6, 1.2] px, noise σ = 0.03.
    Soft,
    /// Blur σ ∈ [1.2, 2.0] px, noise σ = 0.05, per-clip gain 0.85–1.10 and offset ±0.03.
    Harsh,
}

impl Degrade {
    fn label(self) -> &'static str {
        match self {
            Degrade::Clean => "clean",
            Degrade::Soft => "soft (blur σ 0.6–1.2 px, noise σ 0.03)",
            Degrade::Harsh => {
                "harsh (blur σ 1.2–2.0 px, noise σ 0.05, gain 0.85–1.10, offset ±0.03)"
            }
        }
    }
}

/// Runs the checkers on `n` clips per split (train and held-out).
fn measure(n: u64, degrade: Degrade) -> Tally {
    let mut tally = Tally::default();
    for split in [Split::Train, Split::HeldOut] {
        for seed in 0..n {
            let seed = seed + 100_000;
            let spec = sample_spec(seed, &cfg(split));
            let mut clip = render(&spec);
            let (f, h, w) = (clip.num_frames, clip.height, clip.width);
            let u = |k: u64| ((seed * 7 + k) % 11) as f32 / 10.0;
            match degrade {
                Degrade::Clean => {}
                Degrade::Soft => {
                    gaussian_blur(&mut clip.frames, f, h, w, 0.6 + 0.6 * u(1));
                    add_gaussian_noise(&mut clip.frames, 0.03, seed);
                }
                Degrade::Harsh => {
                    gaussian_blur(&mut clip.frames, f, h, w, 1.2 + 0.8 * u(1));
                    let (gain, offset) = (0.85 + 0.25 * u(2), 0.06 * u(3) - 0.03);
                    for v in &mut clip.frames {
                        *v = *v * gain + offset;
                    }
                    add_gaussian_noise(&mut clip.frames, 0.05, seed);
                }
            }
            let cap = caption(&spec);
            let s = score(&ClipRef::from(&clip), &cap).unwrap();
            tally.n += 1;
            tally.colour += s.colour_ok as usize;
            tally.shape += s.shape_ok as usize;
            tally.motion += s.motion_ok as usize;
            if !s.shape_ok {
                *tally
                    .shape_errs
                    .entry(format!(
                        "{}→{:?}",
                        s.expected.shape.name(),
                        s.detected.shape.map(|x| x.name())
                    ))
                    .or_default() += 1;
            }
            if !s.motion_ok {
                *tally
                    .motion_errs
                    .entry(format!(
                        "{}→{:?}",
                        s.expected.motion.name(),
                        s.detected.motion.map(|x| x.name())
                    ))
                    .or_default() += 1;
            }
            if std::env::var_os("TINY_MARGINS").is_some() {
                let d = &s.detected;
                println!(
                    "MARGIN {:?} {} {} h {:?} hole {:.2} ratio {:.2} rot {:.2} travel {:.1} rev {} yr {:.1}",
                    degrade,
                    s.expected.shape.name(),
                    s.expected.motion.name(),
                    d.shape_harmonics,
                    d.hole_fraction,
                    d.area_ratio,
                    d.rotation,
                    (d.velocity[0].hypot(d.velocity[1])) * 16.0,
                    d.y_reversals,
                    d.y_range
                );
            }
            if !s.all_ok() && std::env::var_os("TINY_VERBOSE").is_some() {
                let d = &s.detected;
                println!(
                    "MISS seed {seed} {cap}: got {:?} {:?} {:?} harm {:?} hole {:.2} v {:?} ratio {:.2} rot {:.2} rev {} yr {:.1}",
                    d.colour, d.shape, d.motion, d.shape_harmonics, d.hole_fraction,
                    d.velocity, d.area_ratio, d.rotation, d.y_reversals, d.y_range
                );
            }
        }
    }
    tally
}

#[test]
fn checker_accuracy_on_renders() {
    let n = 250;
    for degrade in [Degrade::Clean, Degrade::Soft, Degrade::Harsh] {
        let t0 = Instant::now();
        let tally = measure(n, degrade);
        let label = degrade.label();
        println!(
            "checker accuracy, {} clips ({n} train + {n} held-out), {label}: colour {:.1} %, shape {:.1} %, motion {:.1} % ({:.1} ms/clip incl. render+degrade, this build's profile)",
            tally.n,
            tally.pct(tally.colour),
            tally.pct(tally.shape),
            tally.pct(tally.motion),
            t0.elapsed().as_secs_f64() * 1e3 / tally.n as f64
        );
        println!("  shape errors: {:?}", tally.shape_errs);
        println!("  motion errors: {:?}", tally.motion_errs);
        assert!(tally.pct(tally.colour) >= 98.0, "{label}: colour");
        assert!(tally.pct(tally.shape) >= 90.0, "{label}: shape");
        assert!(tally.pct(tally.motion) >= 90.0, "{label}: motion");
    }
}

#[test]
fn confusion_sanity() {
    for (i, (cap, shape)) in [
        (
            "a red circle moves left on a black background",
            Shape::Circle,
        ),
        (
            "a red square moves left on a black background",
            Shape::Square,
        ),
        (
            "a red triangle stays still on a grey background",
            Shape::Triangle,
        ),
        ("a red star grows on a dark blue background", Shape::Star),
        ("a red ring bounces on a dark green background", Shape::Ring),
    ]
    .into_iter()
    .enumerate()
    {
        for seed in 0..5u64 {
            let spec = spec_from_caption(cap, seed * 31 + i as u64).unwrap();
            let mut clip = render(&spec);
            gaussian_blur(&mut clip.frames, clip.num_frames, 64, 64, 0.8);
            let d = detect(&ClipRef::from(&clip));
            assert_eq!(d.colour, Some(Colour::Red), "{cap}");
            assert_eq!(
                d.shape,
                Some(shape),
                "{cap} seed {seed}: {:?}",
                d.shape_harmonics
            );
            let s = score(&ClipRef::from(&clip), cap).unwrap();
            assert!(s.all_ok(), "{cap}: {:?}", d.motion);
            // Each frame's own outline names the shape too (what `dreamfx tiny-eval`'s per-frame
            // line counts), and a frame with no object names none.
            let per_frame: Vec<_> = d.frames.iter().map(|f| f.shape()).collect();
            assert!(
                per_frame.iter().all(|&s| s == Some(shape)),
                "{cap} seed {seed}: {per_frame:?}"
            );
        }
    }
    // A red circle is not a red square, a blue circle is not red, moving left is not right.
    let spec = spec_from_caption("a red circle moves left on a black background", 1).unwrap();
    let clip = render(&spec);
    let view = ClipRef::from(&clip);
    let s = score(&view, "a red square moves left on a black background").unwrap();
    assert!(s.colour_ok && !s.shape_ok && s.motion_ok);
    let s = score(&view, "a blue circle moves left").unwrap();
    assert!(!s.colour_ok && s.shape_ok);
    let s = score(&view, "a red circle moves right").unwrap();
    assert!(!s.motion_ok);
    // An empty clip detects nothing and fails everything.
    let empty = vec![0.1f32; 17 * 64 * 64 * 3];
    let s = score(&ClipRef::new(&empty, 17, 64, 64), "a red circle moves left").unwrap();
    assert!(!s.colour_ok && !s.shape_ok && !s.motion_ok);
    // A circle that leaves after frame 8: its later frames name no shape.
    let spec = spec_from_caption("a red circle stays still on a black background", 2).unwrap();
    let mut clip = render(&spec);
    let frame_len = 64 * 64 * 3;
    let background: Vec<f32> = clip.frames[..3].to_vec();
    for px in clip.frames[9 * frame_len..].chunks_mut(3) {
        px.copy_from_slice(&background);
    }
    let shapes: Vec<_> = detect(&ClipRef::from(&clip))
        .frames
        .iter()
        .map(|f| f.shape())
        .collect();
    assert_eq!(shapes.len(), 17);
    assert!(
        shapes[..9].iter().all(|&s| s == Some(Shape::Circle)),
        "{shapes:?}"
    );
    assert!(shapes[9..].iter().all(|s| s.is_none()), "{shapes:?}");
}

#[test]
fn background_detection_and_frame0_psnr() {
    let mut ok = 0;
    let n = 100;
    for seed in 0..n {
        let spec = sample_spec(seed, &WorldConfig::default());
        let clip = render(&spec);
        let d = detect(&ClipRef::from(&clip));
        ok += (d.background == spec.background) as usize;
    }
    println!("background named correctly in {ok}/{n} clean clips");
    assert!(ok >= 97);
    let spec = spec_from_caption("a green star moves right on a grey background", 5).unwrap();
    let clip = render(&spec);
    let view = ClipRef::from(&clip);
    assert!(frame0_psnr(&view, clip.frame(0)).is_infinite());
    let mut soft = clip.frame(0).to_vec();
    gaussian_blur(&mut soft, 1, 64, 64, 1.0);
    let p = frame0_psnr(&view, &soft);
    assert!(p > 20.0 && p < 60.0, "{p}");
    assert!(psnr(clip.frame(0), clip.frame(16)) < psnr(clip.frame(0), clip.frame(1)));
}

#[test]
fn render_speed() {
    let cfg = WorldConfig::default();
    let specs: Vec<_> = (0..300u64).map(|s| sample_spec(s, &cfg)).collect();
    let mut clip = Clip::default();
    let t0 = Instant::now();
    for s in &specs {
        render_into(s, &mut clip);
    }
    let per = t0.elapsed().as_secs_f64() * 1e3 / specs.len() as f64;
    let t1 = Instant::now();
    for s in 0..3000u64 {
        std::hint::black_box(sample_spec(s, &cfg));
    }
    let per_spec = t1.elapsed().as_secs_f64() * 1e6 / 3000.0;
    println!(
        "render 17×64×64: {per:.3} ms/clip with buffer reuse; sample_spec {per_spec:.1} µs (this build's profile)"
    );
}
