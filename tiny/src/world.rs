//! The shape world: seeded, captioned clips of moving shapes.
//!
//! # Scene
//! A clip shows one to three objects on a background. Each object is a [`Shape`] in a named
//! [`Colour`]; all objects of a clip share one [`Motion`] (the caption has one verb phrase), with
//! the same motion parameters (speed, spin rate, growth, bounce), so they move as a group. The
//! first object is the *dominant* one: it is the largest (secondaries are 55–70 % of its radius,
//! so at most about half its area), has a colour no other object has, and is drawn on top.
//!
//! # Coordinates
//! Continuous pixel coordinates: pixel `(x, y)` (column, row; rows top-down) covers
//! `[x, x+1) × [y, y+1)`, its centre is at `(x + 0.5, y + 0.5)`. "Up" is towards row 0.
//!
//! # Determinism
//! [`sample_spec`] uses its own SplitMix64 stream and only `+ − × ÷`; [`render`] additionally
//! uses `sqrt` (correctly rounded by IEEE 754) and [`sin_cos`], a polynomial built from the same
//! operations. So the same seed gives the same spec and bit-identical clip bytes on every
//! machine. (The degradation helpers [`add_gaussian_noise`] and [`gaussian_blur`] use libm and
//! are reproducible on one machine only.)
//!
//! # Captions
//! `a red circle moves left on a dark blue background`,
//! `a green star and an orange square grow on a black gradient background`,
//! `a blue ring, a white triangle and a cyan star stay still on a grey background`.
//! Grammar (case and a final full stop are ignored by [`parse_caption`]):
//! ```text
//! caption   := objects " " verb [" on a " bgcolour [" gradient"] " background"]
//! objects   := object | object " and " object | object ", " object " and " object
//! object    := ("a" | "an") " " colour " " shape
//! verb      := "moves"/"move" " " direction | "grows"/"grow" | "shrinks"/"shrink"
//!            | "spins"/"spin" | "bounces"/"bounce" | "stays still"/"stay still"
//! direction := "left" | "right" | "up" | "down" | ("up" | "down") " and " ("left" | "right")
//! ```
//! The singular verb goes with one object, the plural with several.
//!
//! # Train / held-out split
//! See [`is_held_out`]: a fixed hash of the (colour, shape, motion) names holds out about 15 % of
//! the valid triples. Every colour, shape and motion, and every *pair* of them, still occurs in
//! training; only the particular combination is new at evaluation.
#![allow(clippy::needless_range_loop)]

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// PRNG and deterministic trigonometry

/// SplitMix64: tiny, fast, and identical on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }
    /// Uniform in `[0, 1)` with 24 random bits (exact in f32).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }
    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }
    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    /// Standard normal (Box–Muller; uses libm, so only reproducible on one machine).
    pub fn normal(&mut self) -> f32 {
        let u1 = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let u2 = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        ((-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }
}

/// The SplitMix64 finaliser.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `(sin x, cos x)` from `+ − × ÷` and `round` only (quadrant reduction plus Taylor series,
/// error below 1e-15 for |x| < 1e4), so renders do not depend on the platform's libm.
pub fn sin_cos(x: f64) -> (f64, f64) {
    use std::f64::consts::FRAC_PI_2;
    let k = (x / FRAC_PI_2).round();
    let r = x - k * FRAC_PI_2;
    let r2 = r * r;
    let s = r
        * (1.0
            - r2 / 6.0
                * (1.0
                    - r2 / 20.0
                        * (1.0
                            - r2 / 42.0
                                * (1.0 - r2 / 72.0 * (1.0 - r2 / 110.0 * (1.0 - r2 / 156.0))))));
    let c = 1.0
        - r2 / 2.0
            * (1.0
                - r2 / 12.0
                    * (1.0
                        - r2 / 30.0
                            * (1.0
                                - r2 / 56.0
                                    * (1.0
                                        - r2 / 90.0 * (1.0 - r2 / 132.0 * (1.0 - r2 / 182.0))))));
    match (k as i64).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

/// Object shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Star,
    Ring,
}

impl Shape {
    pub const ALL: [Shape; 5] = [
        Shape::Circle,
        Shape::Square,
        Shape::Triangle,
        Shape::Star,
        Shape::Ring,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
            Shape::Star => "star",
            Shape::Ring => "ring",
        }
    }
    pub fn from_name(s: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|x| x.name() == s)
    }
    /// Position in [`Shape::ALL`] (the order of per-shape tables such as
    /// [`WorldConfig::shape_weights`]).
    pub fn index(self) -> usize {
        self as usize
    }
    /// Order of rotational symmetry (`None` for the rotation-invariant circle and ring).
    pub fn symmetry(self) -> Option<u32> {
        match self {
            Shape::Square => Some(4),
            Shape::Triangle => Some(3),
            Shape::Star => Some(5),
            Shape::Circle | Shape::Ring => None,
        }
    }
    /// Largest distance from the centre to the outline, in units of the object's radius.
    pub fn extent(self) -> f32 {
        match self {
            Shape::Circle | Shape::Ring => 1.0,
            Shape::Square => SQUARE_HALF_SIDE * std::f32::consts::SQRT_2,
            Shape::Triangle | Shape::Star => POLY_OUTER,
        }
    }
}

/// Half side of a square of radius 1; the outer radius of triangles and stars; a star's inner
/// radius relative to its outer one; a ring's inner radius relative to its outer one. Chosen so
/// that shapes of one radius have similar areas (circle 3.14, square 2.56, star 2.48,
/// ring 2.36, triangle 2.20 r²).
const SQUARE_HALF_SIDE: f32 = 0.8;
const POLY_OUTER: f32 = 1.3;
const STAR_INNER: f32 = 0.5;
const RING_INNER: f32 = 0.5;

/// Object colours: eight well-separated hues, each with one fixed sRGB value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Colour {
    Red,
    Orange,
    Yellow,
    Green,
    Cyan,
    Blue,
    Purple,
    White,
}

impl Colour {
    pub const ALL: [Colour; 8] = [
        Colour::Red,
        Colour::Orange,
        Colour::Yellow,
        Colour::Green,
        Colour::Cyan,
        Colour::Blue,
        Colour::Purple,
        Colour::White,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Orange => "orange",
            Colour::Yellow => "yellow",
            Colour::Green => "green",
            Colour::Cyan => "cyan",
            Colour::Blue => "blue",
            Colour::Purple => "purple",
            Colour::White => "white",
        }
    }
    pub fn from_name(s: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|x| x.name() == s)
    }
    /// 8-bit sRGB.
    pub fn rgb8(self) -> [u8; 3] {
        match self {
            Colour::Red => [225, 35, 35],
            Colour::Orange => [250, 140, 20],
            Colour::Yellow => [245, 225, 35],
            Colour::Green => [40, 190, 60],
            Colour::Cyan => [40, 215, 225],
            Colour::Blue => [45, 85, 235],
            Colour::Purple => [155, 55, 210],
            Colour::White => [245, 245, 245],
        }
    }
    /// RGB in 0..1.
    pub fn rgb(self) -> [f32; 3] {
        self.rgb8().map(|v| v as f32 / 255.0)
    }
}

/// How the objects of a clip move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Motion {
    Still,
    Left,
    Right,
    Up,
    Down,
    UpLeft,
    UpRight,
    DownLeft,
    DownRight,
    Grow,
    Shrink,
    Spin,
    Bounce,
}

impl Motion {
    pub const ALL: [Motion; 13] = [
        Motion::Still,
        Motion::Left,
        Motion::Right,
        Motion::Up,
        Motion::Down,
        Motion::UpLeft,
        Motion::UpRight,
        Motion::DownLeft,
        Motion::DownRight,
        Motion::Grow,
        Motion::Shrink,
        Motion::Spin,
        Motion::Bounce,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Motion::Still => "still",
            Motion::Left => "left",
            Motion::Right => "right",
            Motion::Up => "up",
            Motion::Down => "down",
            Motion::UpLeft => "up-left",
            Motion::UpRight => "up-right",
            Motion::DownLeft => "down-left",
            Motion::DownRight => "down-right",
            Motion::Grow => "grow",
            Motion::Shrink => "shrink",
            Motion::Spin => "spin",
            Motion::Bounce => "bounce",
        }
    }
    pub fn from_name(s: &str) -> Option<Motion> {
        Motion::ALL.into_iter().find(|x| x.name() == s)
    }
    /// The verb phrase of a caption, singular ("moves up and left") or plural ("move up and
    /// left").
    pub fn phrase(self, plural: bool) -> &'static str {
        match (self, plural) {
            (Motion::Still, false) => "stays still",
            (Motion::Still, true) => "stay still",
            (Motion::Left, false) => "moves left",
            (Motion::Left, true) => "move left",
            (Motion::Right, false) => "moves right",
            (Motion::Right, true) => "move right",
            (Motion::Up, false) => "moves up",
            (Motion::Up, true) => "move up",
            (Motion::Down, false) => "moves down",
            (Motion::Down, true) => "move down",
            (Motion::UpLeft, false) => "moves up and left",
            (Motion::UpLeft, true) => "move up and left",
            (Motion::UpRight, false) => "moves up and right",
            (Motion::UpRight, true) => "move up and right",
            (Motion::DownLeft, false) => "moves down and left",
            (Motion::DownLeft, true) => "move down and left",
            (Motion::DownRight, false) => "moves down and right",
            (Motion::DownRight, true) => "move down and right",
            (Motion::Grow, false) => "grows",
            (Motion::Grow, true) => "grow",
            (Motion::Shrink, false) => "shrinks",
            (Motion::Shrink, true) => "shrink",
            (Motion::Spin, false) => "spins",
            (Motion::Spin, true) => "spin",
            (Motion::Bounce, false) => "bounces",
            (Motion::Bounce, true) => "bounce",
        }
    }
    /// Unit direction (x right, y down) of a translating motion.
    pub fn direction(self) -> Option<[f32; 2]> {
        let d = std::f32::consts::FRAC_1_SQRT_2;
        Some(match self {
            Motion::Left => [-1.0, 0.0],
            Motion::Right => [1.0, 0.0],
            Motion::Up => [0.0, -1.0],
            Motion::Down => [0.0, 1.0],
            Motion::UpLeft => [-d, -d],
            Motion::UpRight => [d, -d],
            Motion::DownLeft => [-d, d],
            Motion::DownRight => [d, d],
            _ => return None,
        })
    }
}

/// Background colours: dark or neutral, far from every object colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BgColour {
    Black,
    DarkBlue,
    DarkGreen,
    Grey,
    Brown,
}

impl BgColour {
    pub const ALL: [BgColour; 5] = [
        BgColour::Black,
        BgColour::DarkBlue,
        BgColour::DarkGreen,
        BgColour::Grey,
        BgColour::Brown,
    ];
    pub fn name(self) -> &'static str {
        match self {
            BgColour::Black => "black",
            BgColour::DarkBlue => "dark blue",
            BgColour::DarkGreen => "dark green",
            BgColour::Grey => "grey",
            BgColour::Brown => "brown",
        }
    }
    pub fn from_name(s: &str) -> Option<BgColour> {
        let s = if s == "gray" { "grey" } else { s };
        BgColour::ALL.into_iter().find(|x| x.name() == s)
    }
    pub fn rgb8(self) -> [u8; 3] {
        match self {
            BgColour::Black => [12, 12, 14],
            BgColour::DarkBlue => [18, 28, 72],
            BgColour::DarkGreen => [16, 56, 28],
            BgColour::Grey => [112, 112, 112],
            BgColour::Brown => [84, 52, 26],
        }
    }
    pub fn rgb(self) -> [f32; 3] {
        self.rgb8().map(|v| v as f32 / 255.0)
    }
}

/// A plain background, or a vertical gradient from a lighter tint of the colour at the top
/// (`c + 0.18·(1 − c)`) to a darker shade at the bottom (`0.45·c`), linear in the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Background {
    pub colour: BgColour,
    pub gradient: bool,
}

impl Background {
    /// Colours of the top and bottom edges of the frame.
    pub fn top_bottom(&self) -> ([f32; 3], [f32; 3]) {
        let c = self.colour.rgb();
        if self.gradient {
            (c.map(|v| v + 0.18 * (1.0 - v)), c.map(|v| 0.45 * v))
        } else {
            (c, c)
        }
    }
    /// The caption's words for it ("dark blue", "grey gradient").
    pub fn name(&self) -> String {
        if self.gradient {
            format!("{} gradient", self.colour.name())
        } else {
            self.colour.name().to_string()
        }
    }
    /// All named backgrounds (plain and gradient).
    pub fn all() -> Vec<Background> {
        let mut v = Vec::new();
        for gradient in [false, true] {
            for colour in BgColour::ALL {
                v.push(Background { colour, gradient });
            }
        }
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Train / held-out split

/// Whether a shape can visibly perform a motion: circles and rings cannot spin.
pub fn is_valid(shape: Shape, motion: Motion) -> bool {
    !(motion == Motion::Spin && shape.symmetry().is_none())
}

/// The fixed held-out rule: a valid (colour, shape, motion) triple is held out iff
/// `splitmix64_finalise(fnv1a64("<colour>|<shape>|<motion>") ^ 0x7469_6e79_2d77_6c64) % 1000 < 150`
/// over the lowercase [`Colour::name`], [`Shape::name`] and [`Motion::name`] (e.g.
/// `"red|circle|up-left"`). That holds out 67 of the 504 valid triples (13.3 %); every colour,
/// shape and motion and every pair of them keeps train triples, and every colour, shape and
/// motion has held-out ones (checked by the tests). Keyed on names, so reordering the enums
/// does not change the split; adding a name adds triples without moving existing ones.
pub fn is_held_out(colour: Colour, shape: Shape, motion: Motion) -> bool {
    if !is_valid(shape, motion) {
        return false;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(colour.name().as_bytes());
    eat(b"|");
    eat(shape.name().as_bytes());
    eat(b"|");
    eat(motion.name().as_bytes());
    mix64(h ^ HELD_OUT_SALT) % 1000 < 150
}

const HELD_OUT_SALT: u64 = 0x7469_6e79_2d77_6c64; // "tiny-wld"

/// A valid triple that is not held out.
pub fn is_train(colour: Colour, shape: Shape, motion: Motion) -> bool {
    is_valid(shape, motion) && !is_held_out(colour, shape, motion)
}

/// Which part of the caption space a sampler draws the dominant object from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Split {
    /// Train triples only (for every object of the clip).
    Train,
    /// A held-out triple for the dominant object; secondaries are train triples.
    HeldOut,
    /// Any valid triple.
    Any,
}

impl Split {
    pub fn admits(self, colour: Colour, shape: Shape, motion: Motion) -> bool {
        match self {
            Split::Train => is_train(colour, shape, motion),
            Split::HeldOut => is_held_out(colour, shape, motion),
            Split::Any => is_valid(shape, motion),
        }
    }
}

/// All valid triples of a split, in enum order.
pub fn triples(split: Split) -> Vec<(Colour, Shape, Motion)> {
    split_triples(split).to_vec()
}

/// [`triples`], computed once per split.
fn split_triples(split: Split) -> &'static [(Colour, Shape, Motion)] {
    use std::sync::OnceLock;
    static CACHE: [OnceLock<Vec<(Colour, Shape, Motion)>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match split {
        Split::Train => 0,
        Split::HeldOut => 1,
        Split::Any => 2,
    };
    CACHE[slot].get_or_init(|| {
        let mut v = Vec::new();
        for c in Colour::ALL {
            for s in Shape::ALL {
                for m in Motion::ALL {
                    if split.admits(c, s, m) {
                        v.push((c, s, m));
                    }
                }
            }
        }
        v
    })
}

// ---------------------------------------------------------------------------------------------
// Specs

/// What [`sample_spec`] draws.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldConfig {
    /// Frames per clip (at least 2).
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    /// 1 to 3 (one object 50 %, two 30 %, three 20 % when 3).
    pub max_objects: usize,
    /// Probability of a gradient background.
    pub gradient_prob: f32,
    pub split: Split,
    /// Relative frequency of each shape ([`Shape::ALL`] order, all positive) among the objects
    /// drawn, e.g. to show a model more of the shapes it draws worst; `None`: every admitted
    /// (colour, shape) equally likely.
    #[serde(default)]
    pub shape_weights: Option<[f32; 5]>,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            frames: 17,
            height: 64,
            width: 64,
            max_objects: 3,
            gradient_prob: 0.3,
            split: Split::Train,
            shape_weights: None,
        }
    }
}

/// An index into `items` drawn by `cfg.shape_weights` of each item's shape, or uniformly.
fn pick_by_shape<T>(
    rng: &mut Rng,
    items: &[T],
    shape_of: impl Fn(&T) -> Shape,
    cfg: &WorldConfig,
) -> usize {
    let Some(weights) = cfg.shape_weights else {
        return rng.below(items.len());
    };
    let weight = |item: &T| weights[shape_of(item).index()];
    let total: f32 = items.iter().map(&weight).sum();
    let mut u = rng.uniform() * total;
    for (i, item) in items.iter().enumerate() {
        u -= weight(item);
        if u < 0.0 {
            return i;
        }
    }
    items.len() - 1
}

/// One object and its motion. At frame `t` (`u = t / (frames − 1)`) its pose is
/// centre `(x + velocity[0]·t, y + velocity[1]·t + bounce_height·(1 − |cos(π·bounces·u)|))`,
/// scale `1 + (end_scale − 1)·u`, rotation `angle + spin·t` (radians, clockwise on screen).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectSpec {
    pub shape: Shape,
    pub colour: Colour,
    pub motion: Motion,
    /// Centre at frame 0 (pixels); for [`Motion::Bounce`] the top of the bounce.
    pub x: f32,
    pub y: f32,
    /// Size at frame 0 in pixels (a circle's radius; see [`Shape::extent`] for the others).
    pub radius: f32,
    /// Rotation at frame 0 (radians).
    pub angle: f32,
    /// Pixels per frame; nonzero only for the eight translating motions.
    pub velocity: [f32; 2],
    /// Radians per frame; nonzero only for [`Motion::Spin`].
    pub spin: f32,
    /// Scale at the last frame: > 1 for [`Motion::Grow`], < 1 for [`Motion::Shrink`], else 1.
    pub end_scale: f32,
    /// Bounce drop in pixels and number of half-periods (floor contacts) over the clip;
    /// zero unless [`Motion::Bounce`].
    pub bounce_height: f32,
    pub bounces: f32,
}

/// Where an object is at one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    pub cx: f32,
    pub cy: f32,
    pub scale: f32,
    pub angle: f32,
}

impl ObjectSpec {
    /// The pose at frame `t` of a `frames`-frame clip; `t` may lie outside the clip (the motion
    /// extrapolates).
    pub fn pose(&self, t: f32, frames: usize) -> Pose {
        let u = if frames > 1 {
            t / (frames - 1) as f32
        } else {
            0.0
        };
        let mut cy = self.y + self.velocity[1] * t;
        if self.bounce_height != 0.0 {
            let (_, c) = sin_cos(std::f64::consts::PI * (self.bounces * u) as f64);
            cy += self.bounce_height * (1.0 - (c as f32).abs());
        }
        Pose {
            cx: self.x + self.velocity[0] * t,
            cy,
            scale: 1.0 + (self.end_scale - 1.0) * u,
            angle: self.angle + self.spin * t,
        }
    }
    /// Speed in pixels per frame (translating motions).
    pub fn speed(&self) -> f32 {
        (self.velocity[0] * self.velocity[0] + self.velocity[1] * self.velocity[1]).sqrt()
    }
}

/// A clip to render: objects (dominant first) on a background.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClipSpec {
    pub objects: Vec<ObjectSpec>,
    pub background: Background,
    pub frames: usize,
    /// `[height, width]`.
    pub size: [usize; 2],
}

/// What a caption says: the dominant object's colour, shape and motion, the background if
/// named, and the other objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaptionFacts {
    pub colour: Colour,
    pub shape: Shape,
    pub motion: Motion,
    pub background: Option<Background>,
    pub others: Vec<(Colour, Shape)>,
}

/// Draws a clip spec. The same seed and config give the same spec on every machine.
///
/// The dominant object's (colour, shape, motion) triple comes from `cfg.split`: the motion
/// uniformly, then (colour, shape) among those the split admits with it (uniformly, or by
/// `cfg.shape_weights`).
/// Secondary objects always use train triples and colours distinct from the others'.
pub fn sample_spec(rng_seed: u64, cfg: &WorldConfig) -> ClipSpec {
    assert!(cfg.frames >= 2, "a clip needs at least 2 frames");
    let mut rng = Rng::new(rng_seed ^ 0x5eed_0f5b_a9e5);
    let motion = Motion::ALL[rng.below(Motion::ALL.len())];
    let all = split_triples(cfg.split);
    let mut cands: Vec<(Colour, Shape, Motion)> =
        all.iter().copied().filter(|t| t.2 == motion).collect();
    if cands.is_empty() {
        cands = all.to_vec();
    }
    let (colour, shape, motion) = cands[pick_by_shape(&mut rng, &cands, |t| t.1, cfg)];
    let n = match cfg.max_objects.clamp(1, 3) {
        1 => 1,
        2 => 1 + (rng.uniform() < 0.4) as usize,
        _ => {
            let u = rng.uniform();
            if u < 0.5 {
                1
            } else if u < 0.8 {
                2
            } else {
                3
            }
        }
    };
    let mut objs = vec![(colour, shape)];
    for _ in 1..n {
        let others: Vec<(Colour, Shape)> = Colour::ALL
            .into_iter()
            .filter(|c| objs.iter().all(|o| o.0 != *c))
            .flat_map(|c| Shape::ALL.into_iter().map(move |s| (c, s)))
            .filter(|&(c, s)| is_train(c, s, motion))
            .collect();
        if others.is_empty() {
            break;
        }
        objs.push(others[pick_by_shape(&mut rng, &others, |o| o.1, cfg)]);
    }
    let background = Background {
        colour: BgColour::ALL[rng.below(BgColour::ALL.len())],
        gradient: rng.uniform() < cfg.gradient_prob,
    };
    build_spec(&objs, motion, background, &mut rng, cfg, false)
        .expect("the dominant object always fits")
}

/// A spec realising a caption: the described objects, motion and background (a seeded one if
/// the caption names none) at seeded positions and sizes, using the default frame count and
/// size. `None` if the caption does not parse, uses a colour twice, makes a circle or ring spin,
/// or its objects cannot all be placed.
pub fn spec_from_caption(caption: &str, seed: u64) -> Option<ClipSpec> {
    spec_from_caption_with(caption, seed, &WorldConfig::default())
}

/// [`spec_from_caption`] with the frame count and size of `cfg` (the split is ignored).
pub fn spec_from_caption_with(caption: &str, seed: u64, cfg: &WorldConfig) -> Option<ClipSpec> {
    assert!(cfg.frames >= 2, "a clip needs at least 2 frames");
    let facts = parse_caption(caption)?;
    let mut objs = vec![(facts.colour, facts.shape)];
    objs.extend(facts.others.iter().copied());
    for (i, o) in objs.iter().enumerate() {
        if !is_valid(o.1, facts.motion) || objs[..i].iter().any(|p| p.0 == o.0) {
            return None;
        }
    }
    let mut rng = Rng::new(seed ^ 0xca97_10f5_eed5);
    let background = facts.background.unwrap_or(Background {
        colour: BgColour::ALL[rng.below(BgColour::ALL.len())],
        gradient: rng.uniform() < cfg.gradient_prob,
    });
    for _ in 0..64 {
        if let Some(spec) = build_spec(&objs, facts.motion, background, &mut rng, cfg, true) {
            return Some(spec);
        }
    }
    None
}

/// Sizes, motion parameters and positions for the given objects (dominant first). Secondaries
/// that cannot be placed without overlap are dropped, or the whole attempt fails if
/// `need_all`.
fn build_spec(
    objs: &[(Colour, Shape)],
    motion: Motion,
    background: Background,
    rng: &mut Rng,
    cfg: &WorldConfig,
    need_all: bool,
) -> Option<ClipSpec> {
    let (w, h) = (cfg.width as f32, cfg.height as f32);
    let s = w.min(h);
    let steps = (cfg.frames - 1) as f32;
    const MARGIN: f32 = 1.5;

    // Dominant radius and growth.
    let (r0, end_scale) = match motion {
        Motion::Grow => {
            let g = rng.range(1.5, 1.9);
            (s * rng.range(0.14, 0.19) / g, g)
        }
        Motion::Shrink => {
            let g = rng.range(1.5, 1.9);
            (s * rng.range(0.14, 0.19), 1.0 / g)
        }
        _ => (s * rng.range(0.11, 0.17), 1.0),
    };
    let max_scale = end_scale.max(1.0);
    let mut radii = vec![r0];
    for _ in 1..objs.len() {
        radii.push(r0 * rng.range(0.55, 0.7));
    }
    let ext: Vec<f32> = objs
        .iter()
        .zip(&radii)
        .map(|(o, r)| o.1.extent() * r * max_scale)
        .collect();
    let dom_free_w = w - 2.0 * (ext[0] + MARGIN) - 1.0;
    let dom_free_h = h - 2.0 * (ext[0] + MARGIN) - 1.0;

    // Shared motion parameters; the total travel always fits the dominant object.
    let mut velocity = [0.0f32; 2];
    let mut spin = 0.0;
    let (mut bounce_height, mut bounces) = (0.0, 0.0);
    if let Some(d) = motion.direction() {
        let mut travel = s * rng.range(0.25, 0.45);
        if d[0] != 0.0 {
            travel = travel.min(dom_free_w / d[0].abs());
        }
        if d[1] != 0.0 {
            travel = travel.min(dom_free_h / d[1].abs());
        }
        velocity = [d[0] * travel / steps, d[1] * travel / steps];
    }
    if motion == Motion::Spin {
        spin = rng.range(0.12, 0.25);
        if rng.uniform() < 0.5 {
            spin = -spin;
        }
    }
    if motion == Motion::Bounce {
        bounce_height = (s * rng.range(0.25, 0.38)).min(dom_free_h);
        bounces = rng.range(1.0, 2.0);
    }
    // Offsets of the path relative to the start centre.
    let total = [velocity[0] * steps, velocity[1] * steps];
    let off_x = (total[0].min(0.0), total[0].max(0.0));
    let off_y = (total[1].min(0.0), total[1].max(0.0) + bounce_height);

    let mut placed: Vec<ObjectSpec> = Vec::new();
    for (i, &(colour, shape)) in objs.iter().enumerate() {
        let e = ext[i] + MARGIN;
        let (x_lo, x_hi) = (e - off_x.0, w - e - off_x.1);
        let (y_lo, y_hi) = (e - off_y.0, h - e - off_y.1);
        let mut ok = None;
        if x_lo <= x_hi && y_lo <= y_hi {
            for _ in 0..48 {
                let x = rng.range(x_lo, x_hi);
                let y = rng.range(y_lo, y_hi);
                let clear = placed.iter().enumerate().all(|(j, p)| {
                    let (dx, dy) = (p.x - x, p.y - y);
                    (dx * dx + dy * dy).sqrt() >= ext[i] + ext[j] + 1.0
                });
                if clear {
                    ok = Some((x, y));
                    break;
                }
            }
        }
        let Some((x, y)) = ok else {
            if i == 0 || need_all {
                return None;
            }
            continue;
        };
        let angle = if shape.symmetry().is_some() {
            rng.range(0.0, std::f32::consts::TAU)
        } else {
            0.0
        };
        placed.push(ObjectSpec {
            shape,
            colour,
            motion,
            x,
            y,
            radius: radii[i],
            angle,
            velocity,
            spin,
            end_scale,
            bounce_height,
            bounces,
        });
    }
    Some(ClipSpec {
        objects: placed,
        background,
        frames: cfg.frames,
        size: [cfg.height, cfg.width],
    })
}

// ---------------------------------------------------------------------------------------------
// Captions

fn with_article(colour: Colour, shape: Shape) -> String {
    let name = colour.name();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name} {}", shape.name())
}

/// The caption of a spec (dominant object first).
pub fn caption(spec: &ClipSpec) -> String {
    let names: Vec<String> = spec
        .objects
        .iter()
        .map(|o| with_article(o.colour, o.shape))
        .collect();
    let subject = match names.len() {
        0 => String::from("nothing"),
        1 => names[0].clone(),
        n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
    };
    let motion = spec.objects.first().map_or(Motion::Still, |o| o.motion);
    format!(
        "{subject} {} on a {} background",
        motion.phrase(spec.objects.len() > 1),
        spec.background.name()
    )
}

/// Reads a caption of the grammar in the module docs (case-insensitive, commas and a final
/// full stop optional, "gray" accepted). `None` if it does not parse.
pub fn parse_caption(caption: &str) -> Option<CaptionFacts> {
    let lower = caption.trim().trim_end_matches('.').to_lowercase();
    let cleaned = lower.replace([',', '-'], " ");
    let toks: Vec<&str> = cleaned.split_whitespace().collect();
    let mut i = 0;
    let mut objs: Vec<(Colour, Shape)> = Vec::new();
    loop {
        if !matches!(toks.get(i), Some(&"a") | Some(&"an")) {
            return None;
        }
        let colour = Colour::from_name(toks.get(i + 1)?)?;
        let shape = Shape::from_name(toks.get(i + 2)?)?;
        objs.push((colour, shape));
        i += 3;
        match toks.get(i) {
            Some(&"and") => i += 1,
            Some(&"a") | Some(&"an") => {}
            _ => break,
        }
    }
    let verb_end = toks[i..]
        .iter()
        .position(|t| *t == "on")
        .map_or(toks.len(), |p| i + p);
    let verb: Vec<&str> = toks[i..verb_end]
        .iter()
        .copied()
        .filter(|t| !matches!(*t, "and" | "to" | "the"))
        .collect();
    let head = verb.first()?.trim_end_matches('s');
    let motion = match (head, &verb[1..]) {
        ("stay" | "remain" | "sit" | "i" | "are", ["still"]) => Motion::Still,
        ("grow", []) => Motion::Grow,
        ("shrink", []) => Motion::Shrink,
        ("spin", []) => Motion::Spin,
        ("bounce", []) => Motion::Bounce,
        ("move", dirs) => match dirs {
            ["left"] => Motion::Left,
            ["right"] => Motion::Right,
            ["up"] => Motion::Up,
            ["down"] => Motion::Down,
            ["up", "left"] | ["left", "up"] => Motion::UpLeft,
            ["up", "right"] | ["right", "up"] => Motion::UpRight,
            ["down", "left"] | ["left", "down"] => Motion::DownLeft,
            ["down", "right"] | ["right", "down"] => Motion::DownRight,
            _ => return None,
        },
        _ => return None,
    };
    let mut background = None;
    if verb_end < toks.len() {
        let rest = &toks[verb_end + 1..];
        let rest = match rest.first() {
            Some(&"a") | Some(&"an") => &rest[1..],
            _ => rest,
        };
        let (words, last) = rest.split_at(rest.len().checked_sub(1)?);
        if last != ["background"] {
            return None;
        }
        let (words, gradient) = match words.split_last() {
            Some((&"gradient", w)) => (w, true),
            _ => (words, false),
        };
        let colour = BgColour::from_name(&words.join(" "))?;
        background = Some(Background { colour, gradient });
    }
    let (colour, shape) = objs[0];
    Some(CaptionFacts {
        colour,
        shape,
        motion,
        background,
        others: objs[1..].to_vec(),
    })
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// How the dominant object moves from frame `t` to `t + 1`: `p' = c₁ + scale·R(rotation)·(p − c₀)`
/// with `c₀` its centre at `t` and `c₁ = c₀ + (dx, dy)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowStep {
    pub dx: f32,
    pub dy: f32,
    /// Radians, clockwise on screen.
    pub rotation: f32,
    pub scale: f32,
}

/// A rendered clip with its ground truth.
#[derive(Clone, Debug, Default)]
pub struct Clip {
    pub num_frames: usize,
    pub height: usize,
    pub width: usize,
    /// `F×H×W×3` RGB in 0..1, row-major.
    pub frames: Vec<f32>,
    /// Per object (spec order), `F×H×W` coverage in 0..1 of the object alone (before occlusion;
    /// the dominant object is drawn last, so its coverage is also what is visible).
    pub masks: Vec<Vec<f32>>,
    /// Per object, per frame: the shape's centre `[x, y]` (which is also its area centroid).
    pub centroids: Vec<Vec<[f32; 2]>>,
    /// The dominant object's motion from each frame to the next (`F` steps; the last one is
    /// extrapolated past the clip).
    pub flow: Vec<FlowStep>,
}

impl Clip {
    /// Pixels of frame `t` (`H×W×3`).
    pub fn frame(&self, t: usize) -> &[f32] {
        let n = self.height * self.width * 3;
        &self.frames[t * n..(t + 1) * n]
    }
    /// Dense `H×W×2` flow `(dx, dy)` of the dominant object from frame `t` to `t + 1`: the
    /// motion of the object point under each pixel it covers, zero elsewhere.
    pub fn dense_flow(&self, t: usize) -> Vec<f32> {
        let (h, w) = (self.height, self.width);
        let mut out = vec![0.0; h * w * 2];
        let (Some(mask), Some(c), Some(f)) =
            (self.masks.first(), self.centroids.first(), self.flow.get(t))
        else {
            return out;
        };
        let c = c[t];
        let (s, co) = sin_cos(f.rotation as f64);
        let (s, co) = (s as f32 * f.scale, co as f32 * f.scale);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if mask[t * h * w + i] > 0.0 {
                    let (px, py) = (x as f32 + 0.5 - c[0], y as f32 + 0.5 - c[1]);
                    let nx = c[0] + f.dx + co * px - s * py;
                    let ny = c[1] + f.dy + s * px + co * py;
                    out[i * 2] = nx - (x as f32 + 0.5);
                    out[i * 2 + 1] = ny - (y as f32 + 0.5);
                }
            }
        }
        out
    }
}

/// Renders a spec.
pub fn render(spec: &ClipSpec) -> Clip {
    let mut clip = Clip::default();
    render_into(spec, &mut clip);
    clip
}

/// Renders a spec into `clip`, reusing its buffers (no allocation once they have the size).
pub fn render_into(spec: &ClipSpec, clip: &mut Clip) {
    let (nf, h, w) = (spec.frames, spec.size[0], spec.size[1]);
    let n_obj = spec.objects.len();
    clip.num_frames = nf;
    clip.height = h;
    clip.width = w;
    clip.frames.resize(nf * h * w * 3, 0.0);
    clip.masks.resize_with(n_obj, Vec::new);
    for m in &mut clip.masks {
        m.clear();
        m.resize(nf * h * w, 0.0);
    }
    clip.centroids.resize_with(n_obj, Vec::new);
    clip.flow.clear();

    // Background, frame 0, then copied.
    let (top, bottom) = spec.background.top_bottom();
    let fsz = h * w * 3;
    for y in 0..h {
        let v = (y as f32 + 0.5) / h as f32;
        let c = [0, 1, 2].map(|k| top[k] + (bottom[k] - top[k]) * v);
        for px in clip.frames[y * w * 3..(y + 1) * w * 3].chunks_exact_mut(3) {
            px.copy_from_slice(&c);
        }
    }
    let (first, rest) = clip.frames.split_at_mut(fsz);
    for f in rest.chunks_exact_mut(fsz) {
        f.copy_from_slice(first);
    }

    // Objects: secondaries first, the dominant one last (on top).
    let mut verts: Vec<[f32; 2]> = Vec::with_capacity(10);
    for (oi, obj) in spec.objects.iter().enumerate().rev() {
        let col = obj.colour.rgb();
        let cents = &mut clip.centroids[oi];
        cents.clear();
        for t in 0..nf {
            let pose = obj.pose(t as f32, nf);
            cents.push([pose.cx, pose.cy]);
            let r = obj.radius * pose.scale;
            let reach = obj.shape.extent() * r + 1.0;
            let x0 = ((pose.cx - reach).floor().max(0.0) as usize).min(w);
            let x1 = ((pose.cx + reach).ceil().max(0.0) as usize).min(w);
            let y0 = ((pose.cy - reach).floor().max(0.0) as usize).min(h);
            let y1 = ((pose.cy + reach).ceil().max(0.0) as usize).min(h);
            let mask = &mut clip.masks[oi][t * h * w..(t + 1) * h * w];
            match obj.shape {
                Shape::Circle | Shape::Ring => {
                    let inner = if obj.shape == Shape::Ring {
                        RING_INNER * r
                    } else {
                        f32::NEG_INFINITY
                    };
                    for y in y0..y1 {
                        let dy = y as f32 + 0.5 - pose.cy;
                        for x in x0..x1 {
                            let dx = x as f32 + 0.5 - pose.cx;
                            let d = (dx * dx + dy * dy).sqrt();
                            let sd = (d - r).max(inner - d);
                            mask[y * w + x] = (0.5 - sd).clamp(0.0, 1.0);
                        }
                    }
                }
                _ => {
                    polygon(obj.shape, &pose, r, &mut verts);
                    for y in y0..y1 {
                        let py = y as f32 + 0.5;
                        for x in x0..x1 {
                            let sd = polygon_sd(&verts, x as f32 + 0.5, py);
                            mask[y * w + x] = (0.5 - sd).clamp(0.0, 1.0);
                        }
                    }
                }
            }
            let frame = &mut clip.frames[t * fsz..(t + 1) * fsz];
            for y in y0..y1 {
                for x in x0..x1 {
                    let a = mask[y * w + x];
                    if a > 0.0 {
                        let p = &mut frame[(y * w + x) * 3..(y * w + x) * 3 + 3];
                        for k in 0..3 {
                            p[k] += a * (col[k] - p[k]);
                        }
                    }
                }
            }
        }
    }
    if let Some(obj) = spec.objects.first() {
        for t in 0..nf {
            let (a, b) = (obj.pose(t as f32, nf), obj.pose(t as f32 + 1.0, nf));
            clip.flow.push(FlowStep {
                dx: b.cx - a.cx,
                dy: b.cy - a.cy,
                rotation: b.angle - a.angle,
                scale: b.scale / a.scale,
            });
        }
    }
}

/// The outline of a polygonal shape at a pose (screen coordinates), first vertex "up" at
/// rotation 0.
fn polygon(shape: Shape, pose: &Pose, r: f32, out: &mut Vec<[f32; 2]>) {
    out.clear();
    let (n, radii): (usize, [f32; 2]) = match shape {
        Shape::Square => (4, [SQUARE_HALF_SIDE * std::f32::consts::SQRT_2; 2]),
        Shape::Triangle => (3, [POLY_OUTER; 2]),
        Shape::Star => (10, [POLY_OUTER, POLY_OUTER * STAR_INNER]),
        _ => unreachable!("not a polygon"),
    };
    let base = match shape {
        Shape::Square => std::f64::consts::FRAC_PI_4,
        _ => 0.0,
    };
    for i in 0..n {
        let a = pose.angle as f64 + base + std::f64::consts::TAU * i as f64 / n as f64;
        let (s, c) = sin_cos(a);
        let rr = radii[i % 2] * r;
        // Angle 0 points up (−y); positive angles turn clockwise on screen.
        out.push([pose.cx + rr * s as f32, pose.cy - rr * c as f32]);
    }
}

/// Signed distance from `(px, py)` to a closed polygon (negative inside), for convex and
/// concave outlines (after Inigo Quilez's `sdPolygon`).
fn polygon_sd(v: &[[f32; 2]], px: f32, py: f32) -> f32 {
    let n = v.len();
    let mut d = (px - v[0][0]) * (px - v[0][0]) + (py - v[0][1]) * (py - v[0][1]);
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (ex, ey) = (v[j][0] - v[i][0], v[j][1] - v[i][1]);
        let (wx, wy) = (px - v[i][0], py - v[i][1]);
        let t = ((wx * ex + wy * ey) / (ex * ex + ey * ey)).clamp(0.0, 1.0);
        let (bx, by) = (wx - ex * t, wy - ey * t);
        d = d.min(bx * bx + by * by);
        let c0 = py >= v[i][1];
        let c1 = py < v[j][1];
        let c2 = ex * wy > ey * wx;
        if (c0 && c1 && c2) || (!c0 && !c1 && !c2) {
            inside = !inside;
        }
        j = i;
    }
    if inside {
        -d.sqrt()
    } else {
        d.sqrt()
    }
}

// ---------------------------------------------------------------------------------------------
// Degradations (to mimic a model's softness in tests, or for augmentation)

/// Separable Gaussian blur of every frame and channel of an `F×H×W×3` buffer (edges clamped).
pub fn gaussian_blur(pixels: &mut [f32], frames: usize, height: usize, width: usize, sigma: f32) {
    if sigma <= 0.0 {
        return;
    }
    let rad = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-rad..=rad)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let norm: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / norm).collect();
    let (h, w) = (height as isize, width as isize);
    let mut tmp = vec![0.0f32; height * width * 3];
    let fsz = height * width * 3;
    for f in 0..frames {
        let frame = &mut pixels[f * fsz..(f + 1) * fsz];
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0f32; 3];
                for (ki, k) in kernel.iter().enumerate() {
                    let xx = (x + ki as isize - rad).clamp(0, w - 1);
                    let p = ((y * w + xx) * 3) as usize;
                    for c in 0..3 {
                        acc[c] += k * frame[p + c];
                    }
                }
                tmp[((y * w + x) * 3) as usize..((y * w + x) * 3 + 3) as usize]
                    .copy_from_slice(&acc);
            }
        }
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0f32; 3];
                for (ki, k) in kernel.iter().enumerate() {
                    let yy = (y + ki as isize - rad).clamp(0, h - 1);
                    let p = ((yy * w + x) * 3) as usize;
                    for c in 0..3 {
                        acc[c] += k * tmp[p + c];
                    }
                }
                frame[((y * w + x) * 3) as usize..((y * w + x) * 3 + 3) as usize]
                    .copy_from_slice(&acc);
            }
        }
    }
}

/// Adds i.i.d. Gaussian noise of standard deviation `sigma` and clamps to 0..1.
pub fn add_gaussian_noise(pixels: &mut [f32], sigma: f32, seed: u64) {
    let mut rng = Rng::new(seed ^ 0x0015_e5ee_d000);
    for p in pixels {
        *p = (*p + sigma * rng.normal()).clamp(0.0, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_cos_matches_libm() {
        let mut x = -20.0f64;
        while x < 20.0 {
            let (s, c) = sin_cos(x);
            assert!(
                (s - x.sin()).abs() < 1e-13 && (c - x.cos()).abs() < 1e-13,
                "{x}"
            );
            x += 0.0137;
        }
    }

    #[test]
    fn split_rule_is_stable() {
        let held = triples(Split::HeldOut).len();
        let all = triples(Split::Any).len();
        assert_eq!(all, 504);
        assert_eq!(held, 67, "the held-out rule changed");
        assert_eq!(triples(Split::Train).len(), all - held);
    }

    #[test]
    fn caption_parses_variants() {
        let f = parse_caption("A red circle moves up and left on a dark blue gradient background.")
            .unwrap();
        assert_eq!(
            (f.colour, f.shape, f.motion),
            (Colour::Red, Shape::Circle, Motion::UpLeft)
        );
        assert_eq!(
            f.background,
            Some(Background {
                colour: BgColour::DarkBlue,
                gradient: true
            })
        );
        let f = parse_caption("an orange star, a blue ring and a white square stay still").unwrap();
        assert_eq!(f.motion, Motion::Still);
        assert_eq!(
            f.others,
            vec![(Colour::Blue, Shape::Ring), (Colour::White, Shape::Square)]
        );
        assert!(f.background.is_none());
        assert!(parse_caption("a red dog moves left").is_none());
        assert!(parse_caption("a red circle dances").is_none());
        assert!(parse_caption("a red circle moves left on a pink background").is_none());
    }

    #[test]
    fn polygon_sd_signs() {
        let pose = Pose {
            cx: 10.0,
            cy: 10.0,
            scale: 1.0,
            angle: 0.0,
        };
        let mut v = Vec::new();
        polygon(Shape::Star, &pose, 5.0, &mut v);
        assert!(polygon_sd(&v, 10.0, 10.0) < -2.0);
        assert!(
            polygon_sd(&v, 10.0, 10.0 - 6.0) < 0.0,
            "the top spike is inside"
        );
        assert!(polygon_sd(&v, 30.0, 10.0) > 10.0);
    }
}
